"""Fixtures for the builder tests: a client with the base image tagged `base:1` (the tag
the real-engine tests use too) and a `build` that runs a Dockerfile in a fresh context.
The helpers they use live in tests/support/builds.py."""

from __future__ import annotations

import pytest

from dockerlayers import DockerClient
from tests.support.builds import write_context


@pytest.fixture
def client():
    c = DockerClient(seed=7, clock="virtual", mounts="user")
    base = c.images.base()
    c.daemon.image_service.tag(base.id, "base:1")
    yield c
    c.close()


@pytest.fixture
def build(client, tmp_path):
    """build(dockerfile, files={}, **kwargs) -> (image config, lines) in a fresh context."""
    counter = [0]

    def run(dockerfile: str, files: dict[str, str | bytes] | None = None, context=None, **kwargs):
        if context is None:
            counter[0] += 1
            context = tmp_path / f"ctx{counter[0]}"
            write_context(context, {"Dockerfile": dockerfile, **(files or {})})
        image, messages = client.images.build(path=str(context), **kwargs)
        # docker-py's stream of {"stream": ...} chunks, back to the builder's output lines
        text = "".join(m.get("stream", "") for m in messages)
        return client.daemon.image_service.get_image(image.id), text.splitlines()

    return run
