"""docker save / docker load in every format, hostile archives, and real tools."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from dockerlayers.image import LoadError
from dockerlayers.testing.invariants import tree_hash
from tests.support.hostile_images import HOSTILE
from tests.support.hostile_images import hostile_cases as _hostile_cases
from tests.support.images import (
    build_image,
    host_view,
    layer_tar,
    make_service,
    merged_view,
    rich_image,
    save_bytes,
    warm,
)
from tests.support.images import legacy_without_manifest as _legacy_without_manifest
from tests.support.images import pack as _pack

FORMATS = ["docker", "docker-legacy", "docker-25", "oci", "oci-gzip", "oci-dir"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(service, other, tmp_path, fmt):
    _round_trip(service, other, tmp_path, fmt)


@pytest.mark.parametrize("driver", ["vfs", "aufs"])
def test_round_trip_other_drivers(tmp_path, driver):
    a = make_service(str(tmp_path / "a"), driver)
    b = make_service(str(tmp_path / "b"), driver, seed=5)
    _round_trip(a, b, tmp_path, "docker")


def _round_trip(service, other, tmp_path, fmt):
    id = rich_image(service)
    view = merged_view(service, id)
    assert view["/etc/conf"] == ("file", 0o600, b"v2")
    assert "/etc/old" not in view and "/data/a" not in view and "/data/new" in view
    data = save_bytes(service, ["rich:1"], fmt, tmp_path)
    lines = other.load(data)
    assert lines == ["Loaded image: rich:1"]
    loaded = other.get_image("rich:1")
    assert loaded.id == id
    assert loaded.rootfs.diff_ids == service.get_image(id).rootfs.diff_ids
    assert merged_view(other, id) == view
    # loading again changes nothing and says so
    assert other.load(data) == ["Loaded image: rich:1"]


class _Pipe(io.RawIOBase):
    """A write-only stream that cannot seek, like a socket or `docker save > pipe`."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.data += b
        return len(b)


@pytest.mark.parametrize("fmt", ["docker", "docker-25", "oci"])
def test_streamed_and_spooled_layers_give_the_same_bytes(service, tmp_path, fmt):
    """Layers go straight into a file or a seekable stream and through verified temp
    files into a pipe: the archive is the same."""
    rich_image(service)
    seekable = save_bytes(service, ["rich:1"], fmt, tmp_path)
    pipe = _Pipe()
    service.save(["rich:1"], pipe, fmt)
    path = tmp_path / "out.tar"
    service.save(["rich:1"], str(path), fmt)
    assert bytes(pipe.data) == seekable == path.read_bytes()


def _corrupt_a_layer(service, id) -> None:
    from dockerlayers.image.rootfs import RootFS

    diff_ids = service.get_image(id).rootfs.diff_ids
    layer = service.layer_store.get(RootFS("layers", diff_ids[:3]).chain_id())
    try:
        folder = service.layer_store.driver.layer_dir(layer.ro_layer.cache_id)
    finally:
        service.layer_store.release(layer)
    with open(os.path.join(folder, "data", "new"), "wb") as f:
        f.write(b"NEW")  # same size: only the DiffID check at the stream's end sees it


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_layer_that_fails_verification_writes_nothing(service, tmp_path, fmt):
    """moby: layer/layer.go verifiedReadCloser; ours: nothing half-written."""
    from dockerlayers.layer import VerificationError

    id = rich_image(service)
    _corrupt_a_layer(service, id)
    gz = fmt == "oci-gzip"
    fmt = "oci" if gz else fmt
    message = "could not verify layer data for: sha256:"
    if fmt == "oci-dir":
        (tmp_path / "layout").mkdir()
        with pytest.raises(VerificationError, match=message):
            service.save(["rich:1"], str(tmp_path / "layout"), fmt)
        assert os.listdir(tmp_path / "layout") == []
        assert sorted(os.listdir(tmp_path)) == ["layout", "root"]
        return
    with pytest.raises(VerificationError, match=message):
        service.save(["rich:1"], str(tmp_path / "out.tar"), fmt, gzip_layers=gz)
    assert sorted(os.listdir(tmp_path)) == ["root"]
    buf = io.BytesIO(b"kept")
    buf.seek(4)
    with pytest.raises(VerificationError, match=message):
        service.save(["rich:1"], buf, fmt, gzip_layers=gz)
    assert buf.getvalue() == b"kept"
    pipe = _Pipe()
    with pytest.raises(VerificationError, match=message):
        service.save(["rich:1"], pipe, fmt, gzip_layers=gz)
    assert pipe.data == b""
    tmp = service.layer_store.tmp_dir
    assert not os.path.isdir(tmp) or os.listdir(tmp) == []


