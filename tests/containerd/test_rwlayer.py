"""The restart lesson on snapshots: create, mount, restart (same key, same N), rm, commit."""

from __future__ import annotations

import os

import pytest

from dockerlayers.containerd import rwlayer
from dockerlayers.daemon.initlayer import setup_init_layer

NS = "moby"


@pytest.fixture
def image(images, base_oci):
    return images.load(base_oci)[0]


def _tree(images):
    return sorted((i.name, i.parent, i.kind) for i in images.sn.walk(NS))


def test_create_makes_lease_init_and_active(images, image, tmp_path):
    top = images.top_chain_id(image)
    rw = rwlayer.create_layer(images, "c1", image, setup_init_layer, str(tmp_path))
    assert _tree(images) == [
        ("c1", "c1-init", "Active"),
        ("c1-init", top, "Committed"),
        (top, "", "Committed"),
    ]
    assert [lease.id for lease in images.ctrd.leases.list(NS)] == ["c1"]
    res = sorted(r.id for r in images.ctrd.leases.list_resources(NS, "c1"))
    assert res == ["c1", "c1-init"]
    for key in ("c1", "c1-init"):
        assert images.sn.stat(NS, key).labels == {}  # kept by the lease, not by gc.root
    assert rw.snapshot_id() == "3"
    assert images.sn.resolve_key(NS, "c1") == "moby/5/c1"
    root = images.ctrd.backends["overlayfs"].root
    assert rw.mount_line() == (
        f"overlay on {tmp_path}/rootfs/overlayfs/c1 type overlay (rw,relatime,"
        f"lowerdir={root}/snapshots/2/fs:{root}/snapshots/1/fs,"
        f"upperdir={root}/snapshots/3/fs,workdir={root}/snapshots/3/work)"
    )
    init_fs = os.path.join(root, "snapshots", "2", "fs")
    assert os.path.exists(os.path.join(init_fs, ".dockerenv"))


def test_restart_keeps_key_and_n_rm_removes(images, image, tmp_path):
    rw = rwlayer.create_layer(images, "c1", image, setup_init_layer, str(tmp_path))
    fs = rw.mount()
    fs.write_bytes("/data.txt", b"kept\n")
    n = rw.snapshot_id()
    rw.unmount()  # the task ends
    images.ctrd.garbage_collect()  # however many passes run meanwhile
    again = rwlayer.get_layer_by_id(images, "c1", str(tmp_path))
    assert again.snapshot_id() == n
    assert again.mount().read_bytes("/data.txt") == b"kept\n"
    upper = os.path.join(images.ctrd.backends["overlayfs"].root, "snapshots", n, "fs")
    assert os.listdir(upper) == ["data.txt"]
    again.unmount()
    rwlayer.release_layer(images, again)  # docker rm: lease deleted with a synchronous GC
    assert sorted(images.ctrd.last_gc.snapshots) == ["moby/overlayfs/c1", "moby/overlayfs/c1-init"]
    assert _tree(images) == [(images.top_chain_id(image), "", "Committed")]
    assert not os.path.exists(upper)
    with pytest.raises(rwlayer.LayerNotFound, match="RW layer for container c1 not found"):
        rwlayer.get_layer_by_id(images, "c1", str(tmp_path))


def test_new_container_gets_a_new_n(images, image, tmp_path):
    rw = rwlayer.create_layer(images, "c1", image, setup_init_layer, str(tmp_path))
    rwlayer.release_layer(images, rw)
    rw2 = rwlayer.create_layer(images, "c2", image, setup_init_layer, str(tmp_path))
    assert rw2.snapshot_id() == "5"  # 2 and 3 are not reused
    assert not rw2.mount().exists("/data.txt")


def test_commit_diff_becomes_blob_and_snapshot(images, image, tmp_path):
    rw = rwlayer.create_layer(images, "c1", image, setup_init_layer, str(tmp_path))
    rw.mount().write_bytes("/data.txt", b"x")
    new = images.commit("c1", image, "snap:1")
    assert new.name == "docker.io/library/snap:1"
    manifest = images.manifest(new)
    assert len(manifest["layers"]) == 2
    layer = manifest["layers"][1]
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    info = images.ctrd.content.info(NS, layer["digest"])
    diff_id = info.labels["containerd.io/uncompressed"]
    assert images.config(new)["rootfs"]["diff_ids"][-1] == diff_id
    top = images.top_chain_id(new)
    # Docker 29 applies the diff on the container snapshot's parent, <id>-init
    assert images.sn.stat(NS, top).parent == "c1-init"
    assert images.sn.stat(NS, top).kind == "Committed"
    # only the container's own change is in the layer (not the init files)
    import gzip
    import io
    import tarfile

    blob = images.ctrd.content.read(NS, layer["digest"])
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as t:
        names = t.getnames()
    assert names == ["data.txt"]
    rw.unmount()
    rwlayer.release_layer(images, rw)
    # the image's snapshot holds c1-init (its parent); only c1 went
    assert images.ctrd.last_gc.snapshots == ["moby/overlayfs/c1"]
    assert images.resolve("snap:1").id == new.id
