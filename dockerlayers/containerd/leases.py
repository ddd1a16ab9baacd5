"""Leases: named sets of resources that garbage collection must keep.

A lease is `v1/<namespace>/leases/<id>/` in meta.db with `createdat`, `labels/` and one
bucket per resource kind: `content/<digest>`, `snapshots/<snapshotter>/<key>`, `ingests/`.
Work done "with a lease" (a context carrying it) adds what it creates: Docker 29 makes one
lease per container, **named by the container ID**, and prepares the container's snapshots
under it, so the lease (not a `containerd.io/gc.root` label) is what keeps them. Deleting the
lease with `SynchronousDelete` runs a collection before returning (that is `docker rm`).

containerd: metadata/leases.go (leaseManager, addSnapshotLease, addContentLease),
leases/lease.go (SynchronousDelete); moby: daemon/containerd/image_snapshot.go createLayer
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dockerlayers.containerd import metadata as md
from dockerlayers.containerd.errdefs import AlreadyExists, NotFound, wrap
from dockerlayers.gostrings import go_quote
from dockerlayers.process.clock import format_rfc3339nano

RESOURCE_CONTENT = "content"
RESOURCE_SNAPSHOTS = "snapshots"
RESOURCE_INGESTS = "ingests"


@dataclass
class Lease:
    """containerd: leases/lease.go Lease"""

    id: str
    created_at: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Resource:
    """containerd: leases/lease.go Resource (type "content", "snapshots/<sn>", "ingests")"""

    id: str
    type: str


def _lease_bucket(tx: md.Bucket, ns: str, lid: str) -> md.Bucket:
    bkt = md.namespace_bucket(tx, ns, md.BUCKET_KEY_OBJECT_LEASES, lid)
    if bkt is None:
        raise wrap(NotFound, "lease does not exist")
    return bkt


def add_snapshot_lease(tx: md.Bucket, ns: str, lid: str | None, snapshotter: str, key: str) -> None:
    """containerd: metadata/leases.go addSnapshotLease"""
    if lid is None:
        return
    _lease_bucket(tx, ns, lid).create_bucket_if_not_exists(
        RESOURCE_SNAPSHOTS, snapshotter
    ).put_bytes(key, b"")


def remove_snapshot_lease(
    tx: md.Bucket, ns: str, lid: str | None, snapshotter: str, key: str
) -> None:
    """containerd: metadata/leases.go removeSnapshotLease"""
    if lid is None:
        return
    bkt = md.namespace_bucket(
        tx, ns, md.BUCKET_KEY_OBJECT_LEASES, lid, RESOURCE_SNAPSHOTS, snapshotter
    )
    if bkt is not None:
        bkt.delete(key)


def add_content_lease(tx: md.Bucket, ns: str, lid: str | None, digest: str) -> None:
    """containerd: metadata/leases.go addContentLease"""
    if lid is None:
        return
    _lease_bucket(tx, ns, lid).create_bucket_if_not_exists(RESOURCE_CONTENT).put_bytes(digest, b"")


class LeaseManager:
    """containerd: metadata/leases.go leaseManager"""

    def __init__(
        self,
        db: md.DB,
        now: Callable[[], float],
        collect: Callable[[bool], None],
    ) -> None:
        self.db = db
        self.now = now
        #: collect(sync): a synchronous GC now, or one scheduled for the next pass
        self._collect = collect

    def create(self, ns: str, lid: str, labels: dict[str, str] | None = None) -> Lease:
        """containerd: metadata/leases.go Create (leases.WithID)"""
        with self.db.update() as tx:
            topbkt = md.namespace_bucket(tx, ns, md.BUCKET_KEY_OBJECT_LEASES, create=True)
            bkt = topbkt.create_bucket(lid)
            if bkt is None:
                raise wrap(AlreadyExists, f"lease {go_quote(lid)}")
            ts = format_rfc3339nano(self.now())
            bkt.put_time(md.BUCKET_KEY_CREATED_AT, ts)
            md.write_labels(bkt, labels or {})
        return Lease(lid, ts, dict(labels or {}))

    def delete(self, ns: str, lid: str, *, synchronous: bool = False) -> None:
        """containerd: metadata/leases.go Delete; with leases.SynchronousDelete the GC runs
        before this returns, otherwise it is scheduled."""
        with self.db.update() as tx:
            topbkt = md.namespace_bucket(tx, ns, md.BUCKET_KEY_OBJECT_LEASES)
            if topbkt is None or not topbkt.delete_bucket(lid):
                raise wrap(NotFound, f"lease {go_quote(lid)}")
        self._collect(synchronous)

    def list(self, ns: str, lid: str | None = None) -> list[Lease]:
        """containerd: metadata/leases.go List (filter `id==<lid>` as Docker's GetLayerByID)"""
        out = []
        with self.db.view() as tx:
            topbkt = md.namespace_bucket(tx, ns, md.BUCKET_KEY_OBJECT_LEASES)
            for name in topbkt.bucket_names() if topbkt else []:
                if lid is not None and name != lid:
                    continue
                bkt = topbkt.bucket(name)
                out.append(
                    Lease(name, bkt.get_time(md.BUCKET_KEY_CREATED_AT) or "", md.read_labels(bkt))
                )
        return out

    def list_resources(self, ns: str, lid: str) -> list[Resource]:
        """containerd: metadata/leases.go ListResources"""
        out = []
        with self.db.view() as tx:
            bkt = _lease_bucket(tx, ns, lid)
            content = bkt.bucket(RESOURCE_CONTENT)
            for d in content.key_names() if content else []:
                out.append(Resource(d, RESOURCE_CONTENT))
            sbkt = bkt.bucket(RESOURCE_SNAPSHOTS)
            for sn in sbkt.bucket_names() if sbkt else []:
                for key in sbkt.bucket(sn).key_names():
                    out.append(Resource(key, f"{RESOURCE_SNAPSHOTS}/{sn}"))
        return out
