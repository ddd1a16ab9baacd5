"""A snapshotter's own metadata: the ids N of `snapshots/N`, kinds and parents.

Each backend keeps its own BoltDB beside its folders (`io.containerd.snapshotter.v1.
overlayfs/metadata.db`; JSON here, `metadata.db.json`), keyed by the **backend name** the
metadata layer gives it (`moby/<seq>/<key>`):

    v1/snapshots/<backend name>/  id (N), kind, parent (backend name), createdat, updatedat,
                                  size, inodes (committed only), labels/
    v1/parents/                   "<parent N>/<child N>" for every parent link

N comes from the `snapshots` bucket's sequence: counts up, never reused, and Commit keeps
the N of the active snapshot it commits (only the name changes).

containerd: snapshots/storage/bolt.go (CreateSnapshot, CommitActive, Remove, GetInfo, ...)
"""

from __future__ import annotations

import os
from collections.abc import Callable

from dockerlayers.containerd import metadata as md
from dockerlayers.containerd.errdefs import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    wrap,
)
from dockerlayers.containerd.snapshots import (
    KIND_ACTIVE,
    KIND_COMMITTED,
    KIND_VIEW,
    Info,
    Snapshot,
    Usage,
)
from dockerlayers.gostrings import go_quote
from dockerlayers.process.clock import format_rfc3339nano

STORAGE_FILE = "metadata.db.json"


