""" "I deleted the secret in a later RUN — why is it still in my image?" (reader question 3).

A whiteout hides the file; the layer that added it still holds its bytes, readable from
that layer's tar. Cleaning up in the same RUN, or a multi-stage build, keeps it out of
every layer."""

from __future__ import annotations

import pytest

from dockerlayers.layerhistory import find_copies, image_layers, read_copy
from tests.support.dockerfiles import SECRET


def test_deleted_in_a_later_run_is_still_recoverable(client, build):
    img, _ = build(
        "FROM base:1\nCOPY secret.txt /run/secret.txt\nRUN cat /run/secret.txt > /dev/null\n"
        "RUN rm /run/secret.txt\n",
        {"secret.txt": SECRET},
        tag="leaky",
    )
    # a container from the image does not see it
    c = client.containers.run("leaky", "ls /run", detach=True)
    c.wait()
    assert b"secret" not in c.logs()
    copies = find_copies(client, "leaky", "/run/secret.txt")
    assert len(copies) == 1
    copy = copies[0]
    assert copy.kind == "file" and copy.size == len(SECRET)
    assert copy.created_by.startswith("/bin/sh -c #(nop) COPY file:")
    assert not copy.visible
    assert copy.hidden_by is not None
    assert copy.hidden_by.how == "whiteout"
    assert copy.hidden_by.entry == "/run/.wh.secret.txt"
    assert copy.hidden_by.layer.created_by == "/bin/sh -c rm /run/secret.txt"
    assert read_copy(client, img.id, "/run/secret.txt", copy.index) == SECRET.encode()
    # the client, the daemon, an Image model, an ID or a reference all work
    assert (
        read_copy(client.daemon, client.images.get("leaky"), "run/secret.txt", copy.index)
        == SECRET.encode()
    )


def test_overwritten_and_parent_removed(client, build):
    img, _ = build(
        "FROM base:1\nRUN mkdir /d && echo one > /d/f\nRUN echo two > /d/f\nRUN rm -r /d\n"
    )
    copies = find_copies(client, img.id, "/d/f")
    assert [c.kind for c in copies] == ["file", "file"]
    assert copies[0].hidden_by.how == "overwritten"
    assert copies[0].hidden_by.layer.index == copies[1].index
    assert copies[1].hidden_by.how == "parent removed"
    assert [read_copy(client, img.id, "/d/f", c.index) for c in copies] == [b"one\n", b"two\n"]


def test_visible_copy(client, build):
    img, _ = build("FROM base:1\nRUN echo v > /v\n")
    (copy,) = find_copies(client, img.id, "/v")
    assert copy.visible and copy.index == len(image_layers(client, img.id)) - 1


def test_same_run_cleanup_leaves_nothing(client, build):
    img, _ = build(
        "FROM base:1\nRUN echo s3cr3t > /tmp/secret && cat /tmp/secret > "
        "/dev/null && rm /tmp/secret\n"
    )
    assert find_copies(client, img.id, "/tmp/secret") == []
    for layer in image_layers(client, img.id):
        with pytest.raises(KeyError):
            read_copy(client, img.id, "/tmp/secret", layer.index)


def test_multi_stage_build_leaves_nothing(client, build):
    img, _ = build(
        "FROM base:1 AS build\nCOPY secret.txt /secret.txt\n"
        "RUN cat /secret.txt > /dev/null && echo built > /artifact\n"
        "FROM base:1\nCOPY --from=build /artifact /artifact\n",
        {"secret.txt": SECRET},
    )
    assert find_copies(client, img.id, "/secret.txt") == []
    assert [c.visible for c in find_copies(client, img.id, "/artifact")] == [True]
    # the secret is still in the (dangling) builder stage image, which is never shipped
    stages = [i for i in client.images.list(filters={"dangling": True})]
    assert any(find_copies(client, s.id, "/secret.txt") for s in stages)
