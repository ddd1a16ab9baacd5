"""Filters as the daemon applies them (moby 20.10 daemon/list.go, images.go, prune.go,
volume/service): recorded against a 20.10.24 engine with the same busybox `base:1`."""

from __future__ import annotations

import pytest

from dockerlayers.errors import APIError, NotFound


@pytest.fixture
def three(client, base):
    """f_keep (label keep=1), f_go (label other=1) from base:1, f_none from `base`."""
    client.images.get(base.id).tag("base", "1")
    made = {}
    for name, image, labels in (
        ("f_keep", "base:1", {"keep": "1"}),
        ("f_go", "base:1", {"other": "1"}),
        ("f_none", "base", None),
    ):
        made[name] = client.containers.create(image, ["true"], name=name, labels=labels)
    return made


def names(rows):
    return [r["Names"][0].lstrip("/") for r in rows]


def test_container_prune_spares_what_label_not_names(client, three):
    """issue 16's data loss: `container prune --filter label!=keep` removed f_keep."""
    report = client.containers.prune(filters={"label!": "keep"})
    assert sorted(report["ContainersDeleted"]) == sorted([three["f_go"].id, three["f_none"].id])
    assert names(client.daemon.list(all=True)) == ["f_keep"]
    with pytest.raises(APIError, match="Invalid filter 'bogus'"):
        client.containers.prune(filters={"bogus": "1"})
    assert names(client.daemon.list(all=True)) == ["f_keep"]  # a refusal removes nothing


def test_ps_order_and_filters(client, three):
    d = client.daemon
    assert names(d.list(all=True)) == ["f_none", "f_go", "f_keep"]  # newest first
    assert names(d.list(limit=1)) == ["f_none"]  # -l: the last created, stopped or not
    assert names(d.list(all=True, filters={"before": "f_go"})) == ["f_keep"]
    assert names(d.list(all=True, filters={"since": "f_keep"})) == ["f_none", "f_go"]
    assert names(d.list(all=True, filters={"ancestor": "base:1"})) == ["f_none", "f_go", "f_keep"]
    assert names(d.list(all=True, filters={"label": "keep"})) == ["f_keep"]
    assert names(d.list(all=True, filters={"label": "keep=2"})) == []
    assert names(d.list(all=True, filters={"name": "f_.o"})) == ["f_none", "f_go"]
    assert names(d.list(filters={"status": "created"})) == ["f_none", "f_go", "f_keep"]


@pytest.mark.parametrize(
    ("filters", "text"),
    [
        ({"bogus": "1"}, "Invalid filter 'bogus'"),
        ({"status": "bogus"}, "Invalid filter 'status=bogus'"),
        ({"exited": "abc"}, 'strconv.Atoi: parsing "abc": invalid syntax'),
        ({"is-task": "maybe"}, "Invalid filter 'is-task=[maybe]'"),
        ({"health": "sick"}, "Unrecognised filter value for health: sick"),
    ],
)
def test_ps_refuses_bad_filters(client, three, filters, text):
    with pytest.raises(APIError) as e:
        client.daemon.list(all=True, filters=filters)
    assert e.value.explanation == text


def test_ps_before_a_missing_container(client, three):
    with pytest.raises(NotFound, match="no such container nosuch"):
        client.daemon.list(all=True, filters={"before": "nosuch"})


def test_ps_shows_the_image_id_once_the_tag_is_gone(client, three):
    client.images.remove("base:1")
    rows = {r["Names"][0]: r for r in client.daemon.list(all=True)}
    assert rows["/f_keep"]["Image"] == rows["/f_keep"]["ImageID"]  # the CLI shortens it
    assert rows["/f_none"]["Image"] == "base"


