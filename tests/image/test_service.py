"""Look-ups, docker images, tag, rmi conflicts and reports, history, import."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest

from dockerlayers.image import ContainerUse, ImageNotFound
from dockerlayers.image.errors import ConflictError, InvalidReference
from tests.support.images import build_image, layer_tar, merged_view


def test_get_image_lookup_order(service):
    a = build_image(service, [layer_tar({"a": b"1"})], tag="busybox")
    b = build_image(service, [layer_tar({"b": b"1"})])
    assert service.get_image("busybox").id == a
    assert service.get_image("busybox:latest").id == a
    assert service.get_image("docker.io/library/busybox").id == a
    assert service.get_image(a).id == a
    assert service.get_image(a[7:]).id == a
    assert service.get_image(a[7:19]).id == a
    assert service.get_image(b[:19]).id == b
    # a tag wins over an ID prefix
    service.tag(b, a[7:13])
    assert service.get_image(a[7:13]).id == b
    with pytest.raises(ImageNotFound, match="^No such image: nosuch:latest$"):
        service.get_image("nosuch")
    with pytest.raises(ImageNotFound, match="^No such image: me/x:1$"):
        service.get_image("me/x:1")
    with pytest.raises(InvalidReference, match="invalid reference format"):
        service.get_image("UPPER")


def test_images_list(service):
    base = build_image(service, [layer_tar({"a": b"1"}), layer_tar({"b": b"22"})], tag="app:1")
    parent = service.image_store.get_parent(base)
    service.tag(base, "app:2")
    dangling = build_image(service, [layer_tar({"c": b"3"})])
    listed = service.images()
    ids = [s.id for s in listed]
    assert base in ids and dangling in ids and parent not in ids  # intermediate hidden
    assert parent in [s.id for s in service.images(all=True)]
    summary = next(s for s in listed if s.id == base)
    assert summary.repo_tags == ["app:1", "app:2"]
    assert summary.rows()[0] == ("app", "1", base[7:19])
    assert summary.size == 3
    assert [s.id for s in service.images(dangling=True)] == [dangling]


def test_tag_and_restore(tmp_path, service):
    id = build_image(service, [layer_tar({"a": b"1"})])
    service.tag(id, "one")
    other = build_image(service, [layer_tar({"b": b"1"})])
    service.tag(other, "one")  # docker tag always forces
    assert service.get_image("one").id == other
    assert service.image_store.get_last_updated(other)
    with pytest.raises(InvalidReference):
        service.tag(id, "Bad")


def test_tag_repository_and_tag_as_the_api_takes_them(service):
    # moby: daemon/images/image_tag.go TagImage; the real 20.10 engine, recorded:
    # repo=x:7 -> x:7, repo=x -> x:latest (event name "x"), repo=x:7&tag=8 -> x:8,
    # repo=x:&tag=8 -> "invalid reference format"
    id = build_image(service, [layer_tar({"a": b"1"})])
    events = []
    service._event = lambda i, name, action: events.append((name, action))
    assert service.tag(id, "x:7") == "x:7"
    assert service.tag(id, "y") == "y"
    assert service.tag(id, "z:7", "8") == "z:8"
    with pytest.raises(InvalidReference, match="invalid reference format"):
        service.tag(id, "w:", "8")
    assert {t for s in service.images() for t in s.repo_tags} == {"x:7", "y:latest", "z:8"}
    assert events == [("x:7", "tag"), ("y", "tag"), ("z:8", "tag")]


def test_rmi_report_and_prune(service):
    id = build_image(service, [layer_tar({"a": b"1"}), layer_tar({"b": b"2"})], tag="app")
    parent = service.image_store.get_parent(id)
    chain = service.image_store.get(id).rootfs.chain_id()
    report = [str(r) for r in service.remove("app")]
    assert report[0] == "Untagged: app:latest"
    assert report[1] == f"Deleted: {id}"
    assert f"Deleted: {chain}" in report
    assert f"Deleted: {parent}" in report  # pruned: untagged parent without other users
    assert service.image_store.images == {}
    assert service.layer_store.map() == {}


def test_rmi_keeps_image_with_other_tag(service):
    id = build_image(service, [layer_tar({"a": b"1"})], tag="a")
    service.tag(id, "b")
    service.tag(id, "c")
    assert [str(r) for r in service.remove("a")] == ["Untagged: a:latest"]
    assert id in service.image_store
    with pytest.raises(ConflictError) as e:
        service.remove(id[7:19])
    assert str(e.value) == (
        f"conflict: unable to delete {id[7:19]} (must be forced) - "
        "image is referenced in multiple repositories"
    )
    # with a single tag left, removing by ID untags and deletes
    service.remove("c")
    assert [str(r) for r in service.remove(id[7:19])][:2] == [
        "Untagged: b:latest",
        f"Deleted: {id}",
    ]


def test_rmi_conflicts(service):
    id = build_image(service, [layer_tar({"a": b"1"}), layer_tar({"b": b"2"})], tag="app")
    parent = service.image_store.get_parent(id)
    short = id[7:19]
    with pytest.raises(ConflictError) as e:
        service.remove(parent)
    assert str(e.value) == (
        f"conflict: unable to delete {parent[7:19]} (cannot be forced) - "
        "image has dependent child images"
    )
    running = lambda i: [ContainerUse("f" * 64, True)] if i == id else []  # noqa: E731
    stopped = lambda i: [ContainerUse("e" * 64, False)] if i == id else []  # noqa: E731
    with pytest.raises(ConflictError) as e:
        service.remove("app", container_uses=running)
    assert str(e.value) == (
        'conflict: unable to remove repository reference "app" (must force) - '
        f"container {'f' * 12} is using its referenced image {short}"
    )
    with pytest.raises(ConflictError) as e:
        service.remove(id, container_uses=stopped)
    assert str(e.value) == (
        f"conflict: unable to delete {short} (must be forced) - "
        f"image is being used by stopped container {'e' * 12}"
    )
    with pytest.raises(ConflictError) as e:
        service.remove(id, force=True, container_uses=running)
    assert str(e.value) == (
        f"conflict: unable to delete {short} (cannot be forced) - "
        f"image is being used by running container {'f' * 12}"
    )
    assert [str(r) for r in service.remove(id, force=True, container_uses=stopped)][:2] == [
        "Untagged: app:latest",
        f"Deleted: {id}",
    ]


def test_history_rows(service, other):
    id = build_image(service, [layer_tar({"a": b"1"}), None, layer_tar({"b": b"22"})], tag="h")
    rows = service.history("h")
    assert [r.created_by for r in rows] == [
        "/bin/sh -c step 2",
        "/bin/sh -c step 1",
        "/bin/sh -c step 0",
    ]
    assert [r.size for r in rows] == [2, 0, 1]
    assert rows[0].id == id and rows[0].tags == ["h:latest"]
    assert all(r.id.startswith("sha256:") for r in rows)
    # loaded elsewhere, the ancestors are not images there: <missing>
    data = _save(service, "h")
    other.load(data)
    rows = other.history("h")
    assert rows[0].id == id and [r.id for r in rows[1:]] == ["<missing>", "<missing>"]
    table = other.history_table("h")
    assert table[0] == ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
    assert table[1][0] == id[7:19] and table[2][0] == "<missing>"
    assert table[1][3] == "2B" and table[1][1].endswith("ago")


def _save(service, name, fmt="docker"):
    import io

    buf = io.BytesIO()
    service.save([name], buf, fmt)
    return buf.getvalue()


def test_import_plain_and_gzip(service):
    tar = layer_tar({"etc/": ("dir",), "etc/hosts": b"x"})
    id = service.import_image(
        tar,
        "imp",
        "v1",
        changes=[
            'CMD ["sh"]',
            "ENV A=1 B=2",
            "WORKDIR /w",
            "LABEL k=v",
            "EXPOSE 80",
            "USER nobody",
            "ENTRYPOINT echo hi",
        ],
    )
    img = service.get_image("imp:v1")
    assert img.id == id
    assert img.rootfs.diff_ids == ["sha256:" + hashlib.sha256(tar).hexdigest()]
    assert img.comment == "Imported from -"
    assert [h.comment for h in img.history] == ["Imported from -"]
    cfg = img.config
    assert cfg.cmd == ["sh"] and cfg.env == ["A=1", "B=2"] and cfg.working_dir == "/w"
    assert cfg.labels == {"k": "v"} and cfg.exposed_ports == {"80/tcp": {}}
    assert cfg.user == "nobody" and cfg.entrypoint == ["/bin/sh", "-c", "echo hi"]
    assert json.loads(img.raw_json)["config"]["ExposedPorts"] == {"80/tcp": {}}
    gz = service.import_image(gzip.compress(tar))
    assert service.get_image(gz).rootfs.diff_ids == img.rootfs.diff_ids
    assert merged_view(service, gz)["/etc/hosts"][2] == b"x"


def test_import_bad_inputs_change_nothing(service):
    from dockerlayers.testing.invariants import tree_hash
    from tests.support.images import warm

    warm(service)
    before = tree_hash(service.root)
    with pytest.raises(InvalidReference):
        service.import_image(layer_tar({"a": b"1"}), "Bad")
    with pytest.raises(InvalidReference, match="from is not a valid change command"):
        service.import_image(layer_tar({"a": b"1"}), "x", changes=["FROM scratch"])
    with pytest.raises(Exception):  # noqa: B017
        service.import_image(layer_tar({"../evil": b"1"}))
    with pytest.raises(Exception):  # noqa: B017
        service.import_image(b"not a tar at all" * 100)
    assert tree_hash(service.root) == before
