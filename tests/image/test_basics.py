"""JSON encoding, references, the tag store, image configs and the image store."""

from __future__ import annotations

import json
import os

import pytest

from dockerlayers.digest import DIGEST_SHA256_EMPTY_TAR, from_bytes
from dockerlayers.image import (
    ContainerConfig,
    ImageError,
    ImageNotFound,
    InvalidReference,
    ReferenceStore,
    familiar_string,
    new_child_image,
    new_from_json,
    parse_normalized_named,
)
from dockerlayers.image.errors import ConflictError
from dockerlayers.image.jsonenc import format_rfc3339_nano, marshal, parse_rfc3339
from dockerlayers.image.store import ImageStore
from tests.support.images import build_image, layer_tar, make_service


def test_go_json_escapes_and_compact():
    assert marshal({"a": "<b>&", "c": [1, None, True]}) == (
        b'{"a":"\\u003cb\\u003e\\u0026","c":[1,null,true]}'
    )
    assert marshal({"é": "\u2028"}) == '{"é":"\\u2028"}'.encode()


def test_rfc3339_nano_like_go():
    assert format_rfc3339_nano(0) == "1970-01-01T00:00:00Z"
    assert format_rfc3339_nano(1_500_000_000) == "1970-01-01T00:00:01.5Z"
    assert parse_rfc3339("2016-08-18T06:13:28.269459769Z") % 10**9 == 269459769
    assert parse_rfc3339("1970-01-01T01:00:00+01:00") == 0


@pytest.mark.parametrize(
    "given,full,familiar",
    [
        ("busybox", "docker.io/library/busybox", "busybox"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("me/app:v1", "docker.io/me/app:v1", "me/app:v1"),
        ("localhost:5000/a/b", "localhost:5000/a/b", "localhost:5000/a/b"),
        ("index.docker.io/library/x", "docker.io/library/x", "x"),
    ],
)
def test_normalized_names(given, full, familiar):
    ref = parse_normalized_named(given)
    assert str(ref) == full
    assert familiar_string(ref) == familiar


@pytest.mark.parametrize(
    "bad,message",
    [
        ("Busybox", "invalid reference format: repository name must be lowercase"),
        ("a b", "invalid reference format"),
        ("busybox:", "invalid reference format"),
        ("", "invalid reference format"),
        ("a" * 64, "cannot specify 64-byte hexadecimal strings"),
    ],
)
def test_bad_names(bad, message):
    with pytest.raises(InvalidReference, match=message):
        parse_normalized_named(bad)


def test_reference_store_file_and_force(tmp_path):
    path = str(tmp_path / "repositories.json")
    rs = ReferenceStore(path)
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    rs.add_tag(parse_normalized_named("busybox"), a)
    with open(path, "rb") as f:
        assert f.read() == (
            b'{"Repositories":{"busybox":{"busybox:latest":"sha256:' + b"a" * 64 + b'"}}}'
        )
    assert os.stat(path).st_mode & 0o777 == 0o600
    with pytest.raises(ConflictError) as e:
        rs.add_tag(parse_normalized_named("busybox:latest"), b)
    assert str(e.value) == (
        f"tag busybox:latest is already set to image {a}, use the force option to replace it"
    )
    rs.add_tag(parse_normalized_named("busybox"), b, force=True)
    assert ReferenceStore(path).get(parse_normalized_named("busybox")) == b
    assert ReferenceStore(path).references(a) == []


def test_config_bytes_sorted_and_id():
    img = new_child_image(
        None,
        diff_id="sha256:" + "1" * 64,
        created="2024-01-02T03:04:05.5Z",
        container_config=ContainerConfig(cmd=["/bin/sh", "-c", "echo <hi>"]),
        config=ContainerConfig(cmd=["sh"], labels={"b": "2", "a": "1"}),
    )
    data = img.marshal()
    doc = json.loads(data)
    assert list(doc) == sorted(doc)
    assert list(doc["config"])[:3] == ["Hostname", "Domainname", "User"]
    assert list(doc["config"]["Labels"]) == ["a", "b"]
    assert b"\\u003chi\\u003e" in data
    assert b'", "' not in data and b'": ' not in data
    assert doc["history"] == [
        {"created": "2024-01-02T03:04:05.5Z", "created_by": "/bin/sh -c echo <hi>"}
    ]
    parsed = new_from_json(data)
    assert parsed.id == from_bytes(data)
    assert parsed.marshal() == data


def test_new_child_image_empty_layer():
    parent = new_from_json(b'{"rootfs":{"type":"layers","diff_ids":["sha256:' + b"1" * 64 + b'"]}}')
    child = new_child_image(
        parent,
        diff_id=DIGEST_SHA256_EMPTY_TAR,
        created="2024-01-01T00:00:00Z",
        container_config=ContainerConfig(cmd=["x"]),
        config=ContainerConfig(),
    )
    assert child.rootfs.diff_ids == parent.rootfs.diff_ids
    assert child.history[-1].empty_layer


def test_config_errors():
    with pytest.raises(ValueError, match="invalid image JSON, no RootFS key"):
        new_from_json(b"{}")


def test_store_create_verify_restore_delete(tmp_path):
    root = str(tmp_path / "r")
    svc = make_service(root)
    id = build_image(svc, [layer_tar({"a": b"1"}), layer_tar({"b": b"2"})])
    path = svc.image_store.fs.content_file(id)
    assert os.stat(path).st_mode & 0o777 == 0o600
    meta = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(path))), "metadata")
    assert os.listdir(os.path.join(meta, "sha256"))
    top = svc.image_store.get_layer(id).ro_layer
    # a new store on the same root re-takes the reference of each image
    svc2 = make_service(root)
    top2 = svc2.image_store.get_layer(id).ro_layer
    assert top2.reference_count == top.reference_count
    assert svc2.image_store.get_parent(id) in svc2.image_store
    # 20.10 writes no builtLocally (moby 23+ does)
    assert "builtLocally" not in os.listdir(os.path.join(meta, "sha256", id.split(":")[1]))
    # tampering is found on read
    os.chmod(path, 0o600)
    with open(path, "ab") as f:
        f.write(b" ")
    with pytest.raises(ImageError, match=f"failed to verify: {id}"):
        svc2.image_store.get(id)


def test_store_rejects_history_and_missing_layer(service):
    cfg = (
        b'{"history":[{"created":"2024-01-01T00:00:00Z"}],"rootfs":{"type":"layers","diff_ids":[]}}'
    )
    with pytest.raises(ImageError, match="too many non-empty layers in History section"):
        service.image_store.create(cfg)
    cfg = b'{"rootfs":{"type":"layers","diff_ids":["sha256:' + b"9" * 64 + b'"]}}'
    with pytest.raises(ImageError, match="failed to get layer"):
        service.image_store.create(cfg)
    assert not service.image_store.fs.exists(from_bytes(cfg))


def test_store_delete_returns_layers(service):
    id = build_image(service, [layer_tar({"a": b"1"}), layer_tar({"b": b"2"})])
    parent = service.image_store.get_parent(id)
    service.image_store.delete(id)
    removed = service.image_store.delete(parent)
    # the child's top layer went with the child; deleting the parent frees the base
    assert len(removed) == 1
    assert service.layer_store.map() == {}
    with pytest.raises(ImageNotFound):
        service.image_store.delete(id)
    assert isinstance(ImageStore, type)
