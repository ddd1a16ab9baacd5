"""Skip, with the reason, a test that needs an OS feature this Python does not have.

Under Pyodide (tests/pyodide/run_pytest.mjs) there is no `os.link`, `os.geteuid`, `os.mkfifo`,
xattrs, process, thread or `resource` module. A test (or a test module, at import) that reaches
for one of those in its own code is reported as skipped with the missing feature named, not as
failed. The library's own code is not excused: when the innermost project frame of the error
is in dockerlayers/, the library called something this platform lacks instead of asking
`dockerlayers.platform`, and the test fails. A third-party package that is not installed
(ipywidgets, nbformat, playwright...) is a missing feature wherever it is imported from.
On a full CPython none of this applies (every feature is there), so nothing changes.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import sys
from types import ModuleType, TracebackType

import pytest

_LIBRARY = os.sep + "dockerlayers" + os.sep
_PROJECT = (os.sep + "tests" + os.sep, os.sep + "benchmarks" + os.sep, _LIBRARY)
# errnos by which a call says "not on this platform" (Emscripten: processes, fork)
_UNSUPPORTED = {errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP}


def _called_from_library(tb: TracebackType | None) -> bool:
    """Whether the innermost frame of the project (tests, benchmarks, dockerlayers) is the
    library's: frames of the standard library and of installed packages are passed over."""
    last = ""
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        if any(p in path for p in _PROJECT):
            last = path
        tb = tb.tb_next
    return _LIBRARY in last and (os.sep + "tests" + os.sep) not in last


def _top_missing(name: str | None) -> str | None:
    top = (name or "").partition(".")[0]
    if not top or top in ("dockerlayers", "tests", "benchmarks"):
        return None
    return top if importlib.util.find_spec(top) is None else None


def missing_feature(exc: BaseException) -> str | None:
    """The feature `exc` says this Python lacks, or None if it is an ordinary error."""
    if isinstance(exc, ModuleNotFoundError):
        top = _top_missing(exc.name)
        if top is None:
            return None
        if top not in sys.stdlib_module_names:
            return f"the package {top!r}, not installed here"
        feature = f"the standard module {top!r}"
    elif isinstance(exc, AttributeError) and isinstance(getattr(exc, "obj", None), ModuleType):
        module = exc.obj.__name__
        if module.partition(".")[0] not in sys.stdlib_module_names or exc.name is None:
            return None
        if hasattr(exc.obj, exc.name):  # not missing: raised for another reason
            return None
        feature = f"{module}.{exc.name}"
    elif isinstance(exc, OSError) and exc.errno in _UNSUPPORTED:
        feature = f"what fails with {errno.errorcode.get(exc.errno, exc.errno)} ({exc.strerror})"
    elif isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
        from dockerlayers.platform import can_thread

        if can_thread():
            return None
        feature = "threads"
    else:
        return None
    if _called_from_library(exc.__traceback__):
        return None  # the library must not need it: a bug, reported as the failure it is
    return feature


def _skip(report, path: str, lineno: int, reason: str) -> None:
    report.outcome = "skipped"
    report.longrepr = (path, lineno, f"Skipped: needs {reason}, which this Python lacks")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and call.excinfo is not None and report.when in ("setup", "call"):
        reason = missing_feature(call.excinfo.value)
        if reason is not None:
            path, lineno, _ = report.location
            _skip(report, path, (lineno or 0) + 1, reason)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    if report.failed and isinstance(collector, pytest.Module):
        try:
            collector.obj  # noqa: B018 - the import error again, as an exception
        except BaseException as e:  # noqa: BLE001
            exc = e.__cause__ or e if isinstance(e, collector.CollectError) else e
            reason = missing_feature(exc)
            if reason is not None:
                _skip(report, str(collector.path), 0, reason)
    return report
