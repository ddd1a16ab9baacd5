"""Run a function in a forked child that has dropped root to another uid (as the model runs
on Binder, uid 1000), and get back what it returns (JSON).

Tests run as root in CI; a test that needs an unprivileged model forks, the child drops to
`uid`/`gid` with no supplementary groups (what `setpriv --reuid 1000 --regid 1000
--clear-groups` does) and runs the function there. Skips with the reason when the test
process is not root (it cannot switch users) or cannot fork.
"""

from __future__ import annotations

import json
import os
import tempfile
import traceback
from collections.abc import Callable
from typing import Any

import pytest

from dockerlayers.archive import whiteouts

UNPRIVILEGED = 1000


def need_root() -> None:
    """Skip unless this process may switch to another uid."""
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork to run a child as another user")
    if os.geteuid() != 0:
        pytest.skip("needs root to run a child as uid 1000 (run the suite as root)")


def workdir(uid: int = UNPRIVILEGED) -> str:
    """A fresh folder the child may write (owned by `uid`); the caller removes it."""
    d = tempfile.mkdtemp(prefix="dl-asuser-")
    os.chown(d, uid, uid)
    return d


def run_as(fn: Callable[[], Any], uid: int = UNPRIVILEGED, gid: int = UNPRIVILEGED) -> Any:
    """`fn()` in a child running as uid:gid; its JSON-able result, or AssertionError with the
    child's traceback."""
    need_root()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        os.close(r)
        code = 0
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            # what the parent probed as root (mknod, trusted.* xattrs) is not true here
            whiteouts._probe_cache.clear()
            payload = {"ok": fn()}
        except BaseException:  # noqa: BLE001 - reported to the parent
            payload = {"error": traceback.format_exc()}
            code = 1
        with os.fdopen(w, "w") as f:
            json.dump(payload, f)
        os._exit(code)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    os.waitpid(pid, 0)
    payload = json.loads(data or '{"error": "the child said nothing"}')
    if "error" in payload:
        raise AssertionError(f"in the child as uid {uid}:\n{payload['error']}")
    return payload["ok"]
