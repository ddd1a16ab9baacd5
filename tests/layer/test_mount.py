"""RW layers: the init layer, sizes, changes, tars and ApplyDiff, all against the init layer.

moby: layer/mount_test.go, daemon/initlayer/setup_unix.go
"""

from __future__ import annotations

import io
import os

import pytest

from dockerlayers.daemon.initlayer import setup_init_layer
from tests.layer.layertest import TestFile, create_layer, init_with_files, tar_from_files, tar_names


def test_mount_init(any_store):
    ls = any_store
    layer = create_layer(ls, None, init_with_files(TestFile("testfile.txt", b"base data!", 0o644)))
    init = TestFile("testfile.txt", b"init data!", 0o777)
    m = ls.create_rw_layer("fun-mount", layer.chain_id, init_func=init.apply)
    fs = m.mount()
    assert fs.read_bytes("/testfile.txt") == b"init data!"
    assert fs.stat("/testfile.txt").st_mode & 0o777 == 0o777
    m.unmount()


def test_mount_size(any_store):
    ls = any_store
    content1, content2 = b"Base contents", b"Mutable contents"
    content_init = "why am I excluded from the size ☹".encode()
    layer = create_layer(ls, None, init_with_files(TestFile("file1", content1, 0o644)))
    m = ls.create_rw_layer(
        "mount-size", layer.chain_id, init_func=TestFile("file-init", content_init, 0o777).apply
    )
    fs = m.mount()
    fs.write_bytes("/file2", content2, 0o755)
    assert m.size() == len(content2)
    m.unmount()
    assert m.size() == len(content2)


def test_mount_changes(any_store):
    ls = any_store
    base = [TestFile(f"testfile{i}.txt", b"base data!", 0o644) for i in (1, 2, 3)]
    layer = create_layer(ls, None, init_with_files(*base))
    m = ls.create_rw_layer(
        "mount-changes",
        layer.chain_id,
        init_func=TestFile("testfile1.txt", b"init data!", 0o777).apply,
    )
    fs = m.mount()
    fs.chmod("/testfile1.txt", 0o755)
    fs.write_bytes("/testfile1.txt", b"mount data!", 0o755)
    fs.remove("/testfile2.txt")
    fs.chmod("/testfile3.txt", 0o755)
    fs.write_bytes("/testfile4.txt", b"mount data!", 0o644)
    changes = sorted(m.changes(), key=lambda c: c.path)
    assert [str(c) for c in changes] == [
        "C /testfile1.txt",
        "D /testfile2.txt",
        "C /testfile3.txt",
        "A /testfile4.txt",
    ]
    m.unmount()


def test_mount_apply(any_store):
    ls = any_store
    layer = create_layer(ls, None, init_with_files(TestFile("file.txt", b"base", 0o644)))
    layer2 = create_layer(ls, None, init_with_files(TestFile("newfile.txt", b"new", 0o644)))
    m = ls.create_rw_layer("mount-apply", layer.chain_id, init_func=lambda fs: None)
    with layer2.tar_stream() as ts:
        m.apply_diff(ts)
    fs = m.mount()
    assert fs.read_bytes("/newfile.txt") == b"new"
    assert fs.read_bytes("/file.txt") == b"base"
    m.unmount()
    assert [str(c) for c in m.changes()] == ["A /newfile.txt"]


def test_mount_apply_while_mounted(any_store):
    ls = any_store
    layer = create_layer(ls, None, init_with_files(TestFile("gone.txt", b"base", 0o644)))
    m = ls.create_rw_layer("mount-apply2", layer.chain_id)
    fs = m.mount()
    fs.listdir("/")  # let a union cache the listing
    tar = tar_from_files(TestFile("newfile.txt", b"new", 0o644))
    m.apply_diff(io.BytesIO(tar))
    assert fs.read_bytes("/newfile.txt") == b"new"
    m.unmount()


def base_image(ls):
    """A distro-like image: /etc, /proc, /sys, /dev exist; /etc/hosts is a real file."""

    def init(fs):
        for d in ("/etc", "/proc", "/sys", "/dev", "/bin"):
            fs.mkdir(d, 0o755)
        fs.write_bytes("/etc/hosts", b"127.0.0.1 image\n")
        fs.write_bytes("/etc/mtab", b"not a link\n")
        fs.write_bytes("/bin/sh", b"#!shell", 0o755)

    return create_layer(ls, None, init)


INIT_ENTRIES = {
    "/.dockerenv": "file",
    "/dev/console": "file",
    "/dev/pts": "dir",
    "/dev/shm": "dir",
    "/etc/hostname": "file",
    "/etc/hosts": "file",
    "/etc/resolv.conf": "file",
    "/etc/mtab": "link",
    "/proc": "dir",
    "/sys": "dir",
}


@pytest.mark.parametrize("from_scratch", [False, True])
def test_init_layer_never_shows(any_store, from_scratch):
    ls = any_store
    parent = None if from_scratch else base_image(ls).chain_id
    rw = ls.create_rw_layer("ctr", parent, init_func=setup_init_layer)
    fs = rw.mount()
    for path, kind in INIT_ENTRIES.items():
        st = fs.lstat(path)
        if kind == "dir":
            assert fs.isdir(path) and st.st_mode & 0o777 == 0o755, path
        elif kind == "file":
            assert fs.isfile(path) and st.st_size == 0, path  # empty placeholders
            assert st.st_mode & 0o777 == 0o755, path
        else:
            assert fs.readlink(path) == "/proc/mounts"
    # nothing written yet: no changes, size 0, an empty tar
    assert rw.changes() == []
    assert rw.size() == 0
    with rw.tar_stream() as ts:
        assert tar_names(ts) == []
    fs.write_bytes("/data.txt", b"12345")
    changes = [str(c) for c in rw.changes()]
    assert changes == ["A /data.txt"]
    assert rw.size() == 5
    with rw.tar_stream() as ts:
        assert tar_names(ts) == ["data.txt"]
    rw.unmount()
    # the init layer is on disk beside the RW layer, named <mount-id>-init
    assert ls.driver.exists(rw.mount_id + "-init")
    assert rw.init_id == rw.mount_id + "-init"


