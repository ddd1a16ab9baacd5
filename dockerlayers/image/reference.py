"""The tag store: `repositories.json`, names and digests pointing at image IDs.

On disk: `{"Repositories": {"busybox": {"busybox:latest": "sha256:..."}}}`, keyed by
familiar name then familiar reference, written atomically with mode 0600.

moby: reference/store.go
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from dockerlayers._record import FrozenRecord
from dockerlayers.image import jsonenc
from dockerlayers.image.errors import (
    ConflictError,
    ImageNotFound,
    InvalidReference,
    StoreInitError,
)
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


class Association(FrozenRecord):
    """A reference and the image ID it points at. moby: reference/store.go Association"""

    _fields = ("ref", "id")
    ref: Reference
    id: str

    def __init__(self, ref: Reference, id: str) -> None:
        self._set(ref=ref, id=id)


_GO_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "bool"}


def _decode_store(raw: bytes) -> dict[str, Any]:
    """`repositories.json` decoded into moby's store shape, or StoreInitError worded like
    Go's encoding/json (`invalid character 'g' looking for beginning of value`, `unexpected
    end of JSON input`, `json: cannot unmarshal array into Go value of type ...`): dockerd
    refuses to start on a garbage file rather than lose the tags in it.

    moby: reference/store.go NewReferenceStore / reload
    """
    prefix = "Couldn't create reference store repository: "
    text = raw.decode("utf-8", "replace")  # Go: invalid UTF-8 becomes U+FFFD
    if len(raw) > jsonenc.MAX_JSON_SIZE:
        raise StoreInitError(prefix + "file too large")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        rest = text[e.pos :].lstrip()
        if not rest:
            why = "unexpected end of JSON input"
        elif e.msg == "Expecting value":
            why = f"invalid character {_go_char(rest[0])} looking for beginning of value"
        elif e.msg == "Extra data":
            why = f"invalid character {_go_char(rest[0])} after top-level value"
        else:
            why = f"invalid character {_go_char(rest[0])} in JSON input"
        raise StoreInitError(prefix + why) from None
    except RecursionError:
        raise StoreInitError(prefix + "exceeded max depth") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = _GO_KINDS.get(type(data), "value")
        raise StoreInitError(
            f"{prefix}json: cannot unmarshal {kind} into Go value of type *reference.store"
        )
    repos = data.get("Repositories")
    if repos is not None and not isinstance(repos, dict):
        kind = _GO_KINDS.get(type(repos), "value")
        raise StoreInitError(
            f"{prefix}json: cannot unmarshal {kind} into Go struct field "
            "store.Repositories of type map[string]reference.repository"
        )
    for repo in (repos or {}).values():
        if repo is None:
            continue
        bad = (
            [v for v in repo.values() if not isinstance(v, str)] if isinstance(repo, dict) else None
        )
        if bad is None:
            kind = _GO_KINDS.get(type(repo), "value")
            raise StoreInitError(
                f"{prefix}json: cannot unmarshal {kind} into Go value of type reference.repository"
            )
        if bad:
            kind = _GO_KINDS.get(type(bad[0]), "value") if bad[0] is not None else "value"
            if bad[0] is None:
                continue  # Go: null leaves the digest empty
            raise StoreInitError(
                f"{prefix}json: cannot unmarshal {kind} into Go value of type digest.Digest"
            )
    return data


def _go_char(c: str) -> str:
    """How Go's JSON errors quote a character: `'x'`, or `'\\''` for a quote."""
    return "'\\''" if c == "'" else f"'{c}'"


class ReferenceStore:
    """Tags and digests by repository, persisted to `repositories.json`."""

    def __init__(self, json_path: str) -> None:
        self.json_path = json_path
        if json_path:
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
                raw = f.read(jsonenc.MAX_JSON_SIZE + 1) or b"{}"
        except FileNotFoundError:
            return
        except OSError as e:
            raise StoreInitError(f"Couldn't create reference store repository: {e}") from None
        data = _decode_store(raw)
        for name, repo in (data.get("Repositories") or {}).items():
            for ref_str, id in (repo or {}).items():
                if not isinstance(id, str):
                    continue  # a null digest (the only non-string _decode_store lets by)
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
            old = self.repositories.get(name, {}).get(ref_str)
            if old is not None:
                if old == id:
                    self._same_reference(ref, id)
                    return
                if ref.digest:
                    raise ConflictError(f"Cannot overwrite digest {ref.digest}")
                if not force:
                    raise ConflictError(
                        f"tag {ref_str} is already set to image {old}, "
                        "use the force option to replace it"
                    )
            self._point(ref, id, old)

    def _same_reference(self, ref: Reference, id: str) -> None:
        """`ref` names `id` already: nothing to change."""

    def _point(self, ref: Reference, id: str, old: str | None) -> None:
        """Point `ref` at `id` (away from `old`), then save."""
        name, ref_str = familiar_name(ref), familiar_string(ref)
        snapshot = self._snapshot()
        if old is not None:
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
