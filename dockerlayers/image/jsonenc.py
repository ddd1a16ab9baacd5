"""JSON bytes as Go's encoding/json writes them, and Go's RFC3339Nano times.

Go writes compact JSON (no spaces), keeps struct fields in declaration order, sorts map
keys, leaves non-ASCII as UTF-8 but escapes `<`, `>`, `&`, U+2028 and U+2029 as `\\u003c`
etc. Image IDs are hashes of these bytes, so the details matter.

moby: encoding/json (Go standard library) Marshal, time.RFC3339Nano
"""

from __future__ import annotations

import json
import re
from typing import Any

_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_GO_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")

#: Largest JSON document (manifest, index, config) read from an archive or layout.
MAX_JSON_SIZE = 16 << 20


def marshal(value: Any) -> bytes:
    """`json.Marshal(value)`: compact, HTML-safe escapes, dicts in their own order.

    Go sorts map keys but keeps struct fields in order; callers build dicts in the
    order Go would write them (use `sort_keys` for maps).
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _GO_ESCAPE_RE.sub(lambda m: _GO_ESCAPES[m.group()], text).encode()


def encode(value: Any) -> bytes:
    """`json.NewEncoder(w).Encode(value)`: like `marshal` plus a newline."""
    return marshal(value) + b"\n"


def sort_keys(mapping: dict[str, Any]) -> dict[str, Any]:
    """A Go map's key order when marshalled (byte-wise sorted keys)."""
    return {k: mapping[k] for k in sorted(mapping, key=lambda k: k.encode())}


def unmarshal(data: bytes, what: str = "JSON") -> Any:
    """Parse JSON from an untrusted source; size-capped, UTF-8, clear errors."""
    if len(data) > MAX_JSON_SIZE:
        raise ValueError(f"{what} too large: {len(data)} bytes (limit {MAX_JSON_SIZE})")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"invalid {what}: {e}") from None
    except _GoSyntaxError as e:
        raise ValueError(f"invalid {what}: {e}") from None


class _GoSyntaxError(Exception):
    pass


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; Go's decoder refuses them (Python's takes them)."""
    if name.startswith("-"):
        raise _GoSyntaxError("invalid character 'I' in numeric literal")
    raise _GoSyntaxError(f"invalid character '{name[0]}' looking for beginning of value")


_RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|z|[+-]\d{2}:\d{2})$"
)


def format_rfc3339_nano(ns: int) -> str:
    """UTC time `ns` nanoseconds after the epoch as Go's time.RFC3339Nano (trailing zeros
    of the fraction dropped, no fraction when it is zero)."""
    from datetime import datetime, timezone  # (a big module: loaded where times are written)

    seconds, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        stamp += "." + f"{frac:09d}".rstrip("0")
    return stamp + "Z"


def parse_rfc3339(value: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time (any offset)."""
    m = _RFC3339_RE.match(value)
    if not m:
        raise ValueError(f"invalid time {value!r}")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = int((m.group(7) or "0").ljust(9, "0"))
    zone = m.group(8)
    offset = 0
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    from dockerlayers.timetypes import utc_seconds  # datetime's checks, without datetime

    return (utc_seconds(year, month, day, hour, minute, second) - offset) * 1_000_000_000 + frac


def ns_from_seconds(seconds: float) -> int:
    """A clock reading (float seconds) as integer nanoseconds, as its decimal reads."""
    from decimal import Decimal

    return int((Decimal(repr(float(seconds))) * 1_000_000_000).to_integral_value())
