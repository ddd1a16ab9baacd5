"""Fixtures for the graph driver suites: a driver of each kind on a fresh root."""

from __future__ import annotations

import pytest
from gdtest import IMPLS, make


@pytest.fixture
def drivers(tmp_path):
    """Factory: drivers(impl, sub="") -> a driver under tmp_path/sub; all cleaned up after."""
    made = []

    def factory(impl: str, sub: str = "root"):
        d = make(impl, str(tmp_path / sub))
        made.append(d)
        return d

    yield factory
    for d in made:
        d.cleanup()


@pytest.fixture(params=IMPLS)
def driver(request, drivers):
    return drivers(request.param)


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
