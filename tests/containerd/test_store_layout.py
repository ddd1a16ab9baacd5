"""The containerd store keeps everything in containerd, as Docker 29 does: no graph driver
folder, no layerdb, no imagedb (moby 29 daemon/daemon.go makes no layer store with the
containerd snapshotter), and what is on disk survives a reopen."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile

import pytest

from dockerlayers import DockerClient
from dockerlayers.containerd.images import DANGLING_PREFIX

NS = "moby"
GRAPH_ONLY = ("image", "overlay2", "aufs", "vfs")


def _open(root):
    return DockerClient(
        root=str(root), seed=3, clock="virtual", mounts="user", storage="containerd"
    )


@pytest.fixture
def root(tmp_path):
    return tmp_path / "docker"


def _no_graph_store(root) -> None:
    present = sorted(os.listdir(root))
    assert not [d for d in GRAPH_ONLY if d in present], present
    assert "containerd" in present


def _blob(root, digest: str) -> bytes:
    path = root / "containerd/daemon/io.containerd.content.v1.content/blobs/sha256" / digest[7:]
    return path.read_bytes()


def test_every_verb_leaves_no_graph_store(root, tmp_path):
    c = _open(root)
    try:
        base = c.images.base()
        ct = c.containers.run(base, ["sh", "-c", "echo hi > /f"], detach=True)
        ct.wait()
        snap = ct.commit("snap", "1")
        ctx = tmp_path / "ctx"
        ctx.mkdir()
        (ctx / "Dockerfile").write_text("FROM base\nRUN echo built > /b\n")
        built, _ = c.images.build(path=str(ctx), tag="built:1")
        saved = b"".join(c.images.get("built:1").save())
        c.images.remove("built:1")
        c.images.load(saved)
        ct.remove()
        c.images.remove("snap:1")
        _no_graph_store(root)
        # the work leases ended: what is left are containers' leases (none now)
        assert c.daemon.layer_store.containerd.leases.list(NS) == []
        assert {i.id for i in c.images.list()} >= {base.id, built.id}
        assert snap.id not in {i.id for i in c.images.list(all=True)}
    finally:
        c.close()
    _no_graph_store(root)


def test_work_leases_are_docker29s_and_a_crash_leaves_none(root):
    """moby 29 leases.go: a random ID, `moby/prune.images` and `containerd.io/gc.expire`
    (8 hours on); one left by a crash goes at the next start, with what only it held."""
    c = _open(root)
    store = c.daemon.layer_store
    lease = store.images.create_work_lease()
    (got,) = store.containerd.leases.list(NS)
    assert got.id == lease and got.labels["moby/prune.images"] == "true"
    assert got.labels["containerd.io/gc.expire"].endswith("Z")
    blob = store.containerd.content.write_blob(NS, b"orphan", lease=lease)
    c.close()
    c = _open(root)
    try:
        assert c.daemon.layer_store.containerd.leases.list(NS) == []
        blobs = root / "containerd/daemon/io.containerd.content.v1.content/blobs/sha256"
        assert not (blobs / blob.digest[7:]).exists()
    finally:
        c.close()


def test_reopen_keeps_images_names_layers_and_containers(root):
    c = _open(root)
    base = c.images.base()
    ct = c.containers.run(base, ["sh", "-c", "echo kept > /data; sleep 100"], detach=True)
    c.clock.advance(1)
    img = ct.commit("app", "2")
    ct.stop(timeout=0)
    layers = set(c.daemon.layer_store.map())
    c.close()

    c = _open(root)
    try:
        assert c.images.get("app:2").id == img.id
        assert c.images.get("app:2").attrs["Parent"] == base.id
        assert set(c.daemon.layer_store.map()) == layers
        again = c.containers.get(ct.id)
        assert again.image.id == base.id
        again.start()
        c.clock.advance(1)
        assert again.exec_run("cat /data").output == b"kept\n"  # the same RW snapshot
        out = c.containers.run("app:2", "cat /data", remove=True)
        assert out == b"kept\n"  # the committed layer, read from its snapshot
    finally:
        c.close()


def test_config_v2_json_holds_the_target_digest(root):
    c = _open(root)
    try:
        base = c.images.base()
        ct = c.containers.create(base, "true")
        with open(root / "containers" / ct.id / "config.v2.json") as f:
            assert json.load(f)["Image"] == base.id  # moby 29: ctr.ImageID = img.ID()
        assert c.api.inspect_container(ct.id)["Image"] == base.id
    finally:
        c.close()


def test_commit_writes_createImageOCI_content(root):
    c = _open(root)
    try:
        base = c.images.base()
        ct = c.containers.run(base, ["sh", "-c", "echo x > /x"], detach=True)
        ct.wait()
        img = ct.commit("c", "1")
        raw = _blob(root, img.id)
        assert hashlib.sha256(raw).hexdigest() == img.id[7:]
        manifest = json.loads(raw)
        assert raw.startswith(b'{\n    "mediaType": "application/vnd.oci.image.manifest.v1+json"')
        layer = manifest["layers"][-1]
        assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"  # createDiff
        # the parent's layers are the parent's descriptors (createImageOCI)
        assert manifest["layers"][0] == json.loads(_blob(root, base.id))["layers"][0]
        blob = _blob(root, layer["digest"])
        assert blob[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # Go's gzip header
        tar = gzip.decompress(blob)
        cfg = json.loads(_blob(root, manifest["config"]["digest"]))
        assert "sha256:" + hashlib.sha256(tar).hexdigest() == cfg["rootfs"]["diff_ids"][-1]
        with tarfile.open(fileobj=io.BytesIO(tar)) as t:
            assert "x" in t.getnames()
        store = c.daemon.layer_store
        info = store.containerd.content.info(NS, layer["digest"])
        assert info.labels["containerd.io/uncompressed"] == cfg["rootfs"]["diff_ids"][-1]
        mlabels = store.containerd.content.info(NS, img.id).labels
        assert mlabels["containerd.io/gc.ref.content.0"] == manifest["config"]["digest"]
        rec = store.images.get("docker.io/library/c:1")
        assert rec.labels["org.mobyproject.image.parent"] == base.id
        # the image's snapshot sits on the container's init snapshot (applyDiffLayer)
        top = store.images.top_chain_id(rec)
        assert store.images.sn.stat(NS, top).parent == f"{ct.id}-init"
    finally:
        c.close()


def test_import_writes_ImportImage_content(root):
    c = _open(root)
    try:
        base = c.images.base()
        raw = _blob(root, base.id)
        assert raw.startswith(b'{"schemaVersion":2,"mediaType":')  # storeJson: compact
        manifest = json.loads(raw)
        assert manifest["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
        labels = c.daemon.layer_store.containerd.content.info(NS, base.id).labels
        assert labels == {
            "containerd.io/gc.ref.content.config": manifest["config"]["digest"],
            "containerd.io/gc.ref.content.l.0": manifest["layers"][0]["digest"],
        }
    finally:
        c.close()


def test_untagged_image_is_a_dangling_record_and_rmi_collects(root):
    c = _open(root)
    try:
        base = c.images.base()
        ct = c.containers.run(base, ["sh", "-c", "echo y > /y"], detach=True)
        ct.wait()
        img = ct.commit()  # no name
        store = c.daemon.layer_store
        names = [r.name for r in store.images.list()]
        assert DANGLING_PREFIX + img.id in names
        c.api.tag(img.id, "named", "1")
        names = [r.name for r in store.images.list()]
        assert DANGLING_PREFIX + img.id not in names  # a name replaces the dangling record
        assert "docker.io/library/named:1" in names
        ct.remove()
        layer_blob = json.loads(_blob(root, img.id))["layers"][-1]["digest"]
        c.images.remove("named:1")
        blobs = root / "containerd/daemon/io.containerd.content.v1.content/blobs/sha256"
        assert not (blobs / layer_blob[7:]).exists()  # the synchronous GC took the blob
        assert [r.name for r in store.images.list()] == ["docker.io/library/base:latest"]
    finally:
        c.close()


def test_rmi_force_of_a_used_image_keeps_it_dangling(root):
    c = _open(root)
    try:
        base = c.images.base()
        ct = c.containers.run(base, ["sh", "-c", "echo z > /z"], detach=True)
        ct.wait()
        img = ct.commit("used", "1")
        user = c.containers.create("used:1", "true")
        c.images.remove("used:1", force=True)
        names = [r.name for r in c.daemon.layer_store.images.list()]
        assert DANGLING_PREFIX + img.id in names
        assert user.image.id == img.id
    finally:
        c.close()


def test_load_of_a_20_10_archive_keeps_its_layer_tars(root, tmp_path):
    """containerd's Import of `manifest.json` archives: layers as they are (uncompressed,
    `...rootfs.diff.tar`), a Docker schema 2 manifest, compact (importer.go writeManifest)."""
    g = DockerClient(root=str(tmp_path / "graph"), seed=3, clock="virtual", mounts="user")
    try:
        base = g.images.base()
        ct = g.containers.run(base, ["sh", "-c", "echo 1 > /a"], detach=True)
        ct.wait()
        ct.commit("two", "1")
        data = b"".join(g.images.get("two:1").save(named=True))
    finally:
        g.close()
    c = _open(root)
    try:
        (img,) = c.images.load(data)
        assert img.tags == ["two:1"]
        raw = _blob(root, img.id)
        manifest = json.loads(raw)
        assert raw.startswith(b'{"schemaVersion":2,"mediaType":"application/vnd.docker.')
        assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            layer_tars = json.load(t.extractfile("manifest.json"))[0]["Layers"]
            tars = [t.extractfile(name).read() for name in layer_tars]
        assert [lyr["digest"] for lyr in manifest["layers"]] == [
            "sha256:" + hashlib.sha256(b).hexdigest() for b in tars
        ]
        assert {lyr["mediaType"] for lyr in manifest["layers"]} == {
            "application/vnd.docker.image.rootfs.diff.tar"
        }
        assert c.containers.run("two:1", "cat /a", remove=True) == b"1\n"
        _no_graph_store(root)
    finally:
        c.close()


def test_native_snapshotter_is_the_vfs_of_the_containerd_store(root):
    """`storage-driver: native` with the containerd snapshotter: every snapshot a full copy;
    restart keeps the active snapshot, a whiteout is a deletion, commit works."""
    c = DockerClient(
        root=str(root), driver="native", seed=3, clock="virtual", mounts="user",
        storage="containerd",
    )  # fmt: skip
    try:
        assert c.daemon.info()["Driver"] == "native"
        base = c.images.base()
        cmd = ["sh", "-c", "echo hi > /f; rm /bin/yes; sleep 100"]
        ct = c.containers.run(base, cmd, detach=True)
        c.clock.advance(1)
        store = c.daemon.layer_store
        n = store.images.sn.snapshot_id(NS, ct.id)
        native = root / "containerd/daemon/io.containerd.snapshotter.v1.native/snapshots"
        assert (native / n / "bin" / "sh").exists()  # a full copy of the image, plus the change
        assert not (native / n / "bin" / "yes").exists()
        ct.restart(timeout=0)
        c.clock.advance(1)
        assert store.images.sn.snapshot_id(NS, ct.id) == n
        img = ct.commit("n", "1")
        out = c.containers.run(img, ["sh", "-c", "cat /f; ls /bin/yes || echo gone"], remove=True)
        assert out.endswith(b"gone\n") and out.startswith(b"hi\n")
        _no_graph_store(root)
    finally:
        c.close()
    with pytest.raises(OSError, match='configured driver "vfs" not available'):
        DockerClient(root=str(root), driver="vfs", storage="containerd")


def test_build_with_copy_and_rmi_by_id_or_name_at_digest(root, tmp_path):
    c = _open(root)
    try:
        c.images.base()
        ctx = tmp_path / "ctx"
        ctx.mkdir()
        (ctx / "a.txt").write_text("copied\n")
        (ctx / "Dockerfile").write_text("FROM base\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b\n")
        img, _ = c.images.build(path=str(ctx), tag="cp:1")
        assert c.containers.run("cp:1", "cat /b", remove=True) == b"copied\n"
        top = json.loads(_blob(root, img.id))["layers"][-1]
        assert top["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar.gzip"
        # rmi by ID of a named image: its names go, then the image (moby 29 deleteAll)
        out = c.api.remove_image(img.id)
        assert out[0] == {"Untagged": "cp:1"} and {"Deleted": img.id} in out
        img, _ = c.images.build(path=str(ctx), tag="x:1")
        c.api.tag(img.id, "x", "2")
        c.api.tag(img.id, "y", "1")
        # NAME@<digest>: the records of NAME with that target; not all of the image's
        out = c.api.remove_image(f"x@{img.id}")
        assert sorted(d["Untagged"] for d in out) == ["x:1", "x:2"]
        assert c.images.get(img.id).tags == ["y:1"]
        out = c.api.remove_image(f"y@{img.id}")  # all of them: the image goes
        assert out[0] == {"Untagged": "y:1"} and {"Deleted": img.id} in out
        with pytest.raises(Exception, match="No such image"):
            c.api.remove_image(f"y@{img.id}")
    finally:
        c.close()


def test_load_moves_a_name_to_the_archive_manifest(root):
    """moby 29 LoadImage: a name the archive gives moves to its manifest; the old target
    stays as `moby-dangling@<digest>` (ensureDanglingImage)."""
    c = _open(root)
    try:
        base = c.images.base()
        ct = c.containers.run(base, ["sh", "-c", "echo 1 > /a"], detach=True)
        ct.wait()
        before = ct.commit("x", "1")
        oci = c.daemon.save(["x:1"], format="oci")  # the same config, another manifest
        (loaded,) = c.images.load(oci)
        assert loaded.id != before.id and loaded.tags == ["x:1"]
        names = {r.name: r.digest for r in c.daemon.layer_store.images.list()}
        assert names["docker.io/library/x:1"] == loaded.id
        assert names[DANGLING_PREFIX + before.id] == before.id
    finally:
        c.close()


def test_a_crash_leaves_no_kernel_mount_behind(root):
    """moby 29 restore: a crashed daemon's rootfs mounts are unmounted at the next start
    (here: a second client on the root, as after a crash); native's mount is a bind."""
    from dockerlayers.graphdriver import kernel

    if not kernel.overlay_supported():
        pytest.skip("needs root and the kernel's overlayfs")
    for driver in ("overlayfs", "native"):
        where = root / driver
        c = DockerClient(
            root=str(where), driver=driver, seed=3, clock="virtual", mounts="kernel",
            storage="containerd",
        )  # fmt: skip
        ct = c.containers.run(c.images.base(), ["sh", "-c", "echo hi > /f; sleep 100"], detach=True)
        c.clock.advance(1)
        assert kernel.mounts_under(str(where / "rootfs"))
        c.daemon.abandon()  # a crash: nothing unmounted, nothing written
        c = _open_kernel(where, driver)
        try:
            assert kernel.mounts_under(str(where / "rootfs")) == []
            again = c.containers.get(ct.id)
            again.start()
            c.clock.advance(1)
            assert len(kernel.mounts_under(str(where / "rootfs"))) == 1
            assert again.exec_run("cat /f").output == b"hi\n"
            again.remove(force=True)
            assert kernel.mounts_under(str(where / "rootfs")) == []
        finally:
            c.close()


