"""Fixtures for the layer store suites: stores on vfs (as moby runs them) and every driver."""

from __future__ import annotations

import pytest
from layertest import DRIVERS, make_store


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


@pytest.fixture(autouse=True)
def _naive_diff_wait(request, monkeypatch):
    """moby sleeps to the next second after every naive diff (vfs) so that a file rewritten
    with the same size is not missed (issue 21555). That costs up to a second per commit;
    tests that need it ask for the `naive_diff_wait` fixture, the rest run without."""
    from dockerlayers.graphdriver import Driver

    if "naive_diff_wait" not in request.fixturenames:
        monkeypatch.setattr(Driver, "naive_diff_wait", False)


@pytest.fixture
def naive_diff_wait():
    """Keep moby's wait after naive diffs (see `_naive_diff_wait`)."""
    return True
