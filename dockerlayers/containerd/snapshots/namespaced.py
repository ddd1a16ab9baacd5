"""The snapshotter clients see: namespaced keys over one backend, children, leases.

containerd's metadata layer keeps, in meta.db, `v1/<namespace>/snapshots/<snapshotter>/<key>`
with `name` = the **backend name** `<namespace>/<seq>/<key>` (seq = that bucket's sequence,
taken again by every Prepare, View and Commit), `parent` (the user's key), `labels/`,
`children/`. The backend only ever sees backend names, so two namespaces may use the same
key. Remove drops the record at once and leaves the backend's folder to the next garbage
collection. Work with a lease adds the new key to the lease; Commit moves it to the name.

containerd: metadata/snapshot.go (snapshotter: createSnapshot, Commit, Remove, Stat, Mounts)
"""

from __future__ import annotations

from collections.abc import Callable

from dockerlayers.containerd import metadata as md
from dockerlayers.containerd.errdefs import AlreadyExists, FailedPrecondition, NotFound, wrap
from dockerlayers.containerd.leases import add_snapshot_lease, remove_snapshot_lease
from dockerlayers.containerd.snapshots import Info, Mount, Usage
from dockerlayers.containerd.snapshots.overlayfs import OverlaySnapshotter
from dockerlayers.gostrings import go_quote
from dockerlayers.process.clock import format_rfc3339nano


def create_key(seq: int, ns: str, key: str) -> str:
    """containerd: metadata/snapshot.go createKey"""
    return f"{ns}/{seq}/{key}"


