"""Content digests: DiffID, ChainID and the empty layer.

moby: layer/layer.go (CreateChainID), layer/empty.go (DigestSHA256EmptyTar)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}\Z")

#: sha256 of 1024 NUL bytes: what an empty Go tar.Writer emits on Close().
DIGEST_SHA256_EMPTY_TAR = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
EMPTY_TAR = b"\0" * 1024


class Digest(str):
    """A `sha256:<hex>` string, checked on construction."""

    def __new__(cls, value: str) -> Digest:
        if not _DIGEST_RE.match(value):
            raise ValueError(f"invalid checksum digest format: {value!r}")
        return super().__new__(cls, value)

    @property
    def hex(self) -> str:
        return self[7:]

    @property
    def short(self) -> str:
        """The 12-character form `docker images` prints."""
        return self[7:19]


# DiffID and ChainID are both digests; the aliases keep moby's vocabulary.
DiffID = Digest
ChainID = Digest


def from_bytes(data: bytes) -> Digest:
    """sha256 of `data` as a digest string."""
    import hashlib

    return Digest("sha256:" + hashlib.sha256(data).hexdigest())


def is_digest(value: str) -> bool:
    return bool(_DIGEST_RE.match(value))


def chain_id(diff_ids: Iterable[str]) -> Digest | None:
    """ChainID of a stack of layers given bottom to top; None for an empty stack.

    ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)),
    hashing the full `sha256:` strings.

    moby: layer/layer.go CreateChainID
    """
    current: Digest | None = None
    for diff in diff_ids:
        current = Digest(diff) if current is None else create_chain_id_from_parent(current, diff)
    return current


def create_chain_id_from_parent(parent: str | None, diff_id: str) -> Digest:
    """ChainID of a layer whose diff is `diff_id` on top of the layer `parent`.

    moby: layer/layer.go createChainIDFromParent
    """
    if not parent:
        return Digest(diff_id)
    return from_bytes(f"{parent} {diff_id}".encode())


def is_empty(diff_id: str) -> bool:
    """True for the DiffID of the empty layer (an empty tar)."""
    return diff_id == DIGEST_SHA256_EMPTY_TAR
