"""An image's root filesystem: its layers' DiffIDs, bottom to top.

moby: image/rootfs.go
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockerlayers.digest import chain_id, is_digest

TYPE_LAYERS = "layers"
TYPE_LAYERS_WITH_BASE = "layers+base"  # old Windows images: tolerated, no ChainID


@dataclass
class RootFS:
    """`{"type": "layers", "diff_ids": [...]}`.

    moby: image/rootfs.go RootFS
    """

    type: str = TYPE_LAYERS
    diff_ids: list[str] = field(default_factory=list)

    def append(self, diff_id: str) -> None:
        """moby: image/rootfs.go Append"""
        self.diff_ids.append(diff_id)

    def clone(self) -> RootFS:
        """moby: image/rootfs.go Clone"""
        return RootFS(self.type, list(self.diff_ids))

    def chain_id(self) -> str:
        """ChainID of the top layer; "" without layers or for `layers+base`.

        moby: image/rootfs.go ChainID
        """
        if self.type == TYPE_LAYERS_WITH_BASE:
            return ""
        return chain_id(self.diff_ids) or ""

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "diff_ids": list(self.diff_ids)}

    @classmethod
    def from_json(cls, value: Any) -> RootFS:
        """Checked like Go's decoder would, with a clear message for each mistake."""
        if not isinstance(value, dict):
            raise ValueError("invalid image JSON, rootfs is not an object")
        kind = value.get("type", "")
        diff_ids = value.get("diff_ids")
        if not isinstance(kind, str):
            raise ValueError("invalid image JSON, rootfs.type is not a string")
        if diff_ids is None:
            diff_ids = []
        if not isinstance(diff_ids, list) or not all(
            isinstance(d, str) and is_digest(d) for d in diff_ids
        ):
            raise ValueError("invalid image JSON, rootfs.diff_ids must be sha256 digests")
        return cls(kind, list(diff_ids))