class MetaStore(md.BucketFile):
    """containerd: snapshots/storage/metastore.go MetaStore (+ bolt.go's functions)"""

    def __init__(self, root: str, now: Callable[[], float]) -> None:
        super().__init__(os.path.join(root, STORAGE_FILE))
        self.now = now

    def _snapshots(self, tx: md.Bucket) -> md.Bucket:
        return tx.create_bucket_if_not_exists("v1", "snapshots")

    def _parents(self, tx: md.Bucket) -> md.Bucket:
        return tx.create_bucket_if_not_exists("v1", "parents")

    def _parent_ids(self, bkt: md.Bucket, parent: str) -> list[str]:
        ids = []
        while parent:
            p = bkt.bucket(parent)
            ids.append(p.get("id"))
            parent = p.get("parent") or ""
        return ids

    def create_snapshot(self, kind: str, key: str, parent: str, labels: dict[str, str]) -> Snapshot:
        """containerd: snapshots/storage/bolt.go CreateSnapshot"""
        if kind not in (KIND_ACTIVE, KIND_VIEW):
            raise wrap(
                InvalidArgument,
                f"snapshot type {kind} invalid; only snapshots of type Active or View "
                "can be created",
            )
        with self.update() as tx:
            bkt = self._snapshots(tx)
            if parent:
                p = bkt.bucket(parent)
                if p is None:
                    raise wrap(NotFound, f"missing parent {go_quote(parent)} bucket")
                if p.get("kind") != KIND_COMMITTED:
                    raise wrap(
                        InvalidArgument, f"parent {go_quote(parent)} is not committed snapshot"
                    )
            sbkt = bkt.create_bucket(key)
            if sbkt is None:
                raise wrap(AlreadyExists, f"snapshot {key}")
            n = str(bkt.next_sequence())
            ts = format_rfc3339nano(self.now())
            sbkt.put("id", n)
            sbkt.put("kind", kind)
            sbkt.put(md.BUCKET_KEY_CREATED_AT, ts)
            sbkt.put(md.BUCKET_KEY_UPDATED_AT, ts)
            md.write_labels(sbkt, labels)
            if parent:
                sbkt.put("parent", parent)
                self._parents(tx).put(f"{bkt.bucket(parent).get('id')}/{n}", "")
            return Snapshot(n, kind, self._parent_ids(bkt, parent))

    def get_snapshot(self, key: str) -> Snapshot:
        """containerd: snapshots/storage/bolt.go GetSnapshot"""
        with self.view() as tx:
            bkt = tx.bucket("v1", "snapshots")
            sbkt = bkt.bucket(key) if bkt else None
            if sbkt is None:
                raise wrap(NotFound, f"snapshot {key} does not exist")
            kind = sbkt.get("kind")
            if kind not in (KIND_ACTIVE, KIND_VIEW):
                raise wrap(FailedPrecondition, f"requested snapshot {key} not active or view")
            return Snapshot(sbkt.get("id"), kind, self._parent_ids(bkt, sbkt.get("parent") or ""))

    def get_info(self, key: str) -> tuple[str, Info, Usage]:
        """containerd: snapshots/storage/bolt.go GetInfo -> (N, info, usage)"""
        with self.view() as tx:
            bkt = tx.bucket("v1", "snapshots")
            sbkt = bkt.bucket(key) if bkt else None
            if sbkt is None:
                raise wrap(NotFound, f"snapshot {key}")
            info = Info(
                kind=sbkt.get("kind"),
                name=key,
                parent=sbkt.get("parent") or "",
                labels=md.read_labels(sbkt),
                created=sbkt.get(md.BUCKET_KEY_CREATED_AT) or "",
                updated=sbkt.get(md.BUCKET_KEY_UPDATED_AT) or "",
            )
            usage = Usage(int(sbkt.get("inodes") or 0), int(sbkt.get("size") or 0))
            return sbkt.get("id"), info, usage

    def commit_active(self, key: str, name: str, usage: Usage) -> str:
        """Rename the active snapshot `key` to the committed `name`, keeping its N.

        containerd: snapshots/storage/bolt.go CommitActive
        """
        with self.update() as tx:
            bkt = self._snapshots(tx)
            if bkt.bucket(name) is not None:
                raise wrap(AlreadyExists, f"committed name {name}")
            sbkt = bkt.bucket(key)
            if sbkt is None:
                raise wrap(NotFound, f"failed to get active snapshot {go_quote(key)}")
            if sbkt.get("kind") != KIND_ACTIVE:
                raise wrap(FailedPrecondition, f"snapshot {key} is not active")
            new = bkt.create_bucket(name)
            for k, v in sbkt.items().items():
                new.put(k, v)
            md.write_labels(new, md.read_labels(sbkt))
            new.put("kind", KIND_COMMITTED)
            new.put("size", str(usage.size))
            new.put("inodes", str(usage.inodes))
            new.put(md.BUCKET_KEY_UPDATED_AT, format_rfc3339nano(self.now()))
            bkt.delete_bucket(key)
            return new.get("id")

    def remove(self, key: str) -> tuple[str, str]:
        """containerd: snapshots/storage/bolt.go Remove -> (N, kind)"""
        with self.update() as tx:
            bkt = self._snapshots(tx)
            sbkt = bkt.bucket(key)
            if sbkt is None:
                raise wrap(NotFound, f"snapshot {key}")
            n = sbkt.get("id")
            parents = self._parents(tx)
            if any(k.startswith(f"{n}/") for k in parents.key_names()):
                raise wrap(FailedPrecondition, "cannot remove snapshot with child")
            parent = sbkt.get("parent")
            if parent:
                parents.delete(f"{bkt.bucket(parent).get('id')}/{n}")
            kind = sbkt.get("kind")
            bkt.delete_bucket(key)
            return n, kind

    def update_labels(self, key: str, labels: dict[str, str]) -> None:
        with self.update() as tx:
            sbkt = self._snapshots(tx).bucket(key)
            if sbkt is None:
                raise wrap(NotFound, f"snapshot {key}")
            md.write_labels(sbkt, labels)

    def walk(self) -> list[str]:
        with self.view() as tx:
            bkt = tx.bucket("v1", "snapshots")
            return bkt.bucket_names() if bkt else []

    def id_map(self) -> dict[str, str]:
        """N -> backend name, for every snapshot the store knows."""
        with self.view() as tx:
            bkt = tx.bucket("v1", "snapshots")
            if bkt is None:
                return {}
            return {bkt.bucket(k).get("id"): k for k in bkt.bucket_names()}
