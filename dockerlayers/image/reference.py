"""The tag store: `repositories.json`, names and digests pointing at image IDs.

On disk: `{"Repositories": {"busybox": {"busybox:latest": "sha256:..."}}}`, keyed by
familiar name then familiar reference, written atomically with mode 0600.

moby: reference/store.go
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any

from dockerlayers.image import jsonenc
from dockerlayers.image.errors import ConflictError, ImageNotFound, InvalidReference
from dockerlayers.image.refname import (
    Reference,
    familiar_name,
    familiar_string,
    parse_normalized_named,
)
from dockerlayers.ioutils import atomic_write_file, remove_temp_files


class ReferenceDoesNotExist(ImageNotFound):
    """moby: reference/store.go ErrDoesNotExist"""

    def __init__(self) -> None:
        super().__init__("reference does not exist")


@dataclass(frozen=True)
class Association:
    """A reference and the image ID it points at. moby: reference/store.go Association"""

    ref: Reference
    id: str


class ReferenceStore:
    """Tags and digests by repository, persisted to `repositories.json`."""

    def __init__(self, json_path: str) -> None:
        self.json_path = json_path
        remove_temp_files(os.path.dirname(json_path))  # a crashed write's temp file
        self.repositories: dict[str, dict[str, str]] = {}
        self._by_id: dict[str, dict[str, Reference]] = {}
        self._lock = threading.RLock()
        self._reload()

    def __repr__(self) -> str:
        return f"<ReferenceStore {sum(len(r) for r in self.repositories.values())} refs>"

    def _reload(self) -> None:
        """moby: reference/store.go reload"""
        try:
            with open(self.json_path, "rb") as f:
                data = json.loads(f.read() or b"{}")
        except FileNotFoundError:
            return
        for name, repo in (data.get("Repositories") or {}).items():
            for ref_str, id in (repo or {}).items():
                try:
                    ref = parse_normalized_named(ref_str)
                except InvalidReference:
                    continue  # moby skips references it cannot parse
                self.repositories.setdefault(name, {})[ref_str] = id
                self._by_id.setdefault(id, {})[ref_str] = ref

    def _save(self) -> None:
        """moby: reference/store.go save"""
        doc = {
            "Repositories": jsonenc.sort_keys(
                {name: jsonenc.sort_keys(repo) for name, repo in self.repositories.items()}
            )
        }
        os.makedirs(os.path.dirname(self.json_path), exist_ok=True)
        atomic_write_file(self.json_path, jsonenc.marshal(doc), 0o600)

    def _snapshot(self) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, Reference]]]:
        return (
            {k: dict(v) for k, v in self.repositories.items()},
            {k: dict(v) for k, v in self._by_id.items()},
        )

    def _save_or_restore(self, snapshot: tuple[Any, Any]) -> None:
        """Save; if that fails, the tags in memory go back to what is on disk.

        moby: reference/store.go addReference/Delete save after changing the maps
        ("todo: should we restore the old state if save fails?"): we do, or a tag that was
        never written would be served until the daemon restarts (and its image, rolled
        back by a failed load, be gone)
        """
        try:
            self._save()
        except BaseException:
            self.repositories, self._by_id = snapshot
            raise

    def add_tag(self, ref: Reference, id: str, force: bool = False) -> None:
        """Point `ref` (a tag, `latest` if none) at the image `id`.

        moby: reference/store.go AddTag
        """
        if ref.digest:
            raise InvalidReference("refusing to create a tag with a digest reference")
        self._add_reference(ref.tag_name_only(), id, force)

    def add_digest(self, ref: Reference, id: str, force: bool = False) -> None:
        """moby: reference/store.go AddDigest"""
        if not ref.digest:
            raise InvalidReference("reference is not a digest reference")
        self._add_reference(ref, id, force)

    def _add_reference(self, ref: Reference, id: str, force: bool) -> None:
        """moby: reference/store.go addReference"""
        name, ref_str = familiar_name(ref), familiar_string(ref)
        if name == "sha256":
            raise InvalidReference(
                "refusing to create an ambiguous tag using digest algorithm as name"
            )
        with self._lock:
            snapshot = self._snapshot()
            repo = self.repositories.get(name, {})
            old = repo.get(ref_str)
            if old is not None:
                if old == id:
                    return
                if ref.digest:
                    raise ConflictError(f"Cannot overwrite digest {ref.digest}")
                if not force:
                    raise ConflictError(
                        f"tag {ref_str} is already set to image {old}, "
                        "use the force option to replace it"
                    )
                self._forget(old, ref_str)
            self.repositories.setdefault(name, {})[ref_str] = id
            self._by_id.setdefault(id, {})[ref_str] = ref
            self._save_or_restore(snapshot)

    def _forget(self, id: str, ref_str: str) -> None:
        refs = self._by_id.get(id)
        if refs is not None:
            refs.pop(ref_str, None)
            if not refs:
                del self._by_id[id]

    def delete(self, ref: Reference) -> bool:
        """Remove a tag or digest reference.

        moby: reference/store.go Delete
        """
        ref = ref.tag_name_only()
        name, ref_str = familiar_name(ref), familiar_string(ref)
        with self._lock:
            repo = self.repositories.get(name)
            if repo is None or ref_str not in repo:
                raise ReferenceDoesNotExist()
            snapshot = self._snapshot()
            id = repo.pop(ref_str)
            if not repo:
                del self.repositories[name]
            self._forget(id, ref_str)
            self._save_or_restore(snapshot)
            return True

    def get(self, ref: Reference) -> str:
        """The image ID `ref` points at (a digest wins over a tag).

        moby: reference/store.go Get
        """
        if ref.digest:
            ref = Reference(ref.name, "", ref.digest)
        else:
            ref = ref.tag_name_only()
        with self._lock:
            repo = self.repositories.get(familiar_name(ref))
            if repo is None:
                raise ReferenceDoesNotExist()
            id = repo.get(familiar_string(ref))
            if id is None:
                raise ReferenceDoesNotExist()
            return id

    def references(self, id: str) -> list[Reference]:
        """Every reference to image `id`, sorted by familiar string.

        moby: reference/store.go References
        """
        with self._lock:
            refs = list(self._by_id.get(id, {}).values())
        return sorted(refs, key=familiar_string)

    def references_by_name(self, ref: Reference) -> list[Association]:
        """Every reference in the repository of `ref`, sorted.

        moby: reference/store.go ReferencesByName
        """
        with self._lock:
            repo = dict(self.repositories.get(familiar_name(ref), {}))
        out = [Association(parse_normalized_named(s), id) for s, id in repo.items()]
        return sorted(out, key=lambda a: familiar_string(a.ref))
