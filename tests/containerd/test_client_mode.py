"""DockerClient(storage="containerd"): the container lifecycle on containerd snapshots."""

from __future__ import annotations

import json
import os

import pytest

from dockerlayers import DockerClient

NS = "moby"


@pytest.fixture
def client():
    c = DockerClient(seed=3, clock="virtual", mounts="user", storage="containerd")
    yield c
    c.close()


def _tree(c):
    sn = c.daemon.layer_store.images.sn
    return sorted((i.name, i.parent, i.kind) for i in sn.walk(NS))


def test_info_says_snapshotter(client):
    info = client.daemon.info()
    assert info["Driver"] == "overlayfs"
    assert info["DriverStatus"] == [["driver-type", "io.containerd.snapshotter.v1"]]


def test_run_restart_rm(client):
    base = client.images.base()
    ct = client.containers.run(base, "sh -c 'echo hi >> /data.txt; sleep 100'", detach=True)
    store = client.daemon.layer_store
    top = store.images.top_chain_id(store.images.list()[0])
    assert _tree(client) == [
        (ct.id, f"{ct.id}-init", "Active"),
        (f"{ct.id}-init", top, "Committed"),
        (top, "", "Committed"),
    ]
    assert [lease.id for lease in store.containerd.leases.list(NS)] == [ct.id]
    n = store.images.sn.snapshot_id(NS, ct.id)
    client.clock.advance(1)
    ct.restart(timeout=1)
    client.clock.advance(1)
    assert store.images.sn.snapshot_id(NS, ct.id) == n
    upper = os.path.join(store.containerd.backends["overlayfs"].root, "snapshots", n, "fs")
    with open(os.path.join(upper, "data.txt")) as f:
        assert f.read() == "hi\nhi\n"
    assert ct.diff() == [{"Path": "/data.txt", "Kind": 1}]
    ct.reload()
    assert ct.attrs["GraphDriver"] == {"Data": {"ID": ct.id}, "Name": "overlayfs"}
    ct.remove(force=True)
    assert _tree(client) == [(top, "", "Committed")]
    assert not os.path.exists(upper)


def test_daemon_json_feature_and_restore(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "daemon.json").write_text(json.dumps({"features": {"containerd-snapshotter": True}}))
    c = DockerClient(root=str(root), seed=3, clock="virtual", mounts="user")
    assert c.daemon.storage == "containerd"
    ct = c.containers.run(c.images.base(), "sh -c 'echo hi >> /data.txt'", detach=True, name="keep")
    c.clock.advance(1)
    c.close()
    c = DockerClient(root=str(root), seed=3, clock="virtual", mounts="user")
    try:
        ct = c.containers.get("keep")
        ct.start()
        c.clock.advance(1)
        rw = c.daemon.rw_layers[ct.id]
        with open(os.path.join(rw.upper_dir(), "data.txt")) as f:
            assert f.read() == "hi\nhi\n"
        assert os.path.isdir(root / "containerd" / "daemon" / "io.containerd.metadata.v1.bolt")
    finally:
        c.close()


@pytest.mark.root
@pytest.mark.kernel
def test_kernel_mount_line_as_root():
    from dockerlayers.graphdriver import kernel

    if not kernel.overlay_supported():
        pytest.skip("the kernel's overlayfs needs root and overlay support")
    c = DockerClient(seed=3, clock="virtual", mounts="kernel", storage="containerd")
    try:
        ct = c.containers.run(c.images.base(), "sh -c 'echo hi > /k.txt; sleep 100'", detach=True)
        rw = c.daemon.rw_layers[ct.id]
        target = rw.layer.mount_point()
        with open("/proc/mounts") as f:
            lines = [line for line in f.read().splitlines() if f" {target} " in line]
        assert len(lines) == 1
        opts = lines[0].split()[3].split(",")
        want = rw.layer.mount_line().split("(", 1)[1].rstrip(")").split(",")
        assert [o for o in opts if o.split("=")[0] in ("lowerdir", "upperdir", "workdir")] == [
            o for o in want if o.split("=")[0] in ("lowerdir", "upperdir", "workdir")
        ]
        assert os.listdir(rw.upper_dir()) == ["k.txt"]
        ct.stop(timeout=0)
        with open("/proc/mounts") as f:
            assert f" {target} " not in f.read()
    finally:
        c.close()