def test_docker_archive_layout(service, tmp_path):
    """ "docker" is 20.10's layout ("docker-legacy" its old name); "docker-25" is 25's."""
    id = rich_image(service)
    img = service.get_image(id)
    legacy = _tar(save_bytes(service, [id], "docker", tmp_path))
    assert save_bytes(service, [id], "docker-legacy", tmp_path) == save_bytes(
        service, [id], "docker", tmp_path
    )
    assert not any(n.startswith("blobs") or n == "index.json" for n in legacy.getnames())
    names = legacy.getnames()
    manifest = json.load(legacy.extractfile("manifest.json"))
    assert manifest[0]["Config"] == f"{id[7:]}.json" and manifest[0]["RepoTags"] is None
    assert len(manifest[0]["Layers"]) == 4 and f"{id[7:]}.json" in names
    first, last = manifest[0]["Layers"][0], manifest[0]["Layers"][3]
    assert legacy.getmember(last).issym()  # DiffID used twice: relative symlink
    assert legacy.getmember(last).linkname.startswith("../")
    assert legacy.extractfile(first.replace("layer.tar", "VERSION")).read() == b"1.0"
    assert legacy.getmember("manifest.json").mtime == 0
    created = legacy.getmember(f"{id[7:]}.json").mtime
    assert created > 0 and legacy.getmember(first).mtime == created
    top = json.load(legacy.extractfile(last.replace("layer.tar", "json")))
    assert top["id"] == last.split("/")[0] and "parent" in top and top["os"] == "linux"
    new = _tar(save_bytes(service, ["rich:1"], "docker-25", tmp_path))
    index = json.load(new.extractfile("index.json"))
    assert new.extractfile("oci-layout").read() == b'{"imageLayoutVersion": "1.0.0"}'
    desc = index["manifests"][0]
    assert desc["annotations"] == {
        "io.containerd.image.name": "docker.io/library/rich:1",
        "org.opencontainers.image.ref.name": "1",
    }
    man = json.load(new.extractfile("blobs/sha256/" + desc["digest"][7:]))
    assert man["config"]["digest"] == id
    assert [d["digest"] for d in man["layers"]] == img.rootfs.diff_ids
    assert json.load(new.extractfile("repositories")) == {
        "rich": {"1": img.rootfs.diff_ids[-1][7:]}
    }
    assert json.load(new.extractfile("manifest.json"))[0]["Layers"][0].startswith("blobs/sha256/")


def test_load_renames_tag_and_prints_ids(service, other, tmp_path):
    old = build_image(other, [layer_tar({"x": b"old"})], tag="rich:1")
    id = rich_image(service)
    lines = other.load(save_bytes(service, ["rich:1"], "docker", tmp_path))
    assert lines == [
        f"The image rich:1 already exists, renaming the old one with ID {old} to empty string",
        "Loaded image: rich:1",
    ]
    untagged = build_image(service, [layer_tar({"u": b"u"})])
    assert other.load(save_bytes(service, [untagged], "docker", tmp_path)) == [
        f"Loaded image ID: {untagged}"
    ]
    assert id in other.image_store


def test_parent_links_kept_within_archive(service, other, tmp_path):
    child = build_image(service, [layer_tar({"a": b"1"}), layer_tar({"b": b"2"})], tag="c")
    parent = service.image_store.get_parent(child)
    service.tag(parent, "p")
    other.load(save_bytes(service, ["c", "p"], "docker", tmp_path))
    assert other.image_store.get_parent(child) == parent


def _tar(data: bytes) -> tarfile.TarFile:
    return tarfile.open(fileobj=io.BytesIO(data))  # noqa: SIM115 (in memory)


def test_legacy_manifestless_load(service, other, tmp_path):
    id = build_image(service, [layer_tar({"a": b"1"}), layer_tar({"b": b"2"})], tag="old:1")
    m = _legacy_without_manifest(service, tmp_path, id, "old:1")
    lines = other.load(_pack(m))
    assert lines == ["Loaded image: old:1"]
    loaded = other.get_image("old:1")
    assert loaded.rootfs.diff_ids == service.get_image(id).rootfs.diff_ids
    assert merged_view(other, loaded.id) == merged_view(service, id)
    assert other.image_store.get_parent(loaded.id)  # one image per legacy layer


def test_enough_hostile_cases():
    assert len(HOSTILE) >= 15


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_changes_nothing(service, tmp_path, case):
    keep = build_image(service, [layer_tar({"k": b"k"})], tag="rich:1")
    id = rich_image(service, tag="src:1")
    service.tag(id, "rich:1")
    archive = HOSTILE[case](service, tmp_path, id)
    data = archive if isinstance(archive, bytes) else _pack(archive)
    service.tag(keep, "rich:1")  # the archive would move this tag
    service.remove("src:1")  # deletes the image and its untagged parents
    assert id not in service.image_store
    warm(service)
    before = tree_hash(service.root)
    with pytest.raises(LoadError) as e:
        service.load(data)
    assert str(e.value)
    assert tree_hash(service.root) == before
    assert service.get_image("rich:1").id == keep
    assert not os.listdir(service.layer_store.tmp_dir)


def test_specific_messages(service, other, tmp_path):
    id = rich_image(service)
    cases = _hostile_cases()
    for case, message in [
        ("manifest_null", "invalid manifest, manifest cannot be null (but can be [])"),
        ("layers_mismatch", "invalid manifest, layers length mismatch: expected 3, got 4"),
        ("bad_tag", 'invalid tag "rich"'),
        ("diff_id_mismatch", 'invalid diffID for layer 0: expected "sha256:'),
    ]:
        with pytest.raises(LoadError) as e:
            other.load(_pack(cases[case](service, tmp_path, id)))
        assert str(e.value).startswith(message), (case, str(e.value))


