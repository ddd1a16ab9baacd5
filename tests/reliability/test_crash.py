"""Crash consistency: each operation stopped at sampled filesystem mutations (every point:
`python tools/reliability.py crash`), then the root reopened and checked; and the repairs
the sweep needed, one by one."""

from __future__ import annotations

import errno
import os
import shutil

import pytest

from dockerlayers import DockerClient
from dockerlayers.testing import crash
from dockerlayers.testing.faults import FaultInjector, InjectedCrash, abandon
from dockerlayers.testing.invariants import CLIENT_KW, check_root, scan_orphans

SAMPLE = {"crash": 5, "error": 2}


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """Process crashes, not power loss: the page cache survives; fsync only costs time."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def _kernel_mounts_or_skip() -> None:
    from dockerlayers.graphdriver.kernel import overlay_supported

    if os.geteuid() != 0 or not overlay_supported():
        pytest.skip("kernel overlay mounts need root and overlayfs (CI has both)")


@pytest.fixture(scope="module", params=["user", "kernel"])
def template(request, tmp_path_factory):
    """The crash template in each mount mode (issue 21, item 10: a crash in kernel mode can
    leave overlay mounts that the reopen must clean)."""
    if request.param == "kernel":
        _kernel_mounts_or_skip()
    real = os.fsync
    os.fsync = lambda fd: None
    try:
        d = str(tmp_path_factory.mktemp(f"crash-{request.param}"))
        yield crash.make_template(d, mounts=request.param)
    finally:
        os.fsync = real


@pytest.mark.parametrize("mode", ["crash", "error"])
@pytest.mark.parametrize("op", sorted(crash.OPERATIONS))
def test_sampled_points(template, tmp_path, op, mode, capsys):
    if template.mounts == "kernel" and mode == "error":
        pytest.skip("kernel mode: the crash points (an I/O error is the same in both modes)")
    total = len(crash.count_points(template, op, str(tmp_path)))
    assert total > 0
    ks = crash.sample(total, SAMPLE[mode])
    if mode == "error":
        ks = [k + 1 for k in ks[:-1]] + ks[-1:]  # other points than the crash run's
    total, results = crash.sweep(template, op, str(tmp_path), points=ks, mode=mode)
    with capsys.disabled():
        print(f"\n{op}/{mode}/{template.mounts}: {len(results)} of {total} points", end="")
    assert [(r.k, r.point, r.violations) for r in results if r.violations] == []


# -- the injector itself -------------------------------------------------------------------------
def test_injector_counts_only_under_the_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    with FaultInjector(str(root)) as inj:
        (tmp_path / "outside").write_text("x")
        with open(root / "a", "w") as f:
            f.write("a")
        os.mkdir(root / "d")
        os.rename(root / "a", root / "d" / "b")
        shutil.rmtree(root / "d")
    assert [w for w, _ in inj.points] == ["open", "write", "mkdir", "rename", "unlink", "rmdir"]


def test_crash_mode_refuses_everything_after_the_point(tmp_path):
    with pytest.raises(InjectedCrash), FaultInjector(str(tmp_path), fail_at=2) as inj:
        try:
            os.mkdir(tmp_path / "one")
            os.mkdir(tmp_path / "two")
        finally:
            shutil.rmtree(tmp_path / "one", ignore_errors=True)  # a cleanup that cannot run
    assert inj.fired and inj.after == 1
    assert os.path.isdir(tmp_path / "one") and not os.path.exists(tmp_path / "two")


def test_error_mode_fails_once(tmp_path):
    with FaultInjector(str(tmp_path), fail_at=1, mode="error"):
        with pytest.raises(OSError) as e:
            os.mkdir(tmp_path / "one")
        os.mkdir(tmp_path / "two")
    assert e.value.errno == errno.EIO and os.path.isdir(tmp_path / "two")


# -- the repairs ---------------------------------------------------------------------------------
def _client(root):
    return DockerClient(root=str(root), **CLIENT_KW)


def _crash_in(root, fn, at_point):
    """Run fn(client) on root stopping at the first mutation point whose path ends with
    `at_point`; abandon the client."""
    # find the point by a counting run on a copy
    copy = str(root) + "-copy"
    crash.copy_root(str(root), copy)
    counter = FaultInjector(copy)
    c2 = _client(copy)
    with counter:
        fn(c2)
    c2.close()
    shutil.rmtree(copy)
    k = next(i for i, (_, p) in enumerate(counter.points, 1) if p.endswith(at_point))
    client = _client(root)
    with pytest.raises(InjectedCrash), FaultInjector(str(root), fail_at=k):
        fn(client)
    abandon(client)


def test_create_interrupted_before_the_container_folder(tmp_path):
    root = tmp_path / "root"
    c = _client(root)
    base = c.images.base().id
    c.close()
    _crash_in(root, lambda cl: cl.containers.create(base, "sh"), "config.v2.json")
    assert scan_orphans(str(root))
    report = check_root(str(root))
    assert report.violations == []
    assert report.orphans.get("container-without-config") == 1
    with _client(root) as c:
        assert c.containers.list(all=True) == []


def test_rm_interrupted_in_the_rw_folder_leaves_a_dead_container_rm_finishes(tmp_path):
    root = tmp_path / "root"
    c = _client(root)
    ct = c.containers.create(c.images.base(), ["sh", "-c", "echo x > /x"], name="victim")
    ct.start()
    ct.wait()
    c.close()
    _crash_in(root, lambda cl: cl.containers.get("victim").remove(), "/diff/x")
    with _client(root) as c:
        dead = c.containers.get("victim")
        assert dead.status == "dead"
        assert dead.attrs["GraphDriver"]["Name"] == "overlay2"  # inspect works
        dead.remove()
    assert check_root(str(root)).violations == []


def test_temp_files_and_the_tmp_folder_are_emptied_at_start(tmp_path):
    root = tmp_path / "root"
    with _client(root) as c:
        c.images.base()
    stray = [
        root / ".tmp-dockerlayers.json123",
        root / "runtime" / ".tmp-x.json1",
        root / "image" / "overlay2" / ".tmp-repositories.json9",
        root / "tmp" / "docker-builder123" / "Dockerfile",
    ]
    for p in stray:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("half")
    with _client(root):
        pass
    assert [p for p in stray if p.exists()] == []
    assert os.listdir(root / "tmp") == []


def test_a_tag_whose_save_failed_is_not_kept(tmp_path):
    root = tmp_path / "root"
    with _client(root) as c:
        img = c.images.base()
        target = os.path.join(str(root), "image", "overlay2")
        with FaultInjector(target, fail_at=1, mode="error"), pytest.raises(OSError):
            img.tag("ghost:1")
        assert "ghost:1" not in c.images.get(img.id).tags
        c.images.get(img.id).tag("real:1")
    with _client(root) as c:
        assert "ghost:1" not in c.images.get(img.id).tags
        assert "real:1" in c.images.get(img.id).tags


def test_inspect_of_a_dead_container_whose_rw_folder_is_gone(tmp_path):
    """moby daemon/inspect.go: a dead container's missing graphdriver metadata is ignored."""
    root = tmp_path / "root"
    with _client(root) as c:
        ct = c.containers.create(c.images.base(), "true", name="victim")
        mount_id = c.daemon.layer_store.get_mount_id(ct.id)
        c.daemon.get_container(ct.id).state.dead = True
        c.daemon.get_container(ct.id).checkpoint()
    shutil.rmtree(root / "overlay2" / mount_id)
    with _client(root) as c:
        dead = c.containers.get("victim")
        assert dead.status == "dead" and dead.attrs["GraphDriver"]["Data"] is None
        dead.remove()
    assert check_root(str(root)).violations == []
