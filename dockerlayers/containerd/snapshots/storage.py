"""A snapshotter's own metadata: the ids N of `snapshots/N`, kinds and parents.

Each backend keeps its own BoltDB beside its folders (`io.containerd.snapshotter.v1.
overlayfs/metadata.db`, in bolt's page format like meta.db), keyed by the **backend name**
the metadata layer gives it (`moby/<seq>/<key>`):

    v1/snapshots/<backend name>/  id (uvarint N), kind (one byte: 1 View, 2 Active,
                                  3 Committed), parent (backend name), createdat,
                                  updatedat (binary time), size, inodes (varint,
                                  committed only), labels/
    v1/parents/                   uvarint(parent N) 0x00 uvarint(child N) -> child's name

N comes from the `snapshots` bucket's sequence: counts up, never reused, and Commit keeps
the N of the active snapshot it commits (only the name changes). A snapshot has children
while a `parents` key starts with its N and the zero byte.

containerd: snapshots/storage/bolt.go (CreateSnapshot, CommitActive, Remove, GetInfo, ...),
snapshots/storage/metastore.go (the file, 0600), snapshots/snapshotter.go (Kind)
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

STORAGE_FILE = "metadata.db"
#: containerd: snapshots/snapshotter.go Kind (KindUnknown = 0)
KIND_BYTES = {KIND_VIEW: 1, KIND_ACTIVE: 2, KIND_COMMITTED: 3}
_KINDS = {v: k for k, v in KIND_BYTES.items()}


def parent_key(parent: int, child: int) -> bytes:
    """containerd: snapshots/storage/bolt.go parentKey"""
    return md.put_uvarint(parent) + b"\x00" + md.put_uvarint(child)


def parent_prefix_key(parent: int) -> bytes:
    """containerd: snapshots/storage/bolt.go parentPrefixKey"""
    return md.put_uvarint(parent) + b"\x00"


def read_kind(bkt: md.Bucket) -> str:
    """containerd: snapshots/storage/bolt.go readKind ("Unknown" for anything else)"""
    v = bkt.get_bytes("kind") or b""
    return _KINDS.get(v[0], "Unknown") if len(v) == 1 else "Unknown"


def read_id(bkt: md.Bucket) -> int:
    """containerd: snapshots/storage/bolt.go readID"""
    return bkt.get_uvarint("id") or 0


def put_snapshot(
    bkt: md.Bucket,
    n: int,
    kind: str,
    parent: str,
    created: str,
    updated: str,
    labels: dict[str, str],
) -> None:
    """containerd: snapshots/storage/bolt.go putSnapshot"""
    bkt.put_uvarint("id", n)
    bkt.put_bytes("kind", bytes([KIND_BYTES[kind]]))
    if parent:
        bkt.put(md.BUCKET_KEY_PARENT, parent)
    md.write_timestamps(bkt, created, updated)
    md.write_labels(bkt, labels)


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
        """containerd: snapshots/storage/bolt.go parents"""
        ids = []
        while parent:
            p = bkt.bucket(parent)
            ids.append(str(read_id(p)))
            parent = p.get(md.BUCKET_KEY_PARENT) or ""
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
            spbkt = None
            if parent:
                spbkt = bkt.bucket(parent)
                if spbkt is None:
                    raise wrap(NotFound, f"missing parent {go_quote(parent)} bucket")
                if read_kind(spbkt) != KIND_COMMITTED:
                    raise wrap(
                        InvalidArgument, f"parent {go_quote(parent)} is not committed snapshot"
                    )
            sbkt = bkt.create_bucket(key)
            if sbkt is None:
                raise wrap(AlreadyExists, f"snapshot {key}")
            n = bkt.next_sequence()
            ts = format_rfc3339nano(self.now())
            put_snapshot(sbkt, n, kind, parent, ts, ts, labels)
            if spbkt is not None:
                # a backlink from the parent to the child, valued with the child's name
                self._parents(tx).put(parent_key(read_id(spbkt), n), key)
            return Snapshot(str(n), kind, self._parent_ids(bkt, parent))

    def get_snapshot(self, key: str) -> Snapshot:
        """containerd: snapshots/storage/bolt.go GetSnapshot"""
        with self.view() as tx:
            bkt = tx.bucket("v1", "snapshots")
            sbkt = bkt.bucket(key) if bkt else None
            if sbkt is None:
                raise wrap(NotFound, f"snapshot {key} does not exist")
            kind = read_kind(sbkt)
            if kind not in (KIND_ACTIVE, KIND_VIEW):
                raise wrap(FailedPrecondition, f"requested snapshot {key} not active or view")
            parent = sbkt.get(md.BUCKET_KEY_PARENT) or ""
            return Snapshot(str(read_id(sbkt)), kind, self._parent_ids(bkt, parent))

    def get_info(self, key: str) -> tuple[str, Info, Usage]:
        """containerd: snapshots/storage/bolt.go GetInfo -> (N, info, usage)"""
        with self.view() as tx:
            bkt = tx.bucket("v1", "snapshots")
            sbkt = bkt.bucket(key) if bkt else None
            if sbkt is None:
                raise wrap(NotFound, f"snapshot {key}")
            info = Info(
                kind=read_kind(sbkt),
                name=key,
                parent=sbkt.get(md.BUCKET_KEY_PARENT) or "",
                labels=md.read_labels(sbkt),
                created=sbkt.get_time(md.BUCKET_KEY_CREATED_AT) or "",
                updated=sbkt.get_time(md.BUCKET_KEY_UPDATED_AT) or "",
            )
            usage = Usage(sbkt.get_varint("inodes") or 0, sbkt.get_varint("size") or 0)
            return str(read_id(sbkt)), info, usage

    def commit_active(self, key: str, name: str, usage: Usage) -> str:
        """Rename the active snapshot `key` to the committed `name`, keeping its N.

        containerd: snapshots/storage/bolt.go CommitActive (the committed one is created
        now, and its labels are the commit's own, not inherited)
        """
        with self.update() as tx:
            bkt = self._snapshots(tx)
            dbkt = bkt.create_bucket(name)
            if dbkt is None:
                raise wrap(AlreadyExists, f"committed snapshot {name}")
            sbkt = bkt.bucket(key)
            if sbkt is None:
                raise wrap(NotFound, f"failed to get active snapshot {go_quote(key)}")
            if read_kind(sbkt) != KIND_ACTIVE:
                raise wrap(FailedPrecondition, f"snapshot {go_quote(key)} is not active")
            n = read_id(sbkt)
            parent = sbkt.get(md.BUCKET_KEY_PARENT) or ""
            ts = format_rfc3339nano(self.now())
            put_snapshot(dbkt, n, KIND_COMMITTED, parent, ts, ts, {})
            dbkt.put_varint("inodes", usage.inodes)
            dbkt.put_varint("size", usage.size)
            bkt.delete_bucket(key)
            if parent:
                # the parent's backlink now names the committed snapshot
                self._parents(tx).put(parent_key(read_id(bkt.bucket(parent)), n), name)
            return str(n)

    def remove(self, key: str) -> tuple[str, str]:
        """containerd: snapshots/storage/bolt.go Remove -> (N, kind)"""
        with self.update() as tx:
            bkt = self._snapshots(tx)
            sbkt = bkt.bucket(key)
            if sbkt is None:
                raise wrap(NotFound, f"snapshot {key}")
            n = read_id(sbkt)
            parents = self._parents(tx)
            prefix = parent_prefix_key(n)
            if any(k.startswith(prefix) for k in parents.raw_keys()):
                raise wrap(FailedPrecondition, "cannot remove snapshot with child")
            parent = sbkt.get(md.BUCKET_KEY_PARENT)
            if parent:
                parents.delete(parent_key(read_id(bkt.bucket(parent)), n))
            kind = read_kind(sbkt)
            bkt.delete_bucket(key)
            return str(n), kind

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
            return {str(read_id(bkt.bucket(k))): k for k in bkt.bucket_names()}
