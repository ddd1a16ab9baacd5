"""Where notebook 11 pulls from (dockerlayers.distribution.notebook): the setting's
values, the stand-in images made reproducibly, and a missing `docker-registry` said in one
sentence."""

from __future__ import annotations

import shutil

import pytest

from dockerlayers import DockerClient
from dockerlayers.distribution import localregistry
from dockerlayers.distribution import notebook as nbsrc
from dockerlayers.viz import PullProgress


def test_docker_io_means_docker_hub_without_asking_it(monkeypatch):
    monkeypatch.setattr(nbsrc, "hub_reachable", lambda timeout=3.0: pytest.fail("asked"))
    for value in ("docker.io", "hub", " Docker.io "):
        s = nbsrc.choose(value)
        assert (s.kind, s.images, s.mirrors) == ("hub", nbsrc.HUB_IMAGES, [])
    assert repr(s) == "Docker Hub (registry-1.docker.io): nginx:alpine-slim, then nginx:alpine"


def test_unset_and_hub_reachable_means_docker_hub(monkeypatch):
    monkeypatch.setattr(nbsrc, "hub_reachable", lambda timeout=3.0: True)
    monkeypatch.delenv(nbsrc.ENV, raising=False)
    assert nbsrc.choose(None).kind == "hub"
    assert nbsrc.choose("").kind == "hub"


def test_missing_docker_registry_is_one_clear_sentence(monkeypatch):
    monkeypatch.setattr(nbsrc, "hub_reachable", lambda timeout=3.0: False)
    monkeypatch.setattr(localregistry.shutil, "which", lambda name: None)
    with pytest.raises(localregistry.RegistryNotInstalled) as e:
        nbsrc.choose("")
    text = str(e.value)
    assert "docker-registry" in text and "apt-get install docker-registry" in text
    assert "DOCKERLAYERS_REGISTRY" in text
    # IPython shows _render_traceback_'s lines instead of a traceback
    assert e.value._render_traceback_() == [f"RegistryNotInstalled: {text}"]


@pytest.fixture
def local_source(monkeypatch):
    if not shutil.which("docker-registry"):
        pytest.skip("docker-registry (Debian package docker-registry) is not installed")
    monkeypatch.setattr(nbsrc, "hub_reachable", lambda timeout=3.0: False)
    s = nbsrc.choose("")
    yield s
    s.close()


def test_offline_a_local_registry_serves_reproducible_standins(local_source):
    s = local_source
    assert s.kind == "local" and s.images == nbsrc.STANDIN_IMAGES
    assert s.mirrors == [f"http://{s.address}"]
    assert s.address.split(":")[1] not in repr(s) and "127.0.0.1" not in repr(s)
    digests = []
    for _ in range(2):  # a second push of the same builds: same digests
        with DockerClient(seed=3, clock="virtual", mounts="user", registry_mirrors=s.mirrors) as c:
            bars = PullProgress()
            first = bars.pull(c, s.images[0])
            assert "Pull complete" in bars.statuses().values()
            bars2 = PullProgress()
            second = bars2.pull(c, s.images[1])
            shared = set(first.attrs["RootFS"]["Layers"])
            assert list(bars2.statuses().values()).count("Already exists") == len(shared)
            digests.append((first.attrs["RepoDigests"], second.id))
        nbsrc.push_standins(s.address)
    assert digests[0] == digests[1]
    assert digests[0][0][0].startswith("dockerlayers/web@sha256:")


def test_the_registry_stops_with_close(local_source):
    proc = local_source.registry.proc
    local_source.close()
    assert proc.poll() is not None and local_source.registry is None
