"""The seed's claim, end to end on every driver: what a container writes lives in its RW
layer (named by a random mount-id, found again through `layerdb/mounts/<id>/mount-id`), so
stop/start, restart and a new daemon on the same root keep it, while rm + run starts again
from the image with a new, empty RW layer. Two containers of one image share the image's
layers and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockerlayers import DockerClient
from dockerlayers.graphdriver import kernel
from tests.daemon.daemontest import SLEEPER
from tests.support.drivers import DRIVER_PARAMS

#: where a driver keeps the files of the layer `m` (the RW layer's "upper" folder)
UPPER = {"overlay2": "overlay2/{m}/diff", "aufs": "aufs/diff/{m}", "vfs": "vfs/dir/{m}"}


def mount_id(root: str, driver: str, cid: str) -> str:
    with open(os.path.join(root, "image", driver, "layerdb", "mounts", cid, "mount-id")) as f:
        return f.read()


def read_in(c, path: str) -> bytes | None:
    """The file as the container sees it (exec cat while running, else its RootFS)."""
    if c.status == "running":
        code, out = c.exec_run(["cat", path])
        return out if code == 0 else None
    fs = c.rootfs
    return fs.read_bytes(path) if fs.exists(path) else None


def open_client(root, driver, mounts):
    return DockerClient(root=str(root), driver=driver, seed=None, clock="virtual", mounts=mounts)


@pytest.fixture(params=DRIVER_PARAMS)
def setup(request, tmp_path):
    driver, mounts = request.param
    opened: list[DockerClient] = []

    def opener():
        cl = open_client(tmp_path / "root", driver, mounts)
        opened.append(cl)
        return cl

    yield driver, mounts, tmp_path / "root", opener
    for cl in opened:
        try:
            cl.close()
        except Exception:
            pass
    if mounts == "kernel":
        assert kernel.mounts_under(str(tmp_path)) == []


def test_restart_keeps_the_rw_layer_rm_does_not(setup):
    driver, mounts, root, opener = setup
    cl = opener()
    base = cl.images.base()
    c = cl.containers.run(base, SLEEPER, detach=True, name="db")
    code, _ = c.exec_run(["sh", "-c", "echo 'table t' > /data.txt"])
    assert code == 0
    mid = mount_id(str(root), driver, c.id)
    assert mid == cl.daemon.layer_store.get_mount_id(c.id)
    assert mid != c.id  # the driver folder is named by a random mount-id
    upper = os.path.join(str(root), UPPER[driver].format(m=mid))
    assert Path(upper, "data.txt").read_bytes() == b"table t\n"
    assert c.diff() == [{"Path": "/data.txt", "Kind": 1}]

    # stop + start
    c.stop()
    c.reload()
    assert c.status == "exited"
    assert read_in(c, "/data.txt") == b"table t\n"
    c.start()
    c.reload()
    assert read_in(c, "/data.txt") == b"table t\n"
    assert mount_id(str(root), driver, c.id) == mid

    # restart
    c.restart()
    c.reload()
    assert c.status == "running"
    assert read_in(c, "/data.txt") == b"table t\n"
    assert mount_id(str(root), driver, c.id) == mid

    # a new daemon after a clean shutdown (the container was stopped by it)
    cl.close()
    cl = opener()
    c = cl.containers.get("db")
    assert c.status == "exited"
    assert c.attrs["State"]["ExitCode"] == 137  # SIGTERM ignored by PID 1, then SIGKILL
    assert mount_id(str(root), driver, c.id) == mid
    assert cl.daemon.layer_store.get_mount_id(c.id) == mid
    c.start()
    c.reload()
    assert read_in(c, "/data.txt") == b"table t\n"

    # a new daemon after detach (the process carried on)
    cl.detach()
    cl = opener()
    c = cl.containers.get("db")
    assert c.status == "running"
    assert read_in(c, "/data.txt") == b"table t\n"
    assert mount_id(str(root), driver, c.id) == mid
    assert c.diff() == [{"Path": "/data.txt", "Kind": 1}]

    # rm + run: a new RW layer, the data is gone (and so is the old layer's folder)
    c.remove(force=True)
    assert not os.path.exists(upper)
    c2 = cl.containers.run(base, SLEEPER, detach=True, name="db")
    assert read_in(c2, "/data.txt") is None
    assert mount_id(str(root), driver, c2.id) != mid
    assert c2.diff() == []


def test_two_containers_share_the_image_layers_and_nothing_else(setup):
    driver, mounts, root, opener = setup
    cl = opener()
    base = cl.images.base()
    a = cl.containers.run(base, SLEEPER, detach=True)
    b = cl.containers.run(base, SLEEPER, detach=True)
    a.exec_run(["sh", "-c", "echo a > /only-a"])
    base.reload()
    assert read_in(b, "/only-a") is None
    assert b.diff() == []

    ls = cl.daemon.layer_store
    top_chain = "sha256:" + base.attrs["RootFS"]["Layers"][0].split(":", 1)[1]
    rw_a, rw_b = cl.daemon.rw_layer(a.id), cl.daemon.rw_layer(b.id)
    # the same image layer object (one cache-id), referenced by both
    assert rw_a.parent.chain_id == rw_b.parent.chain_id == top_chain
    assert rw_a.parent.cache_id == rw_b.parent.cache_id
    mounts_dir = os.path.join(str(root), "image", driver, "layerdb", "mounts")
    for cid in (a.id, b.id):
        with open(os.path.join(mounts_dir, cid, "parent")) as f:
            assert f.read() == top_chain
    # nothing else shared: mount-ids, init-ids and their folders all differ
    ids_a = {ls.get_mount_id(a.id), ls.get_mount_id(a.id) + "-init"}
    ids_b = {ls.get_mount_id(b.id), ls.get_mount_id(b.id) + "-init"}
    assert not ids_a & ids_b
    for cid, ids in ((a.id, ids_a), (b.id, ids_b)):
        with open(os.path.join(mounts_dir, cid, "init-id")) as f:
            assert f.read() in ids
    if driver == "overlay2":
        ga, gb = a.attrs["GraphDriver"]["Data"], b.attrs["GraphDriver"]["Data"]
        lower_a, lower_b = ga["LowerDir"].split(":"), gb["LowerDir"].split(":")
        # first the container's own init layer, then the image's layers: the same folders
        assert lower_a[0] != lower_b[0]
        assert lower_a[0].endswith("-init/diff") and lower_b[0].endswith("-init/diff")
        assert lower_a[1:] == lower_b[1:]
        assert lower_a[1:] == [os.path.join(str(root), "overlay2", rw_a.parent.cache_id, "diff")]
        for key in ("UpperDir", "MergedDir", "WorkDir"):
            assert ga[key] != gb[key]
        assert ga["UpperDir"] == os.path.join(str(root), "overlay2", ls.get_mount_id(a.id), "diff")
    elif driver == "aufs":
        for cid in (a.id, b.id):
            m = ls.get_mount_id(cid)
            with open(os.path.join(str(root), "aufs", "layers", m)) as f:
                assert f.read().split() == [m + "-init", rw_a.parent.cache_id]
    else:  # vfs copies: each container has its own full copy of the image
        for cid in (a.id, b.id):
            m = ls.get_mount_id(cid)
            assert os.path.exists(os.path.join(str(root), "vfs", "dir", m, "bin", "busybox"))