def test_images_mirrored_with_docker29_names_and_ids(client, tmp_path):
    imgs = client.daemon.layer_store.images
    base = client.images.base()
    (rec,) = imgs.list()
    assert rec.name == "docker.io/library/base:latest"
    assert rec.id == base.id  # Docker 29's ID: the manifest digest, not the config digest
    config_id = client.daemon.image_service.get_image(base.id).id
    assert imgs.manifest(rec)["config"]["digest"] == config_id != base.id
    base.tag("mybase", "v1")
    assert sorted(r.name for r in imgs.list()) == [
        "docker.io/library/base:latest",
        "docker.io/library/mybase:v1",
    ]
    (tmp_path / "Dockerfile").write_text("FROM base\nRUN echo hi > /x\n")
    img, _ = client.images.build(path=str(tmp_path), tag="two:1")
    two = imgs.get("docker.io/library/two:1")
    assert len(imgs.chain_ids(two)) == 2
    sizes = imgs.sizes(two)
    assert sizes["total"] == sizes["content"] + sizes["unpacked"]
    top = imgs.top_chain_id(two)
    ct = client.containers.create(img, "true")
    # Docker 29: rmi -f of the only name of a container's image keeps the image, dangling
    # (moby 29: image_delete.go softImageDelete); only the untag is reported
    assert client.api.remove_image("two:1", force=True) == [{"Untagged": "two:1"}]
    assert sorted(r.name for r in imgs.list()) == [
        "docker.io/library/base:latest",
        "docker.io/library/mybase:v1",
        "moby-dangling@" + img.id,
    ]
    assert imgs.sn.stat(NS, f"{ct.id}-init").parent == top
    assert top in [s.name for s in imgs.sn.walk(NS)]
    ct.remove()
    client.images.remove(img.id)  # by ID: the image goes, with a synchronous GC
    # only base's blobs (manifest, config, layer) and snapshot are left
    assert len(list(imgs.ctrd.local.walk())) == 3
    assert [s.name for s in imgs.sn.walk(NS)] == [imgs.top_chain_id(rec)]


def test_dangling_when_a_child_keeps_it(client, tmp_path):
    imgs = client.daemon.layer_store.images
    client.images.base()
    (tmp_path / "Dockerfile").write_text("FROM base\nRUN echo hi > /x\n")
    img, _ = client.images.build(path=str(tmp_path), tag="two:1")
    ct = client.containers.run(img, "true", detach=True)
    client.clock.advance(1)
    ct.commit("snap", "1")
    digest = imgs.get("docker.io/library/two:1").digest
    client.images.remove("two:1", force=True)  # it has a child image: untagged, kept
    assert f"moby-dangling@{digest}" in [r.name for r in imgs.list()]


def test_client_sees_docker29_image_ids_and_sizes(client):
    base = client.images.base()
    rec = client.daemon.layer_store.images.get("docker.io/library/base:latest")
    assert base.id == rec.digest  # the manifest digest
    assert client.images.get(base.id[7:19]).id == base.id
    sizes = client.daemon.layer_store.images.sizes(rec)
    assert base.attrs["Size"] == sizes["content"] + sizes["unpacked"]
    assert [i.id for i in client.images.list()] == [base.id]
    ct = client.containers.run(base, "sh -c 'echo hi > /x'", detach=True)
    client.clock.advance(1)
    assert ct.image.id == base.id
    new = ct.commit("snap", "1")  # the container's layer survives the commit's handle
    assert new.id.startswith("sha256:") and new.tags == ["snap:1"]
    assert ct.diff() == [{"Path": "/x", "Kind": 1}]
    assert client.daemon.disk_usage()["Containers"][0]["SizeRw"] > 0


def test_container_image_field_and_system_df(client):
    base = client.images.base()
    ct = client.containers.run(base, "true", detach=True)
    client.clock.advance(1)
    ct.reload()
    assert ct.attrs["Image"] == base.id  # Docker 29: the manifest digest
    (row,) = client.api.containers(all=True)
    assert row["ImageID"] == base.id
    df = client.daemon.disk_usage()
    (img,) = df["Images"]
    assert (img["Id"], img["Size"]) == (base.id, base.attrs["Size"])
    # LayersSize: every snapshot's usage (the container's too) + the images' blobs
    store = client.daemon.layer_store
    sn = store.images.sn
    snaps = sum(sn.usage(NS, i.name).size for i in sn.walk(NS))
    blobs = sum(store.containerd.local.size(d) for d in store.containerd.local.walk())
    assert df["LayersSize"] == snaps + blobs


