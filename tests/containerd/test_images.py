"""Docker 29's images on containerd: the ID rule, unpack by chain ID, labels, sizes, dangling."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from dockerlayers.containerd import NotFound
from dockerlayers.digest import chain_id

NS = "moby"


def _oci(data: bytes) -> tuple[dict, dict]:
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        index = json.load(t.extractfile("index.json"))
        d = index["manifests"][0]["digest"].split(":")[1]
        manifest = json.load(t.extractfile(f"blobs/sha256/{d}"))
    return index, manifest


def test_image_id_is_the_manifest_digest(images, base_oci):
    (img,) = images.load(base_oci)
    index, manifest = _oci(base_oci)
    assert img.name == "docker.io/library/base:latest"
    assert img.id == index["manifests"][0]["digest"]
    assert img.id != manifest["config"]["digest"]
    assert images.resolve("base").id == img.id
    assert images.resolve(img.id[7:19]).name == img.name


def test_unpack_names_snapshots_by_chain_id_and_labels(images, two_layer_oci):
    (img,) = images.load(two_layer_oci)
    _, manifest = _oci(two_layer_oci)
    cfg = images.config(img)
    diff_ids = cfg["rootfs"]["diff_ids"]
    chains = [str(chain_id(diff_ids[:1])), str(chain_id(diff_ids))]
    tree = [(i.name, i.parent, i.kind) for i in images.sn.walk(NS)]
    assert sorted(tree) == sorted(
        [(chains[0], "", "Committed"), (chains[1], chains[0], "Committed")]
    )
    # extract keys took sequences 1 and 3, the committed chain IDs 2 and 4; N = 1, 2
    assert images.sn.resolve_key(NS, chains[0]) == f"moby/2/{chains[0]}"
    assert images.sn.resolve_key(NS, chains[1]) == f"moby/4/{chains[1]}"
    assert [images.sn.snapshot_id(NS, c) for c in chains] == ["1", "2"]
    cs = images.ctrd.content
    assert cs.info(NS, img.digest).labels == {
        "containerd.io/gc.ref.content.config": manifest["config"]["digest"],
        "containerd.io/gc.ref.content.l.0": manifest["layers"][0]["digest"],
        "containerd.io/gc.ref.content.l.1": manifest["layers"][1]["digest"],
    }
    assert cs.info(NS, manifest["config"]["digest"]).labels == {
        "containerd.io/gc.ref.snapshot.overlayfs": chains[1]
    }
    for layer, diff_id in zip(manifest["layers"], diff_ids):
        assert cs.info(NS, layer["digest"]).labels == {"containerd.io/uncompressed": diff_id}
    assert images.ctrd.leases.list(NS) == []  # the import's lease is gone


def test_whiteout_applied_in_snapshot(images, two_layer_oci):
    (img,) = images.load(two_layer_oci)
    from dockerlayers.containerd.rwlayer import create_layer

    rw = create_layer(images, "c", img, None, str(images.ctrd.root))
    fs = rw.mount()
    assert fs.read_bytes("/hello.txt") == b"hello\n"
    assert not fs.exists("/etc/os-release")


def test_sizes_content_plus_unpacked(images, base_oci):
    (img,) = images.load(base_oci)
    _, manifest = _oci(base_oci)
    s = images.sizes(img)
    assert s["content"] == img.size + manifest["config"]["size"] + manifest["layers"][0]["size"]
    chain = images.top_chain_id(img)
    assert s["unpacked"] == images.sn.usage(NS, chain).size > 0
    assert s["total"] == s["content"] + s["unpacked"]
    # stored twice: the blob files and the snapshot's files
    blobs = sum(images.ctrd.local.size(d) for d in images.ctrd.local.walk())
    assert blobs == s["content"]


def test_delete_is_synchronous_and_collects(images, base_oci):
    (img,) = images.load(base_oci)
    images.delete(img.name)
    assert images.sn.walk(NS) == []
    assert list(images.ctrd.local.walk()) == []
    with pytest.raises(NotFound):
        images.get(img.name)


def test_untag_last_name_keeps_dangling(images, base_oci):
    (img,) = images.load(base_oci)
    images.untag(img.name)
    (dangling,) = images.list()
    assert dangling.name == f"moby-dangling@{img.digest}"
    assert dangling.id == img.id
    assert len(images.sn.walk(NS)) == 1
