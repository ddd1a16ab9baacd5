"""The model against a real containerd (Debian's 1.6): the same operations, the same results.

Each side imports the same OCI archive (the model's own save) and goes through Docker 29's
container steps with `ctr -n moby` there and the model's API here; the snapshot tree
(names, parents, kinds), the `snapshots/N` folders, the content digests and labels, the
mount options, restart and removal must agree. `ctr snapshots prepare` labels what it
makes `containerd.io/gc.root`; the model is given the same label where ctr adds one.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from dockerlayers.containerd.rwlayer import create_layer
from dockerlayers.daemon.initlayer import setup_init_layer
from dockerlayers.graphdriver import kernel
from dockerlayers.graphdriver.union import UnionRootFS
from tests.containerd import real

pytestmark = [
    pytest.mark.root,
    pytest.mark.slow,
    pytest.mark.skipif(real.missing() is not None, reason=str(real.missing())),
]

NS = "moby"
ROOTED = {"containerd.io/gc.root": "2024-01-01T00:00:00Z"}


@pytest.fixture
def rc(tmp_path_factory):
    d = tmp_path_factory.mktemp("rc")
    r = real.RealContainerd(str(d))
    yield r
    with open("/proc/mounts") as f:
        mounts = f.read().splitlines()
    for line in mounts:
        target = line.split()[1]
        if target.startswith(str(d)):
            subprocess.run(["umount", "-l", target], check=False)
    r.stop()


def _import(rc, data: bytes, tmp_path) -> None:
    path = tmp_path / "image.tar"
    path.write_bytes(data)
    rc.ctr("images", "import", str(path))
    # the import's lease deletion scheduled a collection; run one now so that nothing
    # collects what the test makes next behind its back (an unrooted view would go)
    lid = rc.ctr("leases", "create").split()[0]
    rc.ctr("leases", "delete", "--sync", lid)


def _model_tree(images):
    return sorted((i.name, i.parent, i.kind) for i in images.sn.walk(NS))


def _model_dirs(images):
    base = os.path.join(images.ctrd.backends["overlayfs"].root, "snapshots")
    return sorted(os.listdir(base), key=real._n)


def _model_content(images):
    return {i.digest: i.labels for i in images.ctrd.content.list(NS)}


def _wait_for(pred, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_import_same_tree_content_labels(rc, images, two_layer_oci, tmp_path):
    _import(rc, two_layer_oci, tmp_path)
    (img,) = images.load(two_layer_oci)
    assert rc.ctr("images", "ls", "-q").split() == [img.name]
    assert rc.snapshots() == _model_tree(images)
    assert rc.snapshot_dirs() == _model_dirs(images) == ["1", "2"]
    real_content = {d: rc.content_labels(d) for d in rc.ctr("content", "ls", "-q").split()}
    assert real_content == _model_content(images)
    usage = rc.usage()
    for chain in images.chain_ids(img):
        u = images.sn.usage(NS, chain)
        assert usage[chain] == (real.ctr_bytes(u.size), u.inodes)


def test_docker29_container_steps_restart_and_rm(rc, images, base_oci, tmp_path):
    _import(rc, base_oci, tmp_path)
    (img,) = images.load(base_oci)
    top = images.top_chain_id(img)
    sn = images.sn

    # Docker 29's createLayer, spelled with ctr there and with the model's snapshotter here
    rc.ctr("snapshots", "prepare", "c1-init-key", top)
    sn.prepare(NS, "c1-init-key", top, labels=ROOTED)
    real_key_dirs = [os.path.join(rc.overlay_root, "snapshots", "2", "fs")]
    real_key_dirs.append(os.path.join(rc.overlay_root, "snapshots", "1", "fs"))
    setup_init_layer(UnionRootFS(real_key_dirs, writable=True))
    model_key = sn.backend.layer_dirs(sn.resolve_key(NS, "c1-init-key"))
    setup_init_layer(UnionRootFS(model_key, writable=True))
    rc.ctr("snapshots", "commit", "c1-init", "c1-init-key")
    sn.commit(NS, "c1-init", "c1-init-key")
    rc.ctr("snapshots", "prepare", "c1", "c1-init")
    sn.prepare(NS, "c1", "c1-init", labels=ROOTED)

    assert rc.snapshots() == _model_tree(images)
    assert rc.snapshot_dirs() == _model_dirs(images) == ["1", "2", "3"]
    assert rc.snapshot_info("c1")["Parent"] == sn.stat(NS, "c1").parent == "c1-init"
    assert set(rc.snapshot_info("c1-init")["Labels"]) == set(sn.stat(NS, "c1-init").labels)
    real_type, real_opts = rc.mount_options("c1")
    (m,) = sn.mounts(NS, "c1")
    model_root = images.ctrd.root
    assert real_type == m.type == "overlay"
    assert real_opts == [o.replace(model_root, rc.root) for o in m.options]
    real_init = sorted(os.listdir(os.path.join(rc.overlay_root, "snapshots", "2", "fs")))
    model_init = sorted(os.listdir(os.path.join(sn.backend.root, "snapshots", "2", "fs")))
    assert real_init == model_init

    # restart: mount, write, unmount, mount again -> same key, same N, the data is there
    if kernel.overlay_supported():
        target = tmp_path / "rootfs"
        target.mkdir()
        opts = ",".join(real_opts)
        for attempt in range(2):
            subprocess.run(
                ["mount", "-t", "overlay", "overlay", str(target), "-o", opts], check=True
            )
            if attempt == 0:
                (target / "data.txt").write_text("kept\n")
            else:
                assert (target / "data.txt").read_text() == "kept\n"
            subprocess.run(["umount", str(target)], check=True)
        assert rc.snapshot_dirs() == ["1", "2", "3"]
        assert "data.txt" in os.listdir(os.path.join(rc.overlay_root, "snapshots", "3", "fs"))
    for attempt in range(2):
        fs = UnionRootFS(sn.backend.layer_dirs(sn.resolve_key(NS, "c1")), writable=True)
        if attempt == 0:
            fs.write_bytes("/data.txt", b"kept\n")
        else:
            assert fs.read_bytes("/data.txt") == b"kept\n"
    assert sn.snapshot_id(NS, "c1") == "3"
    assert os.listdir(os.path.join(sn.backend.root, "snapshots", "3", "fs")) == ["data.txt"]

    # rm: the records go now, the folders at the GC pass that follows
    for key in ("c1", "c1-init"):
        rc.ctr("snapshots", "rm", key)
        sn.remove(NS, key)
    images.ctrd.garbage_collect()
    assert rc.snapshots() == _model_tree(images) == [(top, "", "Committed")]
    assert _wait_for(lambda: rc.snapshot_dirs() == ["1"])
    assert _model_dirs(images) == ["1"]

    # rmi --sync: everything unreferenced goes, blobs included
    rc.ctr("images", "rm", "--sync", img.name)
    images.delete(img.name, synchronous=True)
    assert rc.snapshots() == _model_tree(images) == []
    assert rc.ctr("content", "ls", "-q").split() == [] == list(images.ctrd.local.walk())
    assert _wait_for(lambda: rc.snapshot_dirs() == [])

    # re-import: N goes on counting (never reused)
    _import(rc, base_oci, tmp_path)
    images.load(base_oci)
    assert rc.snapshot_dirs() == _model_dirs(images) == ["4"]


def test_unrooted_view_collected_and_stale_children(rc, images, base_oci, tmp_path):
    _import(rc, base_oci, tmp_path)
    (img,) = images.load(base_oci)
    top = images.top_chain_id(img)
    rc.ctr("snapshots", "view", "v1", top)
    images.sn.view(NS, "v1", top)
    (vt, vopts) = rc.mount_options("v1")
    (m,) = images.sn.mounts(NS, "v1")
    assert (vt, vopts) == (m.type, [o.replace(images.ctrd.root, rc.root) for o in m.options])
    # a lease deleted with --sync runs a collection: the unrooted view goes on both sides
    lid = rc.ctr("leases", "create").split()[0]
    rc.ctr("leases", "delete", "--sync", lid)
    images.ctrd.leases.create(NS, "L")
    images.ctrd.leases.delete(NS, "L", synchronous=True)
    assert rc.snapshots() == _model_tree(images) == [(top, "", "Committed")]
    # the parent still lists the collected child (containerd#11908)
    out = rc.ctr("snapshots", "rm", top, check=False)
    assert "cannot remove snapshot with child: failed precondition" in out
    with pytest.raises(Exception, match="cannot remove snapshot with child: failed precondition"):
        images.sn.remove(NS, top)


def test_docker29_create_layer_matches_ctr_steps(rc, images, base_oci, tmp_path):
    """The model's create_layer (with its lease) makes the tree ctr's steps make."""
    _import(rc, base_oci, tmp_path)
    (img,) = images.load(base_oci)
    top = images.top_chain_id(img)
    rc.ctr("snapshots", "prepare", "c1-init-key", top)
    rc.ctr("snapshots", "commit", "c1-init", "c1-init-key")
    rc.ctr("snapshots", "prepare", "c1", "c1-init")
    create_layer(images, "c1", img, setup_init_layer, str(tmp_path / "docker"))
    assert rc.snapshots() == _model_tree(images)
    assert rc.snapshot_dirs() == _model_dirs(images)


def test_native_snapshotter_same_tree_dirs_and_mounts(rc, ctrd, two_layer_oci, tmp_path):
    """The native snapshotter (a full copy per snapshot, like vfs) on both sides."""
    from dockerlayers.containerd.images import ImageService

    images = ImageService(ctrd, snapshotter="native", seed=7)
    path = tmp_path / "image.tar"
    path.write_bytes(two_layer_oci)
    rc.ctr("images", "import", "--snapshotter", "native", str(path))
    lid = rc.ctr("leases", "create").split()[0]
    rc.ctr("leases", "delete", "--sync", lid)
    (img,) = images.load(two_layer_oci)
    top = images.top_chain_id(img)
    rows = rc.ctr("snapshots", "--snapshotter", "native", "ls").splitlines()[1:]
    real_tree = sorted(
        tuple(r.split()) if len(r.split()) == 3 else (r.split()[0], "", r.split()[1]) for r in rows
    )
    assert real_tree == sorted((i.name, i.parent, i.kind) for i in images.sn.walk(NS))
    real_dir = os.path.join(rc.root, "io.containerd.snapshotter.v1.native", "snapshots")
    model_dir = os.path.join(ctrd.backends["native"].root, "snapshots")
    assert sorted(os.listdir(real_dir)) == sorted(os.listdir(model_dir)) == ["1", "2"]
    # the top snapshot is a full copy: the second layer's file and the first layer's files
    for d in (real_dir, model_dir):
        assert os.path.exists(os.path.join(d, "2", "hello.txt"))
        assert os.path.exists(os.path.join(d, "2", "bin"))
        assert not os.path.exists(os.path.join(d, "2", "etc", "os-release"))
    rc.ctr("snapshots", "--snapshotter", "native", "prepare", "c1", top)
    images.sn.prepare(NS, "c1", top, labels=ROOTED)
    line = rc.ctr("snapshots", "--snapshotter", "native", "mounts", "/m", "c1").strip()
    (m,) = images.sn.mounts(NS, "c1")
    assert line == f"mount -t {m.type} {m.source.replace(ctrd.root, rc.root)} /m -o " + ",".join(
        m.options
    )


def _load_matches_ctr_import(rc, archive: bytes, tmp_path, name: str) -> None:
    """`ctr images import` on the real containerd, `docker load` on the model's daemon
    (containerd store): the same image name and target (the image ID), the same snapshot
    tree and folders, the same blobs with the same labels, no lease left."""
    from dockerlayers import DockerClient

    _import(rc, archive, tmp_path)
    c = DockerClient(
        root=str(tmp_path / "model"), seed=3, clock="virtual", mounts="user",
        storage="containerd",
    )  # fmt: skip
    try:
        (img,) = c.images.load(archive)
        images = c.daemon.layer_store.images
        real_names = rc.ctr("images", "ls", "-q").split()
        assert [r.name for r in images.list()] == real_names == [name]
        real_target = rc.ctr("images", "ls").splitlines()[1].split()[2]
        assert img.id == images.get(name).digest == real_target
        assert rc.snapshots() == _model_tree(images)
        assert rc.snapshot_dirs() == _model_dirs(images) == ["1", "2"]
        real_content = {d: rc.content_labels(d) for d in rc.ctr("content", "ls", "-q").split()}
        assert real_content == _model_content(images)
        assert c.daemon.layer_store.containerd.leases.list(NS) == []
    finally:
        c.close()


def test_docker_load_on_the_daemon_matches_ctr_import(rc, two_layer_oci, tmp_path):
    """`docker load` of an OCI layout on the model's daemon leaves what `ctr images import`
    leaves on a real containerd 1.6."""
    _load_matches_ctr_import(rc, two_layer_oci, tmp_path, "docker.io/library/two:latest")


def test_docker_archive_load_matches_ctr_import(rc, two_layer_oci, tmp_path):
    """A `manifest.json` archive made by another tool (skopeo's docker-archive): the model's
    `docker load` writes the Docker schema 2 manifest containerd's importer writes — the
    same digest, blobs, labels and snapshots as `ctr images import` on containerd 1.6."""
    import shutil

    if shutil.which("skopeo") is None:
        pytest.skip("skopeo not installed (CI: apt-get install skopeo)")
    src, dst = tmp_path / "two-oci.tar", tmp_path / "two-docker.tar"
    src.write_bytes(two_layer_oci)
    subprocess.run(
        ["skopeo", "copy", "-q", f"oci-archive:{src}", f"docker-archive:{dst}:two:1"],
        check=True,
    )
    _load_matches_ctr_import(rc, dst.read_bytes(), tmp_path, "docker.io/library/two:1")
