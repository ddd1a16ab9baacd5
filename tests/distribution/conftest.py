"""Fixtures: a real registry (skipped without docker-registry/skopeo), a model image
service, and the real engine when DOCKERLAYERS_ENGINE points at one."""

from __future__ import annotations

import shutil
import uuid

import pytest

from tests.support import registry as sr
from tests.support.images import make_service


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    if not shutil.which("docker-registry"):
        pytest.skip("docker-registry (Debian package docker-registry) is not installed")
    reg = sr.start_registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def skopeo():
    if not shutil.which("skopeo"):
        pytest.skip("skopeo is not installed")


@pytest.fixture
def service(tmp_path):
    return make_service(str(tmp_path / "root"))


@pytest.fixture
def other(tmp_path):
    return make_service(str(tmp_path / "other"), seed=2)


@pytest.fixture
def repo(registry):
    """A fresh repository name in the registry."""
    return f"{registry.host}/t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def engine():
    env = sr.engine_env()
    if env is None:
        pytest.skip("no real engine (set DOCKERLAYERS_ENGINE to its state folder)")
    return env
