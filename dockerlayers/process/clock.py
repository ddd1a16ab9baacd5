"""Clocks and Docker's time formats.

The daemon reads time from one `Clock`: `RealClock` (wall time) or `VirtualClock`, whose
time moves only when asked, so notebooks and tests get identical times on every run.
The formats are Go's `time.Time.MarshalJSON` (RFC 3339 with nanoseconds, UTC, as in
`docker inspect`) and docker/go-units `HumanDuration` (as in `docker ps`' "Up 3 minutes").
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import Protocol, runtime_checkable

from dockerlayers.timetypes import timegm

#: Go's zero `time.Time`, which moby writes for "never" (e.g. `FinishedAt` of a new container).
ZERO_TIME = "0001-01-01T00:00:00Z"
#: 2024-01-01T00:00:00Z, where a virtual clock starts unless told otherwise.
VIRTUAL_EPOCH = 1704067200.0


@runtime_checkable
class Clock(Protocol):
    """Anything with `now() -> float` (seconds since the Unix epoch)."""

    def now(self) -> float: ...


class RealClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "RealClock()"


class VirtualClock:
    """A clock that stands still until `advance`d: deterministic times for notebooks and tests."""

    def __init__(self, start: float = VIRTUAL_EPOCH) -> None:
        self._t = float(start)

    def now(self) -> float:
        return self._t

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._t += seconds
        return self._t

    def advance_to(self, t: float) -> float:
        """Move time forward to `t` (no-op if `t` is in the past) and return the new time."""
        self._t = max(self._t, float(t))
        return self._t

    def __repr__(self) -> str:
        return f"VirtualClock({self._t!r})"


def make_clock(spec: Clock | str | None) -> Clock:
    """`None` → RealClock, `"virtual"` → VirtualClock(), a Clock → itself."""
    if spec is None or spec == "real":
        return RealClock()
    if spec == "virtual":
        return VirtualClock()
    if isinstance(spec, Clock):
        return spec
    raise ValueError(f"invalid clock: {spec!r} (use None, 'virtual' or a Clock)")


def unix_nanos(t: float) -> int:
    """`t` (Unix seconds) in whole nanoseconds, as its decimal reads (1704067200.002 is
    ...002000000, not the float's ...002000128)."""
    return int((Decimal(repr(float(t))) * 1_000_000_000).to_integral_value())


def format_rfc3339nano(t: float | None) -> str:
    """Format like Go's `time.Time.MarshalJSON` in UTC: `2024-01-01T00:00:00.123456789Z`.

    The fraction has its trailing zeros trimmed and disappears when zero (Go's
    `RFC3339Nano`); `None` gives Go's zero time `0001-01-01T00:00:00Z`.
    """
    if t is None:
        return ZERO_TIME
    # Decimal(repr) keeps what the float means to a reader (1.1 -> .1, not .100000000000000088)
    d = Decimal(repr(float(t)))
    secs = int(d // 1)
    nanos = int(((d - secs) * 1_000_000_000).to_integral_value())
    if nanos >= 1_000_000_000:
        secs, nanos = secs + 1, nanos - 1_000_000_000
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if nanos:
        base += "." + f"{nanos:09d}".rstrip("0")
    return base + "Z"


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


def parse_rfc3339nano(s: str) -> float | None:
    """Parse what `format_rfc3339nano` (or Go) writes; the zero time gives `None`."""
    m = _RFC3339.match(s.strip())
    if not m:
        raise ValueError(f"invalid RFC 3339 time: {s!r}")
    year, mon, day, hh, mm, ss = (int(g) for g in m.groups()[:6])
    if year == 1 and mon == 1 and day == 1 and hh == mm == ss == 0 and not m.group(7):
        return None
    secs = timegm((year, mon, day, hh, mm, ss))
    if m.group(9):
        offset = int(m.group(10)) * 3600 + int(m.group(11)) * 60
        secs -= offset if m.group(9) == "+" else -offset
    frac = m.group(7)
    if frac:
        return float(Decimal(secs) + Decimal("0." + frac))
    return float(secs)


def human_duration(seconds: float) -> str:
    """Docker's `units.HumanDuration`: "Less than a second", "About a minute", "3 hours", ...

    go-units duration.go: seconds and minutes are truncated, hours are rounded
    (`int(d.Hours() + 0.5)`); days below 2 weeks, weeks below 2 months (30 days),
    months below 2 years (365 days).
    """
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"
