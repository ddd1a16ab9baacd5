"""Random IDs: container IDs, cache-ids, mount-ids, overlay2 link names.

With a seed every ID is reproducible, so notebooks print the same IDs on every run.

moby: pkg/stringid/stringid.go, daemon/graphdriver/overlayutils/randomid.go
"""

from __future__ import annotations

import os
import threading


class IDGenerator:
    """Source of 64-hex IDs and 26-char link IDs; seeded or truly random."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = None
        if seed is not None:
            import random

            self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def _bytes(self, n: int) -> bytes:
        if self._rng is None:
            return os.urandom(n)  # what secrets.token_bytes returns, without its imports
        with self._lock:
            return self._rng.getrandbits(8 * n).to_bytes(n, "big")

    def getstate(self) -> object | None:
        """The seeded generator's state (None when unseeded), to carry IDs on across runs."""
        return self._rng.getstate() if self._rng is not None else None

    def setstate(self, state: object | None) -> None:
        """Resume from `getstate()`'s value, also as JSON gives it back (lists for tuples);
        a no-op for an unseeded generator or a None state."""
        if self._rng is not None and state is not None:
            self._rng.setstate(_tuplify(state))

    def generate_random_id(self) -> str:
        """64 lowercase hex chars, re-rolled while the 12-char short ID is all digits
        (the short ID is the default hostname).

        moby: pkg/stringid/stringid.go GenerateRandomID
        """
        while True:
            value = self._bytes(32).hex()
            if not value[:12].isdigit():
                return value

    def generate_link_id(self, length: int = 26) -> str:
        """overlay2's short link name: standard base32 of random bytes, first 26 chars.

        moby: daemon/graphdriver/overlayutils/randomid.go GenerateID
        """
        import base64

        raw = self._bytes((length * 5 + 7) // 8)
        return base64.b32encode(raw).decode()[:length]


def _tuplify(value: object) -> object:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


def truncate_id(value: str) -> str:
    """Strip an `algo:` prefix and keep 12 chars.

    moby: pkg/stringid/stringid.go TruncateID
    """
    if ":" in value:
        value = value.split(":", 1)[1]
    return value[:12]


def is_valid_id(value: str) -> bool:
    """64 lowercase hex, optionally with `-init` (layerdb mount-id/init-id files).

    moby: layer/filestore.go isValidID
    """
    if value.endswith("-init"):
        value = value[: -len("-init")]
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
