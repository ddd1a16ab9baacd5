"""Time checks under the virtual clock, which moves on by OPERATION_STEP for every daemon
operation (so a call that waits N seconds ends N seconds plus a few steps later)."""

from __future__ import annotations

from typing import Any

from dockerlayers.daemon.daemon import OPERATION_STEP

#: more operation steps than any single SDK call makes (it may inspect, reload, ...)
MAX_STEPS = 20


def assert_took(client: Any, t0: float, seconds: float) -> None:
    """The clock moved `seconds` since `t0`, plus only the steps of the calls made."""
    elapsed = client.clock.now() - t0
    assert seconds <= elapsed + 1e-9, f"took {elapsed}s, expected {seconds}s"
    assert elapsed < seconds + MAX_STEPS * OPERATION_STEP, f"took {elapsed}s, expected {seconds}s"
