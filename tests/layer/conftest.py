"""Fixtures for the layer store suites: stores on vfs (as moby runs them) and every driver."""

from __future__ import annotations

import pytest

from tests.layer.layertest import make_store
from tests.support.drivers import DRIVERS
from tests.support.naive_diff import _naive_diff_wait, naive_diff_wait  # noqa: F401 (fixtures)


@pytest.fixture
def stores(tmp_path):
    made = []

    def factory(driver_name: str = "vfs", sub: str = "root", mounts: str = "user"):
        s = make_store(tmp_path / sub, driver_name, mounts)
        made.append(s)
        return s

    yield factory
    for s in made:
        s.driver.cleanup()


@pytest.fixture
def store(stores):
    """moby's newTestStore: a layer store on vfs."""
    return stores("vfs")


@pytest.fixture(params=DRIVERS)
def any_store(request, stores):
    return stores(request.param)
