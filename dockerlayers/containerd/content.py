"""The content store: blobs by digest, read-only files, and their labels in meta.db.

On disk, `io.containerd.content.v1.content/blobs/sha256/<hex>` holds each blob's bytes
exactly as pulled or imported (layers stay compressed), mode 0444; a write goes through
`ingest/<ref>/` and is renamed into place once its digest is checked. The labels (what GC
follows: `containerd.io/gc.ref.content.*`, `containerd.io/gc.ref.snapshot.<sn>`, and
`containerd.io/uncompressed` on layers) are not in the blob files: they are in meta.db,
`v1/<namespace>/content/blob/<digest>/labels`, next to `size`, `createdat`, `updatedat`.
A blob written while a lease is active is added to the lease.

containerd: content/local/store.go (blobs, ingest), metadata/content.go (labels, namespaces)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from dockerlayers.containerd import metadata as md
from dockerlayers.containerd.errdefs import FailedPrecondition, NotFound, wrap
from dockerlayers.process.clock import format_rfc3339nano

CONTENT_DIR = "io.containerd.content.v1.content"

LABEL_UNCOMPRESSED = "containerd.io/uncompressed"
LABEL_GC_REF_CONTENT = "containerd.io/gc.ref.content"
LABEL_GC_ROOT = "containerd.io/gc.root"


@dataclass
class Info:
    """containerd: content/content.go Info"""

    digest: str
    size: int
    created_at: str = ""
    updated_at: str = ""
    labels: dict[str, str] = field(default_factory=dict)


class LocalStore:
    """The blob files, with no namespaces and no labels.

    containerd: content/local/store.go store
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.join(root, CONTENT_DIR)
        os.makedirs(os.path.join(self.root, "blobs", "sha256"), mode=0o755, exist_ok=True)
        os.makedirs(os.path.join(self.root, "ingest"), mode=0o755, exist_ok=True)

    def blob_path(self, digest: str) -> str:
        algo, _, hex_ = digest.partition(":")
        return os.path.join(self.root, "blobs", algo, hex_)

    def exists(self, digest: str) -> bool:
        return os.path.exists(self.blob_path(digest))

    def write(self, data: bytes, ref: str, expected: str | None = None) -> str:
        """Write through ingest/<ref>/data, check the digest, rename into blobs/ (0444).

        containerd: content/local/writer.go Commit
        """
        dgst = "sha256:" + hashlib.sha256(data).hexdigest()
        if expected is not None and expected != dgst:
            raise wrap(FailedPrecondition, f"unexpected commit digest {dgst}, expected {expected}")
        target = self.blob_path(dgst)
        if os.path.exists(target):
            return dgst
        ingest = os.path.join(self.root, "ingest", hashlib.sha256(ref.encode()).hexdigest())
        os.makedirs(ingest, mode=0o755, exist_ok=True)
        tmp = os.path.join(ingest, "data")
        with open(tmp, "wb") as f:
            f.write(data)
        with open(os.path.join(ingest, "ref"), "w") as f:
            f.write(ref)
        os.chmod(tmp, 0o444)
        os.rename(tmp, target)
        for name in os.listdir(ingest):
            os.remove(os.path.join(ingest, name))
        os.rmdir(ingest)
        return dgst

    def read(self, digest: str) -> bytes:
        try:
            with open(self.blob_path(digest), "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise wrap(NotFound, f"content digest {digest}") from None

    def size(self, digest: str) -> int:
        return os.path.getsize(self.blob_path(digest))

    def delete(self, digest: str) -> None:
        try:
            os.remove(self.blob_path(digest))
        except FileNotFoundError:
            raise wrap(NotFound, f"content digest {digest}") from None

    def walk(self) -> Iterator[str]:
        base = os.path.join(self.root, "blobs", "sha256")
        for name in sorted(os.listdir(base)):
            yield "sha256:" + name


class ContentStore:
    """The namespaced content store containerd's clients see (labels, leases).

    containerd: metadata/content.go contentStore
    """

    def __init__(
        self,
        db: md.DB,
        local: LocalStore,
        now: Callable[[], float],
        on_delete: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.local = local
        self.now = now
        self.on_delete = on_delete

    def _blob_bucket(self, tx: md.Bucket, ns: str, digest: str, create: bool = False):
        if create:
            return md.namespace_bucket(
                tx, ns, md.BUCKET_KEY_OBJECT_CONTENT, md.BUCKET_KEY_OBJECT_BLOB, digest, create=True
            )
        return md.namespace_bucket(
            tx, ns, md.BUCKET_KEY_OBJECT_CONTENT, md.BUCKET_KEY_OBJECT_BLOB, digest
        )

    def write_blob(
        self,
        ns: str,
        data: bytes,
        *,
        expected: str | None = None,
        labels: dict[str, str] | None = None,
        lease: str | None = None,
        ref: str | None = None,
    ) -> Info:
        """content.WriteBlob: write (or find) the blob, record it in the namespace.

        An existing blob keeps its labels unless `labels` are given (then they are set).
        containerd: content/helpers.go WriteBlob + metadata/content.go namespacedWriter.Commit
        """
        dgst = self.local.write(data, ref or f"write-{expected or ''}", expected)
        ts = format_rfc3339nano(self.now())
        with self.db.update() as tx:
            bkt = self._blob_bucket(tx, ns, dgst)
            if bkt is None:
                bkt = self._blob_bucket(tx, ns, dgst, create=True)
                bkt.put_time(md.BUCKET_KEY_CREATED_AT, ts)
                bkt.put_varint(md.BUCKET_KEY_SIZE, len(data))
            bkt.put_time(md.BUCKET_KEY_UPDATED_AT, ts)
            if labels is not None:
                md.write_labels(bkt, labels)
            if lease is not None:
                from dockerlayers.containerd.leases import add_content_lease

                add_content_lease(tx, ns, lease, dgst)
        return self.info(ns, dgst)

    def info(self, ns: str, digest: str) -> Info:
        with self.db.view() as tx:
            bkt = self._blob_bucket(tx, ns, digest)
            if bkt is None:
                raise wrap(NotFound, f"content digest {digest}")
            return Info(
                digest=digest,
                size=bkt.get_varint(md.BUCKET_KEY_SIZE) or 0,
                created_at=bkt.get_time(md.BUCKET_KEY_CREATED_AT) or "",
                updated_at=bkt.get_time(md.BUCKET_KEY_UPDATED_AT) or "",
                labels=md.read_labels(bkt),
            )

    def update_labels(self, ns: str, digest: str, labels: dict[str, str]) -> Info:
        """Merge `labels` (an empty value removes one). containerd: metadata/content.go Update"""
        with self.db.update() as tx:
            bkt = self._blob_bucket(tx, ns, digest)
            if bkt is None:
                raise wrap(NotFound, f"content digest {digest}")
            merged = md.read_labels(bkt)
            for k, v in labels.items():
                if v:
                    merged[k] = v
                else:
                    merged.pop(k, None)
            md.write_labels(bkt, merged)
            bkt.put_time(md.BUCKET_KEY_UPDATED_AT, format_rfc3339nano(self.now()))
        return self.info(ns, digest)

    def read(self, ns: str, digest: str) -> bytes:
        self.info(ns, digest)  # not in this namespace: not found
        return self.local.read(digest)

    def list(self, ns: str) -> list[Info]:
        with self.db.view() as tx:
            bkt = md.namespace_bucket(
                tx, ns, md.BUCKET_KEY_OBJECT_CONTENT, md.BUCKET_KEY_OBJECT_BLOB
            )
            names = bkt.bucket_names() if bkt else []
        return [self.info(ns, d) for d in names]

    def delete(self, ns: str, digest: str) -> None:
        """Drop the namespace's record; the blob file goes at the next GC.

        containerd: metadata/content.go Delete (marks the content store dirty)
        """
        with self.db.update() as tx:
            bkt = md.namespace_bucket(
                tx, ns, md.BUCKET_KEY_OBJECT_CONTENT, md.BUCKET_KEY_OBJECT_BLOB
            )
            if bkt is None or not bkt.delete_bucket(digest):
                raise wrap(NotFound, f"content digest {digest}")
        if self.on_delete:
            self.on_delete()
