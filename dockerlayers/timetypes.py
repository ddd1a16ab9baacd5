"""Timestamps as the daemon and the CLI read them: a Go duration before now (`10m`), Unix
seconds (`1700000000.5`), or an RFC 3339 date (`2024-01-01`, `2024-01-01T10:00:00`, local
time unless a zone is given). Used by `until=` filters and `--since`/`--until` flags.

moby: api/types/time/timestamp.go GetTimestamp, ParseTimestamps; Go: time.ParseDuration
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

#: date(1970, 1, 1).toordinal()
_EPOCH_ORDINAL = 719163
#: days in each month and days before its first, in a common year (index 1..12)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DAYS_BEFORE_MONTH = (0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


def _first_of_month_ordinal(year: int, month: int) -> int:
    """`date(year, month, 1).toordinal()` (datetime's _ymd2ord), with its range errors."""
    if not 1 <= year <= 9999:
        raise ValueError(f"year {year} is out of range")
    if not 1 <= month <= 12:
        raise ValueError("month must be in 1..12")
    y = year - 1
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return (
        y * 365
        + y // 4
        - y // 100
        + y // 400
        + _DAYS_BEFORE_MONTH[month]
        + (month > 2 and leap)
        + 1
    )


def utc_seconds(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """`int(datetime(..., tzinfo=timezone.utc).timestamp())`, with datetime's range
    errors (ValueError, same texts), without importing datetime."""
    first = _first_of_month_ordinal(year, month)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    month_days = 29 if month == 2 and leap else _DAYS_IN_MONTH[month]
    if not 1 <= day <= month_days:
        raise ValueError("day is out of range for month")
    for value, unit, top in ((hour, "hour", 23), (minute, "minute", 59), (second, "second", 59)):
        if not 0 <= value <= top:
            raise ValueError(f"{unit} must be in 0..{top}")
    return (((first - _EPOCH_ORDINAL + day - 1) * 24 + hour) * 60 + minute) * 60 + second


def timegm(fields: Sequence[int]) -> int:
    """`calendar.timegm`: a UTC (year, month, day, hour, minute, second, ...) as Unix
    seconds, computed as calendar does, without importing calendar and datetime (every
    command parses containers' times; neither module is small)."""
    year, month, day, hour, minute, second = fields[:6]
    days = _first_of_month_ordinal(year, month) - _EPOCH_ORDINAL + day - 1
    return ((days * 24 + hour) * 60 + minute) * 60 + second


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float:
    """Go's time.ParseDuration (`1h30m`, `10s`, `1.5m`, `0`) in seconds; ValueError if bad."""
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(text)
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)", s):
        if m.start() != pos:
            raise ValueError(text)
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s):
        raise ValueError(text)
    return sign * total


def get_timestamp(value: str, now: float) -> float:
    """The moment `value` names, in Unix seconds; ValueError with Docker's text if none.

    moby: api/types/time/timestamp.go GetTimestamp (then ParseTimestamps)
    """
    if value != "0":  # moby: "0" is the Unix epoch, not a zero duration
        try:
            return now - parse_go_duration(value)
        except ValueError:
            pass
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    m = re.fullmatch(
        r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?",
        value,
    )
    if not m:
        raise ValueError(f'failed to parse value as time or duration: "{value}"')
    y, mo, d, hh, mm, ss, frac, zone = m.groups()
    fields = (int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), 0, 0, -1)
    if zone:
        offset = (
            0
            if zone == "Z"
            else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
        )
        t = timegm(fields) - offset
    else:
        t = time.mktime(fields)
    return t + float(frac or 0)
