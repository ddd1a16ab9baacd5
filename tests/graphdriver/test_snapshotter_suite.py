"""containerd's snapshotter test cases that apply to graph drivers, each compared with a
flat reference folder built with plain os calls.

Two ways through: straight on the driver (Prepare = create_read_write + get, Commit = put,
View = create + get), and through the LayerStore the way `docker commit` goes (RW layer ->
tar stream -> register -> a new RW layer on top), so the tar round trip is checked too.

containerd: core/snapshots/testsuite/testsuite.go, issues.go, helpers.go
"""

from __future__ import annotations

import errno

import pytest

from dockerlayers.layer import LayerStore
from dockerlayers.stringid import IDGenerator
from tests.graphdriver.fstest import (
    Chown,
    CreateDir,
    CreateFile,
    Link,
    RemoveAll,
    Rename,
    apply_all,
    assert_same_tree,
    snapshot,
)

ids = IDGenerator()


def check_snapshots_driver(driver, flat: str, appliers: list[list]) -> None:
    parent = None
    for applier in appliers:
        layer = ids.generate_random_id()
        driver.create_read_write(layer, parent)
        fs = driver.get(layer)
        try:
            apply_all(applier, fs)
        finally:
            driver.put(layer)
        apply_all(applier, flat)
        view = ids.generate_random_id()
        driver.create(view, layer)
        fs = driver.get(view)
        try:
            assert_same_tree(snapshot(flat), snapshot(fs))
        finally:
            driver.put(view)
        driver.remove(view)
        parent = layer


def check_snapshots_store(driver, root: str, flat: str, appliers: list[list]) -> None:
    store = LayerStore(root, driver)
    parent = None
    for i, applier in enumerate(appliers):
        rw = store.create_rw_layer(f"build-{i}", parent)
        fs = rw.mount()
        apply_all(applier, fs)
        apply_all(applier, flat)
        with rw.tar_stream() as tar:
            layer = store.register(tar, parent)
        rw.unmount()
        store.release_rw_layer(rw)
        parent = layer.chain_id
        view = store.create_rw_layer(f"view-{i}", parent)
        try:
            assert_same_tree(snapshot(flat), snapshot(view.mount()))
        finally:
            view.unmount()
            store.release_rw_layer(view)