def test_images_reference_label_before_since(client, base):
    client.images.get(base.id).tag("base", "1")
    client.images.get(base.id).tag("lib/base", "2")
    d = client.daemon

    def tags(**kw):
        return [t for s in d.images(**kw) for t in s.repo_tags]

    assert tags(filters={"reference": "base:1"}) == ["base:1"]
    assert sorted(tags(filters={"reference": "base"})) == ["base:1", "base:latest"]
    assert sorted(tags(filters={"reference": "*base*"})) == ["base:1", "base:latest"]
    assert tags(filters={"reference": "*/*"}) == ["lib/base:2"]
    assert tags(filters={"label": "x"}) == []
    c = client.containers.create("base", ["true"])
    newer = c.commit("newer", "1")
    assert tags(filters={"since": "base:1"}) == ["newer:1"]  # strictly newer
    assert "newer:1" not in tags(filters={"before": "newer:1"})  # strictly older
    assert sorted(tags(filters={"before": "newer:1"})) == ["base:1", "base:latest", "lib/base:2"]
    with pytest.raises(APIError, match="No such image: nosuch:latest"):
        d.images(filters={"before": "nosuch"})
    with pytest.raises(APIError, match="Invalid filter 'dangling=\\[maybe\\]'"):
        d.images(filters={"dangling": "maybe"})
    with pytest.raises(APIError, match="syntax error in pattern"):
        d.images(filters={"reference": "["})
    assert newer.id


def test_recommit_makes_a_new_image_and_a_dangling_one(client, base):
    """The virtual clock moves on per operation: the same commit twice differs in
    `created`, so the second takes the tag and the first is left dangling."""
    c = client.containers.create(base, ["true"])
    first = c.commit("again", "1")
    second = c.commit("again", "1")
    assert first.id != second.id
    dangling = [s.id for s in client.daemon.images(filters={"dangling": True})]
    assert first.id in dangling and second.id not in dangling
    report = client.images.prune()
    assert {"Deleted": first.id} in report["ImagesDeleted"]
    assert second.id in [s.id for s in client.daemon.images()]


def test_volume_filters(client, base):
    client.volumes.create("keepme", labels={"keep": "1"})
    client.volumes.create("scratch")
    client.volumes.create("used")
    client.containers.create(base, ["true"], volumes={"used": {"bind": "/d", "mode": "rw"}})
    d = client.daemon

    def vols(**f):
        return [v["Name"] for v in d.list_volumes(f)]

    assert vols(dangling=True) == ["keepme", "scratch"]
    assert vols(dangling="false") == ["used"]
    assert vols(name="^s") == ["scratch"]
    assert vols(label="keep") == ["keepme"]
    assert vols(driver="other") == []
    with pytest.raises(APIError, match="Invalid filter 'dangling=\\[x\\]'"):
        d.list_volumes({"dangling": "x"})
    with pytest.raises(APIError, match="Invalid filter 'name'"):
        d.prune_volumes({"name": "x"})
    report = client.volumes.prune(filters={"label!": "keep"})
    assert report["VolumesDeleted"] == ["scratch"]
    assert vols() == ["keepme", "used"]


def test_events_filters(client, three):
    ev = client.daemon.events.list
    created = ev(filters={"event": "create", "type": "container"})
    assert [e["Actor"]["Attributes"]["name"] for e in created] == ["f_keep", "f_go", "f_none"]
    assert [e["Action"] for e in ev(filters={"container": "f_go"})] == ["create"]
    assert {e["Actor"]["Attributes"]["name"] for e in ev(filters={"image": "base"})} >= {"f_none"}
    assert [e["Actor"]["Attributes"]["name"] for e in ev(filters={"label": "keep=1"})] == ["f_keep"]


def test_logs_tail_counts_both_streams(client, base):
    c = client.containers.run(
        base, ["sh", "-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2"], detach=True
    )
    client.clock.advance(1)
    msgs = client.daemon.log_messages(c.id, tail=2)
    assert [(m["stream"], m["log"]) for m in msgs] == [("stdout", "3\n"), ("stderr", "4\n")]
