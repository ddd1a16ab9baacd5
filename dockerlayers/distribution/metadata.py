"""Which compressed blob each layer came from (or went to), so a push of pulled layers
mounts or skips them and a pull knows the layers it has.

On disk, as dockerd: `<root>/image/<driver>/distribution/diffid-by-digest/sha256/<hex>`
(the DiffID) and `v2metadata-by-diffid/sha256/<hex>` (a JSON list of
`{"Digest", "SourceRepository", "HMAC"}`).

moby: distribution/metadata/v2_metadata_service.go
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from dockerlayers.ioutils import atomic_write_file


@dataclass(frozen=True)
class V2Metadata:
    """moby: distribution/metadata V2Metadata"""

    digest: str
    source_repository: str
    hmac: str = ""


class V2MetadataService:
    """moby: distribution/metadata/v2_metadata_service.go v2MetadataService"""

    def __init__(self, root: str) -> None:
        self.root = root  # <root>/image/<driver>/distribution

    def _path(self, kind: str, dgst: str) -> str:
        algo, _, hex_ = dgst.partition(":")
        return os.path.join(self.root, kind, algo, hex_)

    def get_diff_id(self, dgst: str) -> str | None:
        try:
            with open(self._path("diffid-by-digest", dgst)) as f:
                return f.read().strip()
        except OSError:
            return None

    def get_metadata(self, diff_id: str) -> list[V2Metadata]:
        try:
            with open(self._path("v2metadata-by-diffid", diff_id), "rb") as f:
                raw = json.loads(f.read())
        except (OSError, ValueError):
            return []
        return [V2Metadata(m["Digest"], m["SourceRepository"], m.get("HMAC", "")) for m in raw]

    def add(self, diff_id: str, meta: V2Metadata) -> None:
        """Remember `meta` for `diff_id` (most recent first, no duplicates, at most 50)."""
        old = [m for m in self.get_metadata(diff_id) if m != meta]
        items = [meta, *old][:50]
        data = json.dumps(
            [
                {"Digest": m.digest, "SourceRepository": m.source_repository, "HMAC": m.hmac}
                for m in items
            ],
            separators=(",", ":"),
        ).encode()
        for kind, key, body in (
            ("v2metadata-by-diffid", diff_id, data),
            ("diffid-by-digest", meta.digest, diff_id.encode()),
        ):
            path = self._path(kind, key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            atomic_write_file(path, body, 0o644)
