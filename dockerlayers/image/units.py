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


_RAM_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_ram_bytes(text: str) -> int:
    """go-units RAMInBytes: `64m`, `1.5g`, `512k`, `100` (binary multiples); ValueError
    with go-units' words otherwise."""
    import re

    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmMgGtTpP]?)[iI]?[bB]?", text.strip())
    if not m:
        raise ValueError(f"invalid size: '{text}'")
    return int(float(m.group(1)) * _RAM_UNITS[m.group(2).lower()])