# -- real tools ------------------------------------------------------------------------------
def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return path


def _run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60, **kw)


def test_skopeo_inspects_docker_archives(service, tmp_path):
    skopeo = _tool("skopeo")
    id = rich_image(service)
    diff_ids = service.get_image(id).rootfs.diff_ids
    for fmt in ("docker", "docker-25"):
        path = tmp_path / f"{fmt}.tar"
        service.save(["rich:1"], str(path), fmt)
        out = json.loads(_run(skopeo, "inspect", f"docker-archive:{path}").stdout)
        assert out["Layers"] == diff_ids
        cfg = json.loads(_run(skopeo, "inspect", "--config", f"docker-archive:{path}").stdout)
        assert cfg["rootfs"]["diff_ids"] == diff_ids


def test_skopeo_inspects_oci(service, tmp_path):
    skopeo = _tool("skopeo")
    id = rich_image(service)
    service.save(["rich:1"], str(tmp_path / "layout"), "oci-dir", gzip_layers=True)
    out = json.loads(_run(skopeo, "inspect", f"oci:{tmp_path / 'layout'}:1").stdout)
    assert len(out["Layers"]) == 4
    raw = _run(skopeo, "inspect", "--raw", f"oci:{tmp_path / 'layout'}:1").stdout
    assert json.loads(raw)["config"]["digest"] == id
    service.save(["rich:1"], str(tmp_path / "img.tar"), "oci")
    out = json.loads(_run(skopeo, "inspect", f"oci-archive:{tmp_path / 'img.tar'}:1").stdout)
    assert out["Layers"] == service.get_image(id).rootfs.diff_ids


def _comparable(view):
    """Views compared with umoci's: a rootless unpack cannot keep every permission bit of
    folders it must write into, so folders compare by kind only."""
    return {p: (k, None if k == "dir" else m, c) for p, (k, m, c) in view.items()}


def test_umoci_unpacks_our_oci_like_our_merged_view(service, tmp_path):
    umoci = _tool("umoci")
    id = rich_image(service)
    for gz in (False, True):
        layout = tmp_path / f"layout{gz}"
        service.save(["rich:1"], str(layout), "oci-dir", gzip_layers=gz)
        bundle = tmp_path / f"bundle{gz}"
        _run(umoci, "unpack", "--rootless", "--image", f"{layout}:1", str(bundle))
        assert _comparable(host_view(str(bundle / "rootfs"))) == _comparable(
            merged_view(service, id)
        )


def test_image_made_by_umoci_loads(service, tmp_path):
    umoci = _tool("umoci")
    layout, bundle = tmp_path / "oci", tmp_path / "bundle"
    _run(umoci, "init", "--layout", str(layout))
    _run(umoci, "new", "--image", f"{layout}:t")

    def step(edit):
        if bundle.exists():
            shutil.rmtree(bundle)
        _run(umoci, "unpack", "--rootless", "--image", f"{layout}:t", str(bundle))
        edit(bundle / "rootfs")
        _run(umoci, "repack", "--image", f"{layout}:t", str(bundle))

    def first(r):
        (r / "etc").mkdir()
        (r / "etc" / "conf").write_text("v1")
        (r / "etc" / "gone").write_text("x")
        (r / "dir").mkdir()
        (r / "dir" / "old").write_text("old")
        (r / "bin").mkdir()
        (r / "bin" / "tool").write_text("#!/bin/sh\n")
        os.chmod(r / "bin" / "tool", 0o750)
        os.symlink("etc/conf", r / "link")
        os.link(r / "etc" / "conf", r / "hard")

    def second(r):
        (r / "etc" / "gone").unlink()
        shutil.rmtree(r / "dir")
        (r / "dir").mkdir()
        (r / "dir" / "new").write_text("new")
        os.chmod(r / "etc" / "conf", 0o600)
        os.symlink("/etc/conf", r / "abs")

    def third(r):
        (r / "etc" / "more").write_bytes(b"\0" * 3000)

    for edit in (first, second, third):
        step(edit)
    warm(service)
    lines = service.load(str(layout))
    assert len(lines) == 1 and lines[0].startswith("Loaded image ID: sha256:")
    id = lines[0].split(": ", 1)[1]
    img = service.get_image(id)
    assert len(img.rootfs.diff_ids) == 3
    shutil.rmtree(bundle)
    _run(umoci, "unpack", "--rootless", "--image", f"{layout}:t", str(bundle))
    ours = merged_view(service, id)
    assert "/etc/gone" not in ours and "/dir/old" not in ours and ours["/dir/new"][2] == b"new"
    assert _comparable(ours) == _comparable(host_view(str(bundle / "rootfs")))
    # and as a tar of the layout, gzip layers and all
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        tf.add(str(layout), arcname=".")
    other_id = service.load(buf.getvalue())
    assert other_id == lines
    assert gzip  # layers in umoci layouts are gzip