@pytest.fixture(params=["driver", "layerstore"])
def check(request, driver, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()

    def run(*appliers):
        if request.param == "driver":
            check_snapshots_driver(driver, str(flat), list(appliers))
        else:
            check_snapshots_store(driver, str(tmp_path / "root"), str(flat), list(appliers))

    run.driver = driver
    return run


def test_layer_file_update(check, naive_diff_wait):
    """moby issue 21555: content and mode updates of /etc files in an upper layer (same
    size, same second as the layer below was extracted: vfs needs moby's wait)."""
    l1 = [
        CreateDir("/etc", 0o700),
        CreateFile("/etc/hosts", b"mydomain 10.0.0.1", 0o644),
        CreateFile("/etc/profile", b"PATH=/usr/bin", 0o644),
    ]
    l2 = [
        CreateFile("/etc/hosts", b"mydomain 10.0.0.2", 0o644),
        CreateFile("/etc/profile", b"PATH=/usr/bin", 0o666),
        CreateDir("/root", 0o700),
        CreateFile("/root/.bashrc", b"PATH=/usr/sbin:/usr/bin", 0o644),
    ]
    check(l1, l2)


def test_remove_directory_in_lower_layer(check):
    """moby issue 25244: a folder removed and made again hides what was below."""
    l1 = [CreateDir("/lib", 0o700), CreateFile("/lib/hidden", b"", 0o644)]
    l2 = [RemoveAll("/lib"), CreateDir("/lib", 0o700), CreateFile("/lib/not-hidden", b"", 0o644)]
    l3 = [CreateFile("/lib/newfile", b"", 0o644)]
    check(l1, l2, l3)


def test_chown(check):
    """moby issues 20240, 24913, 28391."""
    l1 = [
        CreateDir("/opt", 0o700),
        CreateDir("/opt/a", 0o700),
        CreateDir("/opt/a/b", 0o700),
        CreateFile("/opt/a/b/file.txt", b"hello", 0o644),
    ]
    l2 = [Chown(p, 1, 1) for p in ("/opt", "/opt/a", "/opt/a/b", "/opt/a/b/file.txt")]
    check(l1, l2)


def test_directory_permission_on_commit(check):
    """moby issue 27298."""
    l1 = [
        CreateDir("/dir1", 0o700),
        CreateDir("/dir2", 0o700),
        CreateDir("/dir3", 0o700),
        CreateDir("/dir4", 0o700),
        CreateFile("/dir4/f1", b"...", 0o644),
        CreateDir("/dir5", 0o700),
        CreateFile("/dir5/f1", b"...", 0o644),
        Chown("/dir1", 1, 1),
        Chown("/dir2", 1, 1),
        Chown("/dir3", 1, 1),
        Chown("/dir5", 1, 1),
        Chown("/dir5/f1", 1, 1),
    ]
    l2 = [Chown("/dir2", 0, 0), RemoveAll("/dir3"), Chown("/dir4", 1, 1), Chown("/dir4/f1", 1, 1)]
    l3 = [
        CreateDir("/dir3", 0o700),
        Chown("/dir3", 1, 1),
        RemoveAll("/dir5"),
        CreateDir("/dir5", 0o700),
        Chown("/dir5", 1, 1),
    ]
    check(l1, l2, l3)


def test_deleted_files_in_child_snapshot(check):
    l1 = [CreateFile("/foo", b"foo\n", 0o777), CreateFile("/foobar", b"foobar\n", 0o777)]
    l2 = [RemoveAll("/foobar")]
    l3: list = []
    check(l1, l2, l3)


def test_move_file_from_lower_layer(check):
    l1 = [
        CreateDir("/dir1", 0o700),
        CreateFile("/dir1/f1", b"Hello", 0o644),
        CreateDir("/dir2", 0o700),
        CreateFile("/dir2/f2", b"...", 0o644),
    ]
    l2 = [
        CreateDir("/dir3", 0o700),
        CreateFile("/dir3/f1", b"Hello", 0o644),
        RemoveAll("/dir1"),
        Link("/dir2/f2", "/dir3/f2"),
        RemoveAll("/dir2/f2"),
    ]
    check(l1, l2)


def test_rename(check):
    """moby issue 25409. Renaming a lower folder is skipped where the union refuses it
    (EXDEV, as overlayfs without redirect_dir); vfs layers are plain folders."""
    l1 = [
        CreateDir("/dir1", 0o700),
        CreateDir("/somefiles", 0o700),
        CreateFile("/somefiles/f1", b"was here first!", 0o644),
        CreateFile("/somefiles/f2", b"nothing interesting", 0o644),
    ]
    l2 = [] if check.driver.name in ("overlay2", "aufs") else [Rename("/dir1", "/dir2")]
    l2 += [
        CreateFile("/somefiles/f1-overwrite", b"new content 1", 0o644),
        Rename("/somefiles/f1-overwrite", "/somefiles/f1"),
        Rename("/somefiles/f2", "/somefiles/f3"),
    ]
    check(l1, l2)


def test_rename_lower_dir_is_exdev(driver):
    """The union (user space and kernel alike) refuses to rename a merged folder."""
    if driver.name == "vfs":
        pytest.skip("vfs layers are plain folders")
    driver.create("base", None)
    fs = driver.get("base")
    fs.mkdir("/dir1")
    driver.put("base")
    driver.create_read_write("rw", "base")
    fs = driver.get("rw")
    try:
        with pytest.raises(OSError) as e:
            fs.rename("/dir1", "/dir2")
        assert e.value.errno == errno.EXDEV  # 18 on Linux, 75 under Emscripten
    finally:
        driver.put("rw")


def test_128_layers_mount(driver, tmp_path):
    flat = str(tmp_path / "flat")
    (tmp_path / "flat").mkdir()
    appliers = [
        [
            CreateFile("/bottom", b"way at the bottom\n", 0o777),
            CreateFile("/overwriteme", b"FIRST!\n", 0o777),
            CreateDir("/addhere", 0o755),
            CreateDir("/onlyme", 0o755),
            CreateFile("/onlyme/bottom", b"bye!\n", 0o777),
        ]
    ]
    for i in range(1, 128):
        appliers.append(
            [
                CreateFile("/overwriteme", f"{i} WAS HERE!\n".encode(), 0o777),
                CreateFile(f"/addhere/file-{i}", b"same\n", 0o755),
                RemoveAll("/onlyme"),
                CreateDir("/onlyme", 0o755),
                CreateFile(f"/onlyme/file-{i}", b"only me!\n", 0o777),
            ]
        )
    parent = None
    for i, applier in enumerate(appliers):
        layer = f"layer-{i}"
        driver.create_read_write(layer, parent)
        fs = driver.get(layer)
        try:
            assert_same_tree(snapshot(flat), snapshot(fs))
            apply_all(applier, flat)
            apply_all(applier, fs)
            assert_same_tree(snapshot(flat), snapshot(fs))
        finally:
            driver.put(layer)
        parent = layer
    # a read-only view of the top (committed: it has a child)
    driver.create("view", parent)
    fs = driver.get(parent)
    try:
        assert_same_tree(snapshot(flat), snapshot(fs))
    finally:
        driver.put(parent)
