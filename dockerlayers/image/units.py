"""Human-readable sizes and durations, as the docker CLI prints them.

moby: vendor github.com/docker/go-units (size.go HumanSizeWithPrecision, duration.go
HumanDuration)
"""

from __future__ import annotations

from dockerlayers.process.clock import human_duration  # noqa: F401  (re-exported: one go-units copy)

_DECIMAL_ABBRS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float, precision: int = 3) -> str:
    """`1234` -> `1.23kB` (decimal units). moby: go-units HumanSizeWithPrecision"""
    i = 0
    while size >= 1000.0 and i < len(_DECIMAL_ABBRS) - 1:
        size /= 1000.0
        i += 1
    return f"{size:.{precision}g}{_DECIMAL_ABBRS[i]}"