class Snapshotter:
    """containerd: metadata/snapshot.go snapshotter"""

    def __init__(
        self,
        db: md.DB,
        backend: OverlaySnapshotter,
        now: Callable[[], float],
        on_delete: Callable[[], None],
    ) -> None:
        self.db = db
        self.backend = backend
        self.name = backend.name
        self.now = now
        self._on_delete = on_delete

    def _bucket(self, tx: md.Bucket, ns: str, create: bool = False) -> md.Bucket | None:
        return md.namespace_bucket(tx, ns, md.BUCKET_KEY_OBJECT_SNAPSHOTS, self.name, create=create)

    def resolve_key(self, ns: str, key: str) -> str:
        """The backend name of `key`. containerd: metadata/snapshot.go resolveKey"""
        with self.db.view() as tx:
            bkt = self._bucket(tx, ns)
            sbkt = bkt.bucket(key) if bkt else None
            if sbkt is None:
                raise wrap(NotFound, f"snapshot {key} does not exist")
            return sbkt.get(md.BUCKET_KEY_NAME)

    def stat(self, ns: str, key: str) -> Info:
        """containerd: metadata/snapshot.go Stat (kind from the backend, the rest from meta.db)"""
        bkey = self.resolve_key(ns, key)
        binfo = self.backend.stat(bkey)
        with self.db.view() as tx:
            sbkt = self._bucket(tx, ns).bucket(key)
            return Info(
                kind=binfo.kind,
                name=key,
                parent=sbkt.get(md.BUCKET_KEY_PARENT) or "",
                labels=md.read_labels(sbkt),
                created=sbkt.get_time(md.BUCKET_KEY_CREATED_AT) or "",
                updated=sbkt.get_time(md.BUCKET_KEY_UPDATED_AT) or "",
            )

    def usage(self, ns: str, key: str) -> Usage:
        return self.backend.usage(self.resolve_key(ns, key))

    def mounts(self, ns: str, key: str) -> list[Mount]:
        return self.backend.mounts(self.resolve_key(ns, key))

    def snapshot_id(self, ns: str, key: str) -> str:
        """The backend's N (`snapshots/N`) for `key`."""
        return self.backend.id(self.resolve_key(ns, key))

    def prepare(
        self,
        ns: str,
        key: str,
        parent: str = "",
        *,
        labels: dict[str, str] | None = None,
        lease: str | None = None,
    ) -> list[Mount]:
        return self._create_snapshot(ns, key, parent, False, labels or {}, lease)

    def view(
        self,
        ns: str,
        key: str,
        parent: str = "",
        *,
        labels: dict[str, str] | None = None,
        lease: str | None = None,
    ) -> list[Mount]:
        return self._create_snapshot(ns, key, parent, True, labels or {}, lease)

    def _create_snapshot(
        self,
        ns: str,
        key: str,
        parent: str,
        readonly: bool,
        labels: dict[str, str],
        lease: str | None,
    ) -> list[Mount]:
        """containerd: metadata/snapshot.go createSnapshot"""
        with self.db.update() as tx:
            bkt = self._bucket(tx, ns, create=True)
            bbkt = bkt.create_bucket(key)
            if bbkt is None:
                raise wrap(AlreadyExists, f"snapshot {go_quote(key)}")
            add_snapshot_lease(tx, ns, lease, self.name, key)
            bparent = ""
            if parent:
                pbkt = bkt.bucket(parent)
                if pbkt is None:
                    raise wrap(NotFound, f"parent snapshot {parent} does not exist")
                bparent = pbkt.get(md.BUCKET_KEY_NAME)
                pbkt.create_bucket_if_not_exists(md.BUCKET_KEY_CHILDREN).put_bytes(key, b"")
                bbkt.put(md.BUCKET_KEY_PARENT, parent)
            bkey = create_key(bkt.next_sequence(), ns, key)
            bbkt.put(md.BUCKET_KEY_NAME, bkey)
            ts = format_rfc3339nano(self.now())
            md.write_timestamps(bbkt, ts, ts)
            md.write_labels(bbkt, labels)
            if readonly:
                return self.backend.view(bkey, bparent)
            return self.backend.prepare(bkey, bparent)

    def commit(
        self,
        ns: str,
        name: str,
        key: str,
        *,
        labels: dict[str, str] | None = None,
        lease: str | None = None,
    ) -> None:
        """containerd: metadata/snapshot.go Commit (a new backend name; the backend keeps N)"""
        with self.db.update() as tx:
            bkt = self._bucket(tx, ns)
            if bkt is None:
                raise wrap(NotFound, f"can not find snapshotter {go_quote(self.name)}")
            bbkt = bkt.create_bucket(name)
            if bbkt is None:
                raise wrap(AlreadyExists, f"snapshot {go_quote(name)}")
            add_snapshot_lease(tx, ns, lease, self.name, name)
            obkt = bkt.bucket(key)
            if obkt is None:
                raise wrap(NotFound, f"snapshot {key} does not exist")
            bkey = obkt.get(md.BUCKET_KEY_NAME)
            name_key = create_key(bkt.next_sequence(), ns, name)
            merged = md.read_labels(obkt)
            merged.update(labels or {})
            parent = obkt.get(md.BUCKET_KEY_PARENT)
            if parent:
                cbkt = bkt.bucket(parent, md.BUCKET_KEY_CHILDREN)
                cbkt.delete(key)
                cbkt.put_bytes(name, b"")
                bbkt.put(md.BUCKET_KEY_PARENT, parent)
            ts = format_rfc3339nano(self.now())
            md.write_timestamps(bbkt, ts, ts)
            md.write_labels(bbkt, merged)
            bbkt.put(md.BUCKET_KEY_NAME, name_key)
            bkt.delete_bucket(key)
            remove_snapshot_lease(tx, ns, lease, self.name, key)
            self.backend.commit(name_key, bkey)

    def remove(self, ns: str, key: str) -> None:
        """containerd: metadata/snapshot.go Remove (the backend's copy goes at the next GC)"""
        with self.db.update() as tx:
            bkt = self._bucket(tx, ns)
            sbkt = bkt.bucket(key) if bkt else None
            if sbkt is None:
                raise wrap(NotFound, f"snapshot {key} does not exist")
            children = sbkt.bucket(md.BUCKET_KEY_CHILDREN)
            if children is not None and children.key_names():
                raise wrap(FailedPrecondition, "cannot remove snapshot with child")
            parent = sbkt.get(md.BUCKET_KEY_PARENT)
            if parent:
                pbkt = bkt.bucket(parent)
                cbkt = pbkt.bucket(md.BUCKET_KEY_CHILDREN) if pbkt else None
                if cbkt is not None:
                    cbkt.delete(key)
                    if not cbkt.key_names():
                        pbkt.delete_bucket(md.BUCKET_KEY_CHILDREN)
            bkt.delete_bucket(key)
        self._on_delete()

    def update_labels(self, ns: str, key: str, labels: dict[str, str]) -> Info:
        """containerd: metadata/snapshot.go Update (fieldpaths labels.*): merge, "" removes"""
        with self.db.update() as tx:
            bkt = self._bucket(tx, ns)
            sbkt = bkt.bucket(key) if bkt else None
            if sbkt is None:
                raise wrap(NotFound, f"snapshot {key} does not exist")
            merged = md.read_labels(sbkt)
            for k, v in labels.items():
                if v:
                    merged[k] = v
                else:
                    merged.pop(k, None)
            md.write_labels(sbkt, merged)
            sbkt.put_time(md.BUCKET_KEY_UPDATED_AT, format_rfc3339nano(self.now()))
        return self.stat(ns, key)

    def walk(self, ns: str) -> list[Info]:
        with self.db.view() as tx:
            bkt = self._bucket(tx, ns)
            keys = bkt.bucket_names() if bkt else []
        return [self.stat(ns, k) for k in keys]

    def children(self, ns: str, key: str) -> list[str]:
        """What meta.db lists under `<key>/children` (stale entries included: containerd#11908)."""
        with self.db.view() as tx:
            bkt = self._bucket(tx, ns)
            cbkt = bkt.bucket(key, md.BUCKET_KEY_CHILDREN) if bkt else None
            return cbkt.key_names() if cbkt else []
