"""containerd's garbage collector: mark from the roots, follow labels, sweep the rest.

Roots (per namespace): every image (its target blob), every lease (what it holds), every
container (its snapshot), and content or snapshots labelled `containerd.io/gc.root`.
Edges: a blob's `containerd.io/gc.ref.content.<anything>=<digest>` labels (manifests name
their config and layers, indexes their manifests), `containerd.io/gc.ref.snapshot.<sn>=<key>`
(an image config names its unpacked top snapshot), and a snapshot's parent.
Sweep: the meta.db records nobody reached go; then each backend removes the snapshots no
record names any more (leaves first), and the content store the blobs no namespace has.

When: a deletion (image, lease, content, snapshot) schedules a collection, which containerd
runs shortly after (about 30 ms on the machine the reference was recorded on); a delete made
with `SynchronousDelete` runs it before returning. Removing a snapshot's record here does not
touch its parent's `children` bucket, as in containerd (its stale-children bug, #11908).

containerd: gc/gc.go (Tricolor), metadata/gc.go (scanRoots, references, scanAll, remove),
metadata/db.go (GarbageCollect, getMarked), gc/scheduler/scheduler.go
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dockerlayers.containerd import metadata as md
from dockerlayers.containerd.content import LABEL_GC_ROOT, LocalStore
from dockerlayers.containerd.snapshots.overlayfs import OverlaySnapshotter

LABEL_GC_REF_CONTENT_PREFIX = "containerd.io/gc.ref.content"
LABEL_GC_REF_SNAPSHOT_PREFIX = "containerd.io/gc.ref.snapshot."
#: the delay of a scheduled collection after a deletion (as observed: ~30 ms)
SCHEDULE_DELAY = 0.03

#: a node: ("content", ns, digest) or ("snapshot", ns, "<snapshotter>/<key>")
Node = tuple[str, str, str]


@dataclass
class Stats:
    """What one collection removed."""

    content: list[str] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    backend_snapshots: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)


def _label_refs(ns: str, labels: dict[str, str]) -> Iterable[Node]:
    """containerd: metadata/gc.go references (sendLabelRefs)"""
    for k, v in sorted(labels.items()):
        if k.startswith(LABEL_GC_REF_CONTENT_PREFIX):
            yield ("content", ns, v)
        elif k.startswith(LABEL_GC_REF_SNAPSHOT_PREFIX):
            sn = k[len(LABEL_GC_REF_SNAPSHOT_PREFIX) :].split("/", 1)[0]
            yield ("snapshot", ns, f"{sn}/{v}")


def scan_roots(tx: md.Bucket) -> list[Node]:
    """containerd: metadata/gc.go scanRoots"""
    roots: list[Node] = []
    v1 = tx.bucket(md.SCHEMA_VERSION)
    for ns in v1.bucket_names() if v1 else []:
        nbkt = v1.bucket(ns)
        leases = nbkt.bucket(md.BUCKET_KEY_OBJECT_LEASES)
        for lid in leases.bucket_names() if leases else []:
            lbkt = leases.bucket(lid)
            content = lbkt.bucket("content")
            roots += [("content", ns, d) for d in (content.key_names() if content else [])]
            sbkt = lbkt.bucket("snapshots")
            for sn in sbkt.bucket_names() if sbkt else []:
                roots += [("snapshot", ns, f"{sn}/{k}") for k in sbkt.bucket(sn).key_names()]
        images = nbkt.bucket(md.BUCKET_KEY_OBJECT_IMAGES)
        for name in images.bucket_names() if images else []:
            target = images.bucket(name, md.BUCKET_KEY_TARGET)
            if target is not None and target.get(md.BUCKET_KEY_DIGEST):
                roots.append(("content", ns, target.get(md.BUCKET_KEY_DIGEST)))
        containers = nbkt.bucket(md.BUCKET_KEY_OBJECT_CONTAINERS)
        for cid in containers.bucket_names() if containers else []:
            cbkt = containers.bucket(cid)
            if cbkt.get("snapshotKey") and cbkt.get("snapshotter"):
                roots.append(
                    ("snapshot", ns, f"{cbkt.get('snapshotter')}/{cbkt.get('snapshotKey')}")
                )
        blobs = nbkt.bucket(md.BUCKET_KEY_OBJECT_CONTENT, md.BUCKET_KEY_OBJECT_BLOB)
        for d in blobs.bucket_names() if blobs else []:
            if LABEL_GC_ROOT in md.read_labels(blobs.bucket(d)):
                roots.append(("content", ns, d))
        snaps = nbkt.bucket(md.BUCKET_KEY_OBJECT_SNAPSHOTS)
        for sn in snaps.bucket_names() if snaps else []:
            for key in snaps.bucket(sn).bucket_names():
                if LABEL_GC_ROOT in md.read_labels(snaps.bucket(sn, key)):
                    roots.append(("snapshot", ns, f"{sn}/{key}"))
    return roots


def references(tx: md.Bucket, node: Node) -> list[Node]:
    """containerd: metadata/gc.go references"""
    kind, ns, ident = node
    if kind == "content":
        bkt = md.namespace_bucket(
            tx, ns, md.BUCKET_KEY_OBJECT_CONTENT, md.BUCKET_KEY_OBJECT_BLOB, ident
        )
        return list(_label_refs(ns, md.read_labels(bkt))) if bkt else []
    sn, key = ident.split("/", 1)
    bkt = md.namespace_bucket(tx, ns, md.BUCKET_KEY_OBJECT_SNAPSHOTS, sn, key)
    if bkt is None:
        return []
    refs = list(_label_refs(ns, md.read_labels(bkt)))
    parent = bkt.get(md.BUCKET_KEY_PARENT)
    if parent:
        refs.append(("snapshot", ns, f"{sn}/{parent}"))
    return refs


def tricolor(roots: list[Node], refs) -> set[Node]:
    """containerd: gc/gc.go Tricolor"""
    seen: set[Node] = set()
    grey = list(roots)
    while grey:
        n = grey.pop()
        if n in seen:
            continue
        seen.add(n)
        grey.extend(r for r in refs(n) if r not in seen)
    return seen


def collect(db: md.DB, local: LocalStore, snapshotters: dict[str, OverlaySnapshotter]) -> Stats:
    """One full collection. containerd: metadata/db.go GarbageCollect"""
    stats = Stats()
    with db.update() as tx:
        marked = tricolor(scan_roots(tx), lambda n: references(tx, n))
        v1 = tx.bucket(md.SCHEMA_VERSION)
        for ns in v1.bucket_names() if v1 else []:
            blobs = md.namespace_bucket(
                tx, ns, md.BUCKET_KEY_OBJECT_CONTENT, md.BUCKET_KEY_OBJECT_BLOB
            )
            for d in blobs.bucket_names() if blobs else []:
                if ("content", ns, d) not in marked:
                    blobs.delete_bucket(d)
                    stats.content.append(f"{ns}/{d}")
            snaps = md.namespace_bucket(tx, ns, md.BUCKET_KEY_OBJECT_SNAPSHOTS)
            for sn in snaps.bucket_names() if snaps else []:
                sbkt = snaps.bucket(sn)
                for key in sbkt.bucket_names():
                    if ("snapshot", ns, f"{sn}/{key}") not in marked:
                        # metadata/gc.go remove: the bucket only; the parent's children stay
                        sbkt.delete_bucket(key)
                        stats.snapshots.append(f"{ns}/{sn}/{key}")
        in_use_blobs: set[str] = set()
        in_use_backend: dict[str, set[str]] = {sn: set() for sn in snapshotters}
        for ns in v1.bucket_names() if v1 else []:
            blobs = md.namespace_bucket(
                tx, ns, md.BUCKET_KEY_OBJECT_CONTENT, md.BUCKET_KEY_OBJECT_BLOB
            )
            in_use_blobs.update(blobs.bucket_names() if blobs else [])
            snaps = md.namespace_bucket(tx, ns, md.BUCKET_KEY_OBJECT_SNAPSHOTS)
            for sn in snaps.bucket_names() if snaps else []:
                for key in snaps.bucket(sn).bucket_names():
                    name = snaps.bucket(sn, key).get(md.BUCKET_KEY_NAME)
                    in_use_backend.setdefault(sn, set()).add(name)
    for sn, backend in snapshotters.items():
        stats.backend_snapshots += _collect_backend(backend, in_use_backend.get(sn, set()))
    for d in list(local.walk()):
        if d not in in_use_blobs:
            local.delete(d)
            stats.blobs.append(d)
    return stats


def _collect_backend(backend: OverlaySnapshotter, keep: set[str]) -> list[str]:
    """Remove backend snapshots no record names, children before parents.

    containerd: metadata/snapshot.go garbageCollect
    """
    removed: list[str] = []
    while True:
        infos = backend.walk()
        parents = {i.parent for i in infos if i.parent}
        leaves = [i.name for i in infos if i.name not in keep and i.name not in parents]
        if not leaves:
            return removed
        for name in leaves:
            backend.remove(name)
            removed.append(name)