def _open_kernel(root, driver):
    return DockerClient(
        root=str(root), driver=driver, seed=3, clock="virtual", mounts="kernel",
        storage="containerd",
    )  # fmt: skip


def test_parent_of_an_unnamed_commit(root):
    """The parent label is read back at once (docker-py's CommitTest: commit, inspect)."""
    c = _open(root)
    try:
        base = c.images.base()
        ct = c.containers.run(base, ["sh", "-c", "echo p > /p"], detach=True)
        ct.wait()
        img_id = c.api.commit(ct.id)["Id"]
        assert c.api.inspect_image(img_id)["Parent"] == base.id
    finally:
        c.close()


def test_load_of_an_umoci_layout_keeps_its_manifest(root, tmp_path):
    """An OCI layout made by another tool (umoci), tarred with `./` names: containerd's
    importer cleans the names, keeps every blob, and the image ID is umoci's manifest."""
    import shutil
    import subprocess

    if shutil.which("umoci") is None:
        pytest.skip("umoci not installed (CI: apt-get install umoci)")
    layout, bundle = tmp_path / "img", tmp_path / "bundle"

    def umoci(*args: str) -> None:
        subprocess.run(["umoci", *args], check=True, capture_output=True)

    umoci("init", "--layout", str(layout))
    umoci("new", "--image", f"{layout}:latest")
    umoci("unpack", "--rootless", "--image", f"{layout}:latest", str(bundle))
    (bundle / "rootfs" / "hi").write_text("made by umoci\n")
    umoci("repack", "--image", f"{layout}:latest", str(bundle))
    archive = tmp_path / "img.tar"
    subprocess.run(["tar", "cf", str(archive), "-C", str(layout), "."], check=True)
    index = json.loads((layout / "index.json").read_text())
    manifest = index["manifests"][0]["digest"]
    c = _open(root)
    try:
        (img,) = c.images.load(archive.read_bytes())
        assert img.id == manifest
        doc = json.loads((layout / "blobs" / "sha256" / manifest[7:]).read_bytes())
        reached = {manifest, doc["config"]["digest"], *(x["digest"] for x in doc["layers"])}
        kept = {i.digest for i in c.daemon.layer_store.containerd.content.list(NS)}
        assert kept == reached  # the image's blobs as umoci wrote them (no re-compressed copy)
        c.api.tag(img.id, "umoci", "1")
        ct = c.containers.create("umoci:1", "true")  # (no shell in it: read the file out)
        stream, _ = ct.get_archive("/hi")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as t:
            assert t.extractfile("hi").read() == b"made by umoci\n"
    finally:
        c.close()
