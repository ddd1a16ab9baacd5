"""`docker rm` refusals change nothing on disk (moby: daemon/delete.go ContainerRm,
cleanupContainer: the running check comes before the Dead checkpoint)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockerlayers.errors import APIError
from tests.daemon.daemontest import make_in_state


@pytest.mark.parametrize("state", ["running", "paused"])
def test_refused_rm_does_not_rewrite_config(make_client, state):
    client = make_client()
    c = make_in_state(client, state)
    root = client.daemon.containers[c.id].root
    files = [os.path.join(root, n) for n in ("config.v2.json", "hostconfig.json")]
    before = {f: (Path(f).read_bytes(), os.stat(f).st_mtime_ns, os.stat(f).st_ino) for f in files}
    with pytest.raises(APIError, match=f"You cannot remove a {state} container"):
        c.remove()
    after = {f: (Path(f).read_bytes(), os.stat(f).st_mtime_ns, os.stat(f).st_ino) for f in files}
    assert after == before
    c.reload()
    assert c.status == state


@pytest.mark.parametrize("untagged", [False, True], ids=["tagged", "dangling"])
def test_rm_on_a_fresh_open_keeps_the_images_layers(make_client, tmp_path, untagged):
    """The image service is made on first use; a removal releases the container's layers,
    and the image store's references on them must count by then (the layer store asks for
    the image service before any release), tagged image or not."""
    cl = make_client()
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM base\nRUN echo built > /built\n")
    cl.images.base()
    image, _ = cl.images.build(path=str(ctx), tag="mine:1")
    c = cl.containers.create(image.id, ["true"], name="user")
    if untagged:  # the tag moves on: the container's image is left without one
        (ctx / "Dockerfile").write_text("FROM base\nRUN echo other > /other\n")
        cl.images.build(path=str(ctx), tag="mine:1")
        assert cl.images.get(image.id).tags == []
    cl.detach()
    fresh = make_client()
    assert not fresh.daemon.image_service_made
    layers_before = set(fresh.daemon.layer_store.layer_map)
    fresh.containers.get(c.id).remove()
    assert fresh.daemon.image_service_made
    assert set(fresh.daemon.layer_store.layer_map) == layers_before
    out = fresh.containers.run(image.id, ["cat", "/built"], remove=True)
    assert out == b"built\n"