def test_panels_show_snapshot_folders(client):
    from dockerlayers.viz import ContainerLab
    from dockerlayers.viz._model import container_layer_infos
    from dockerlayers.viz.testing import PanelRunner

    lab = ContainerLab(client, image=client.images.base())
    runner = PanelRunner(lab)
    for verb in ("create", "start", "run exec", "restart", "commit", "stop"):
        runner.click(verb)
        assert lab.controls["error"].value == "", verb
    (ct,) = client.containers.list(all=True)
    infos = container_layer_infos(client.daemon, ct.id)
    sn = client.daemon.layer_store.images.sn
    snaps = "containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots"
    assert [(i.kind, i.folder) for i in infos] == [
        ("image", f"{snaps}/1/fs"),
        ("init", f"{snaps}/{sn.snapshot_id(NS, ct.id + '-init')}/fs"),
        ("rw", f"{snaps}/{sn.snapshot_id(NS, ct.id)}/fs"),
    ]
    runner.click("rm")
    assert lab.controls["error"].value == ""


def test_commit_snapshot_hangs_on_init_as_in_docker29(client):
    base = client.images.base()
    ct = client.containers.run(base, "sh -c 'echo hi > /x'", detach=True)
    client.clock.advance(1)
    new = ct.commit("snap", "1")
    imgs = client.daemon.layer_store.images
    rec = imgs.get("docker.io/library/snap:1")
    assert rec.id == new.id
    top = imgs.top_chain_id(rec)
    info = imgs.sn.stat(NS, top)
    assert (info.kind, info.parent) == ("Committed", f"{ct.id}-init")
    # the layer blob is gzip, labelled with its DiffID (the tar of the container's upper)
    layer = imgs.manifest(rec)["layers"][-1]
    labels = imgs.ctrd.content.info(NS, layer["digest"]).labels
    assert labels["containerd.io/uncompressed"] == imgs.config(rec)["rootfs"]["diff_ids"][-1]
    ct.remove()
    # rm collected <id> only: the image's snapshot keeps <id>-init alive
    assert imgs.ctrd.last_gc.snapshots == [f"moby/overlayfs/{ct.id}"]
    assert imgs.sn.stat(NS, f"{ct.id}-init").kind == "Committed"
    c2 = client.containers.run(new, "cat /x", detach=True)
    client.clock.advance(1)
    assert c2.logs() == b"hi\n"


def test_save_writes_docker29_layout_from_content(client, tmp_path):
    import io
    import tarfile

    base = client.images.base()
    data = b"".join(base.save(named=True))
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        names = t.getnames()
        index = json.load(t.extractfile("index.json"))
        mf = json.load(t.extractfile("manifest.json"))
    assert {"oci-layout", "index.json", "manifest.json"} <= set(names)
    (entry,) = index["manifests"]
    assert entry["digest"] == base.id  # the image ID (manifest digest) is what is saved
    assert entry["annotations"]["io.containerd.image.name"] == "docker.io/library/base:latest"
    assert mf[0]["RepoTags"] == ["base:latest"]
    imgs = client.daemon.layer_store.images
    for d in imgs.ctrd.local.walk():  # the blobs as stored, compressed layers included
        assert f"blobs/sha256/{d[7:]}" in names
    other = DockerClient(seed=4, clock="virtual", mounts="user")
    try:
        other.images.load(data)
        assert other.images.get("base:latest").tags == ["base:latest"]
    finally:
        other.close()


def test_load_of_an_oci_archive_keeps_its_manifest(client, base_oci):
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(base_oci)) as t:
        index = json.load(t.extractfile("index.json"))
    want = index["manifests"][0]["digest"]
    client.images.load(base_oci)
    img = client.images.get("base:latest")
    assert img.id == want  # the archive's manifest digest (uncompressed layers kept as they are)
    imgs = client.daemon.layer_store.images
    assert [r.name for r in imgs.list()] == ["docker.io/library/base:latest"]
