"""Fixtures for the graph driver suites: a driver of each kind on a fresh root."""

from __future__ import annotations

import pytest

from tests.support.drivers import IMPLS, make
from tests.support.naive_diff import _naive_diff_wait, naive_diff_wait  # noqa: F401 (fixtures)


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
