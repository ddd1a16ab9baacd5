"""Human-readable sizes and durations, as the docker CLI prints them.

moby: vendor github.com/docker/go-units (size.go HumanSizeWithPrecision, duration.go
HumanDuration)
"""

from __future__ import annotations

_DECIMAL_ABBRS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float, precision: int = 3) -> str:
    """`1234` -> `1.23kB` (decimal units). moby: go-units HumanSizeWithPrecision"""
    i = 0
    while size >= 1000.0 and i < len(_DECIMAL_ABBRS) - 1:
        size /= 1000.0
        i += 1
    return f"{size:.{precision}g}{_DECIMAL_ABBRS[i]}"


def human_duration(seconds: float) -> str:
    """`7200` -> `2 hours`. moby: go-units HumanDuration"""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
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
