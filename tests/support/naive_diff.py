"""moby's wait after a naive diff, off in the driver and layer suites unless asked for.

moby sleeps to the next second after every naive diff (vfs) so that a file rewritten with
the same size is not missed (issue 21555). That costs up to a second per commit; tests that
need it ask for the `naive_diff_wait` fixture, the rest run without. A suite's conftest
imports both fixtures.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _naive_diff_wait(request, monkeypatch):
    """Switch the wait off unless the test asks for `naive_diff_wait`."""
    from dockerlayers.graphdriver import Driver

    if "naive_diff_wait" not in request.fixturenames:
        monkeypatch.setattr(Driver, "naive_diff_wait", False)


@pytest.fixture
def naive_diff_wait():
    """Keep moby's wait after naive diffs (see `_naive_diff_wait`)."""
    return True
