"""`docker commit` metadata as a 20.10.24 engine records it (moby daemon/commit.go merge,
builder/dockerfile BuildFromConfig, daemon/images/image_inspect.go)."""

from __future__ import annotations

import pytest

from dockerlayers.errors import APIError


def test_message_is_the_images_comment(client, base):
    c = client.containers.create(base, ["sh", "-c", "true"])
    img = client.daemon.image_inspect(c.commit("m", "1", message="hello").id)
    assert img["Comment"] == "hello"


def test_a_new_entrypoint_clears_cmd(client, base):
    c = client.containers.create(base, ["sh", "-c", "true"])
    img = c.commit("e", "1", changes=['ENTRYPOINT ["/bin/echo"]'])
    cfg = client.daemon.image_inspect(img.id)["Config"]
    assert (cfg["Entrypoint"], cfg["Cmd"]) == (["/bin/echo"], None)
    # a CMD before it stays (dispatchEntrypoint clears Cmd only when no CMD was set)
    img = c.commit("e", "2", changes=['CMD ["x"]', 'ENTRYPOINT ["/bin/echo"]'])
    assert client.daemon.image_inspect(img.id)["Config"]["Cmd"] == ["x"]
    # without changes the container's Cmd is kept
    cfg = client.daemon.image_inspect(c.commit("e", "3").id)["Config"]
    assert cfg["Cmd"] == ["sh", "-c", "true"]


def test_refused_changes_use_mobys_text(client, base):
    c = client.containers.create(base, ["true"])
    for change, text in (
        ("STOPSIGNAL SIGUSR1", "stopsignal is not a valid change command"),
        ("FROM x", "from is not a valid change command"),
    ):
        with pytest.raises(APIError) as e:
            c.commit("r", "1", changes=[change])
        assert e.value.explanation == text
    img = c.commit("r", "2", changes=["HEALTHCHECK CMD true"])  # accepted by 20.10
    assert client.daemon.image_inspect(img.id)["Config"]["Healthcheck"]["Test"] == [
        "CMD-SHELL",
        "true",
    ]


def test_repository_may_carry_the_tag(client, base):
    # docker-py's `container.commit("x:1")` sends repo=x:1 and no tag; the engine tags x:1
    # (moby: daemon/images/image_tag.go TagImage parses repo, tag replaces its tag)
    c = client.containers.create(base, ["true"])
    assert c.commit("cr:1").tags == ["cr:1"]
    assert c.commit("cr").tags == ["cr:latest"]
    assert c.commit("cr:1", "2").tags == ["cr:2"]
    commits = [e for e in client.daemon.events.list() if e["Action"] == "commit"]
    assert [e["Actor"]["Attributes"]["imageRef"] for e in commits] == ["cr:1", "cr", "cr:2"]
