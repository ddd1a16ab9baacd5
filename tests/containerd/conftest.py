"""Fixtures: a fresh containerd (the model's) and the model's base image as an OCI archive."""

from __future__ import annotations

import pytest

from dockerlayers.containerd import Containerd
from dockerlayers.containerd.images import ImageService


class Clock:
    """A clock the test moves (containerd's GC schedule reads it)."""

    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        self.t += 0.001
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctrd(tmp_path, clock) -> Containerd:
    return Containerd(str(tmp_path / "containerd"), now=clock)


@pytest.fixture
def images(ctrd) -> ImageService:
    return ImageService(ctrd, seed=7)


@pytest.fixture(scope="session")
def base_oci() -> bytes:
    """The model's base image saved as a plain OCI layout (one uncompressed layer)."""
    from dockerlayers import DockerClient

    c = DockerClient(seed=1, clock="virtual", mounts="user")
    try:
        c.images.base()
        return c.images.save("base:latest", format="oci")
    finally:
        c.close()


@pytest.fixture(scope="session")
def two_layer_oci(tmp_path_factory) -> bytes:
    """base + one RUN layer, built by the model, saved as an OCI layout."""
    from dockerlayers import DockerClient

    ctx = tmp_path_factory.mktemp("ctx")
    (ctx / "Dockerfile").write_text(
        "FROM base\nRUN echo hello > /hello.txt && rm /etc/os-release\n"
    )
    c = DockerClient(seed=1, clock="virtual", mounts="user")
    try:
        c.images.base()
        c.images.build(path=str(ctx), tag="two:latest")
        return c.images.save("two:latest", format="oci")
    finally:
        c.close()