def test_init_layer_modify_shows(any_store):
    """Writing over an init placeholder is a change of the container (C /etc/hosts)."""
    ls = any_store
    parent = base_image(ls).chain_id
    rw = ls.create_rw_layer("ctr", parent, init_func=setup_init_layer)
    fs = rw.mount()
    fs.write_bytes("/etc/hosts", b"10.0.0.1 me\n")
    assert [str(c) for c in rw.changes()] == ["C /etc", "C /etc/hosts"]
    rw.unmount()


def test_release_rw_layer(any_store):
    ls = any_store
    layer = base_image(ls)
    rw = ls.create_rw_layer("ctr", layer.chain_id, init_func=setup_init_layer)
    other = ls.get_rw_layer("ctr")
    mount_dir = ls.store.mount_dir("ctr")
    assert ls.release_rw_layer(rw) == []
    assert os.path.isdir(mount_dir)
    assert ls.release_rw_layer(other) == []
    assert not os.path.exists(mount_dir)
    assert not ls.driver.exists(rw.mount_id)
    assert not ls.driver.exists(rw.mount_id + "-init")
    assert ls.release_rw_layer(other) == []  # unknown mount: nothing, no error
    # the image layer went back to the caller's single reference
    assert ls.map()[layer.chain_id].reference_count == 1
    md = ls.release(layer)
    assert [m.chain_id for m in md] == [layer.chain_id]


def test_rw_layer_from_scratch(any_store):
    rw = any_store.create_rw_layer("scratch", None)
    fs = rw.mount()
    fs.write_bytes("/x", b"x")
    assert [str(c) for c in rw.changes()] == ["A /x"]
    rw.unmount()
    assert any_store.release_rw_layer(rw) == []


def test_create_rw_layer_unknown_parent(any_store):
    from dockerlayers.layer import LayerDoesNotExist

    with pytest.raises(LayerDoesNotExist):
        any_store.create_rw_layer("ctr", "sha256:" + "1" * 64)
    assert "ctr" not in any_store.mounts
    assert not os.path.exists(any_store.store.mount_dir("ctr"))


def test_failing_init_leaves_nothing(any_store):
    ls = any_store
    layer = base_image(ls)
    ids_before = set(ls.driver.list_ids())

    def bad(fs):
        fs.write_bytes("/x", b"x")
        raise RuntimeError("init failed")

    with pytest.raises(RuntimeError):
        ls.create_rw_layer("ctr", layer.chain_id, init_func=bad)
    assert set(ls.driver.list_ids()) == ids_before
    assert "ctr" not in ls.mounts
    assert ls.map()[layer.chain_id].reference_count == 1
    rw = ls.create_rw_layer("ctr", layer.chain_id)  # the name is free again
    ls.release_rw_layer(rw)


def test_two_containers_share_the_image(any_store):
    ls = any_store
    layer = base_image(ls)
    a = ls.create_rw_layer("a", layer.chain_id, init_func=setup_init_layer)
    b = ls.create_rw_layer("b", layer.chain_id, init_func=setup_init_layer)
    assert a.mount_id != b.mount_id
    assert ls.map()[layer.chain_id].reference_count == 3
    fa, fb = a.mount(), b.mount()
    fa.write_bytes("/bin/sh", b"changed!")
    assert fb.read_bytes("/bin/sh") == b"#!shell"
    a.unmount()
    b.unmount()
    if ls.driver.name == "aufs":  # AUFS Changes adds a parent Modify only for A and D
        # the copy-up left the wall clock's mtime on the upper /bin: "the same" as the image's
        # whole second only when both fall in one second (sameFsTime); keep the image's so
        # the result does not hang on the clock
        low = os.lstat(os.path.join(ls.driver.layer_dir(layer.cache_id), "bin"))
        up = os.path.join(ls.driver.layer_dir(a.mount_id), "bin")
        os.utime(up, ns=(low.st_atime_ns, low.st_mtime_ns))
        assert [str(c) for c in a.changes()] == ["C /bin/sh"]
    else:
        assert [str(c) for c in a.changes()] == ["C /bin", "C /bin/sh"]
    assert b.changes() == []


def test_naive_diff_waits_for_the_next_second(stores, naive_diff_wait):
    """moby issue 21555: on vfs (naive diff) a same-size rewrite right after a commit is
    still seen, because Diff waits until the next second before returning."""
    import time

    ls = stores("vfs")
    layer = create_layer(ls, None, init_with_files(TestFile("hosts", b"10.0.0.1", 0o644)))
    rw = ls.create_rw_layer("ctr", layer.chain_id)
    fs = rw.mount()
    start = time.time()
    with rw.tar_stream():
        pass
    assert int(time.time()) > int(start)  # the wait
    fs.write_bytes("/hosts", b"10.0.0.2")  # same size as the extracted file
    assert [str(c) for c in rw.changes()] == ["C /hosts"]
    rw.unmount()
