import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")

from dockerlayers import DockerClient  # noqa: E402


@pytest.fixture
def client():
    c = DockerClient(seed=7, clock="virtual", mounts="user")
    yield c
    c.close()


@pytest.fixture
def base(client):
    return client.images.base()
