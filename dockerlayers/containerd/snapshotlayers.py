"""Image layers on the containerd store: committed snapshots named by chain ID, their bytes
content blobs labelled `containerd.io/uncompressed=<diff ID>`.

The daemon's layer store (dockerlayers/layer/store.py: one layer per chain ID, reference
counts, prepare/fill/commit) runs unchanged on the two pieces here, so every verb that
registers a layer (load, import, build, commit, pull) lands where Docker 29 puts it:

* `SnapshotDriver`, the graph-driver side. A layer being registered is an active snapshot
  `extract-<unique> <cache id>` prepared on its parent's chain ID (containerd's unpack key
  form; the chain ID is not known before the tar is read); applying the tar fills its
  `fs` and, unless the caller stores the blob as it came (a pull), writes the layer's
  blob, gzip, as Docker 29's commit and build write it.
* `SnapshotLayerRecords`, the layerdb side. Committing a layer commits the snapshot under
  its chain ID. What the layerdb kept in files is read from containerd: the parent from
  the snapshot, the diff ID from the blob's `containerd.io/uncompressed` label, the size
  from the snapshot's usage, the tar from the blob.

Until an image holds it, a layer is kept by a work lease of its own (as Docker 29 holds what
it makes under a lease until the image record exists); releasing the last reference
deletes the lease, and containerd's GC takes the snapshot and the blob.
Nothing lands in `image/<driver>/layerdb` or `overlay2/`: Docker 29 has neither.

moby (docker-v29.0.0): daemon/containerd/image_commit.go (createDiff, applyDiffLayer),
image_builder.go, daemon/daemon.go (no layer store with the containerd snapshotter);
containerd: rootfs/apply.go applyLayers, metadata/snapshot.go
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from dockerlayers.archive.apply import unpack_layer
from dockerlayers.archive.whiteouts import native_whiteouts_supported
from dockerlayers.containerd.errdefs import AlreadyExists, NotFound
from dockerlayers.containerd.images import NAMESPACE
from dockerlayers.containerd.snapshots import KIND_COMMITTED
from dockerlayers.digest import create_chain_id_from_parent
from dockerlayers.graphdriver import kernel
from dockerlayers.graphdriver.driver import DriverError
from dockerlayers.layer.ro import RoLayer, VerificationError

if TYPE_CHECKING:
    from dockerlayers.containerd.layerstore import ContainerdLayerStore

LABEL_UNCOMPRESSED = "containerd.io/uncompressed"
SNAPSHOTTER_DRIVER_TYPE = "io.containerd.snapshotter.v1"


class SnapshotDriver:
    """The storage driver of the containerd store: its snapshotter (overlayfs, or native).

    What `docker info` shows (`Driver: overlayfs`, `driver-type io.containerd.snapshotter.v1`)
    and the graph-driver calls the layer store makes for image layers.

    moby: daemon/info.go (DriverStatus), daemon/snapshotter
    """

    def __init__(self, store: ContainerdLayerStore, mounts: str = "auto") -> None:
        #: the snapshotter's name: `overlayfs`, or `native` (full copies, as vfs)
        self.name = store.images.snapshotter_name
        if mounts not in ("auto", "user", "kernel"):
            raise ValueError(f"mounts must be one of ('auto', 'user', 'kernel'), not {mounts!r}")
        if mounts == "kernel" and not kernel.overlay_supported():
            raise DriverError(
                95,
                "overlayfs: the kernel's overlayfs cannot be mounted here (needs root and overlay)",
            )
        self.store = store
        self.mounts = mounts
        #: the snapshotter's folder (`.../io.containerd.snapshotter.v1.overlayfs`)
        self.home = store.images.sn.backend.root
        self.root = self.home
        #: cache id -> (active key, lease) of a layer being registered
        self._active: dict[str, tuple[str, str]] = {}
        #: cache id -> chain ID, once committed
        self._names: dict[str, str] = {}
        #: chain ID -> the lease that keeps it until an image does
        self.leases: dict[str, str] = {}
        self._tls = threading.local()
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"<SnapshotDriver {self.name} {self.home}>"

    def __str__(self) -> str:
        return self.name

    @property
    def use_kernel(self) -> bool:
        """Mount containers with the kernel (overlayfs, or a bind of a native snapshot;
        else the user-space union)."""
        return self.mounts != "user" and kernel.overlay_supported()

    def status(self) -> list[tuple[str, str]]:
        return [("driver-type", SNAPSHOTTER_DRIVER_TYPE)]

    def get_metadata(self, id: str) -> dict[str, str] | None:
        return None

    def cleanup(self) -> None:
        """Nothing to unmount: image layers are never mounted; containers' rootfs are
        unmounted by their RW layers."""

    def mount_count(self, id: str) -> int:
        return 0

    # -- names --------------------------------------------------------------------------
    def snapshot_key(self, id: str) -> str:
        """The snapshot behind a driver id: a layer being registered (its active key), a
        registered layer (its chain ID), or a container's `<id>` / `<id>-init`."""
        with self._lock:
            if id in self._active:
                return self._active[id][0]
            return self._names.get(id, id)

    def exists(self, id: str) -> bool:
        try:
            self.store.images.sn.stat(NAMESPACE, self.snapshot_key(id))
        except NotFound:
            return False
        return True

    def layer_dir(self, id: str) -> str:
        """The folder with the layer's own files: its snapshot's `snapshots/<N>/fs`."""
        sn = self.store.images.sn
        try:
            return sn.backend.upper_path(sn.snapshot_id(NAMESPACE, self.snapshot_key(id)))
        except NotFound:
            raise DriverError(2, f"{self.name}: snapshot {id} does not exist") from None

    def list_ids(self) -> list[str]:
        return [i.name for i in self.store.images.sn.walk(NAMESPACE)]

    # -- registering a layer -------------------------------------------------------------
    def external_blobs(self) -> _ExternalBlobs:
        """`with driver.external_blobs():` the caller writes the layers' blobs itself (a
        pull keeps them as the registry served them), so applying writes none."""
        return _ExternalBlobs(self._tls)

    def create(self, id: str, parent: str | None = None, *, snapshot_parent: str = "") -> None:
        """Prepare `extract-<unique> <id>` on `parent`'s snapshot (or on `snapshot_parent`,
        a commit's `<container>-init`), under a lease of its own.

        containerd: rootfs/apply.go applyLayers (Prepare with the unpack key)
        """
        svc, leases = self.store.images, self.store.containerd.leases
        lease = svc.create_work_lease()
        key = f"extract-{svc.unique_part()} {id}"
        try:
            base = snapshot_parent or getattr(self._tls, "snapshot_parent", "")
            if not base and parent:
                base = self.snapshot_key(parent)
            svc.sn.prepare(NAMESPACE, key, base, lease=lease)
        except BaseException:
            leases.delete(NAMESPACE, lease)
            raise
        with self._lock:
            self._active[id] = (key, lease)

    def create_read_write(self, id: str, parent: str | None = None) -> None:
        raise DriverError(95, "overlayfs: containers' layers are made by the containerd store")

    def apply_diff(self, id: str, parent: str | None, tar: BinaryIO) -> int:
        """Unpack `tar` into the active snapshot; store the layer's blob (gzip, labelled
        with the tar's digest) unless the caller stores its own. Returns the size.

        containerd: diff/apply (unpack), diff/walking (the gzip blob); moby 29:
        image_commit.go createDiff
        """
        key, lease = self._active[id]
        sn = self.store.images.sn
        upper = sn.backend.layer_dirs(sn.resolve_key(NAMESPACE, key))[0]
        if self.name == "native":  # a full copy: whiteouts delete (containerd's naive apply)
            fmt = "naive"
        else:
            fmt = "overlay" if native_whiteouts_supported(upper) else "aufs"
        if getattr(self._tls, "external", 0):
            return unpack_layer(upper, tar, whiteout_format=fmt)
        tee = _GzipTee(tar, self.store.tmp_dir)
        try:
            size = unpack_layer(upper, tee, whiteout_format=fmt)
            tee.drain()
            blob = tee.finish()
            self.store.containerd.content.write_blob(
                NAMESPACE,
                blob,
                labels={LABEL_UNCOMPRESSED: tee.digest()},
                lease=lease,
            )
        finally:
            tee.close()
        return size

    def commit(self, id: str, chain_id: str) -> None:
        """Commit the layer's snapshot under its chain ID (kept by its lease).

        containerd: rootfs/apply.go (Commit(chainID, key)), metadata/snapshot.go Commit
        """
        with self._lock:
            key, lease = self._active.pop(id)
        sn = self.store.images.sn
        try:
            sn.commit(NAMESPACE, chain_id, key, lease=lease)
        except AlreadyExists:  # made meanwhile (another registration): this one goes
            sn.remove(NAMESPACE, key)
        with self._lock:
            self._names[id] = chain_id
            self.leases[chain_id] = lease

    def remove(self, id: str) -> None:
        """A layer that failed: its active snapshot goes now. A layer nobody holds any
        more: its lease goes, and the collection that follows takes it (if no image,
        child or container still reaches it)."""
        leases = self.store.containerd.leases
        with self._lock:
            active = self._active.pop(id, None)
            chain = self._names.pop(id, id)
            lease = active[1] if active else self.leases.pop(chain, None)
        if active is not None:
            try:
                self.store.images.sn.remove(NAMESPACE, active[0])
            except NotFound:
                pass
        if lease is not None:
            try:
                leases.delete(NAMESPACE, lease)
            except NotFound:
                pass

    def release_lease(self, chain_id: str) -> None:
        """An image now holds the layer: its own lease is no longer needed."""
        with self._lock:
            lease = self.leases.pop(chain_id, None)
        if lease is not None:
            try:
                self.store.containerd.leases.delete(NAMESPACE, lease)
            except NotFound:
                pass


class _ExternalBlobs:
    def __init__(self, tls: threading.local) -> None:
        self.tls = tls

    def __enter__(self) -> None:
        self.tls.external = getattr(self.tls, "external", 0) + 1

    def __exit__(self, *exc: object) -> None:
        self.tls.external -= 1


class _GzipTee(io.RawIOBase):
    """A reader over a layer tar that gzips (and hashes) what passes through, into a
    temp file: the blob Docker 29 stores for a layer it made."""

    #: Go's compress/gzip header: no name, mtime 0, XFL 0, OS 255 (unknown)
    HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"

    def __init__(self, src: BinaryIO, tmp_dir: str) -> None:
        self.src = src
        self.sha = hashlib.sha256()
        self.gz = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.crc, self.n = 0, 0
        self.out = tempfile.TemporaryFile(dir=tmp_dir)  # noqa: SIM115 (closed in close())
        self.out.write(self.HEADER)

    def readable(self) -> bool:
        return True

    def _feed(self, data: bytes) -> bytes:
        if data:
            self.sha.update(data)
            self.crc = zlib.crc32(data, self.crc)
            self.n += len(data)
            self.out.write(self.gz.compress(data))
        return data

    def read(self, n: int = -1) -> bytes:
        return self._feed(self.src.read(n))

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()

    def finish(self) -> bytes:
        self.out.write(self.gz.flush())
        self.out.write(self.crc.to_bytes(4, "little") + (self.n & 0xFFFFFFFF).to_bytes(4, "little"))
        self.out.seek(0)
        return self.out.read()

    def close(self) -> None:
        self.out.close()
        super().close()


class SnapshotTx:
    """A layer's record being made (the shape of the layerdb's transaction): committed as
    the layer's snapshot under its chain ID."""

    def __init__(self, records: SnapshotLayerRecords) -> None:
        self.records = records
        self.diff_id, self.size, self.cache_id, self.parent = "", 0, "", ""
        fd, self._split = tempfile.mkstemp(dir=records.tmp_dir, prefix="tar-split-")
        os.close(fd)

    def set_diff_id(self, diff_id: str) -> None:
        self.diff_id = diff_id

    def set_size(self, size: int) -> None:
        self.size = size

    def set_cache_id(self, cache_id: str) -> None:
        self.cache_id = cache_id

    def set_parent(self, parent: str) -> None:
        self.parent = parent

    def tar_split_path(self) -> str:
        """Where the layer store writes tar-split (unused here: the blob is the tar)."""
        return self._split

    def commit(self, chain_id: str) -> None:
        self._drop_split()
        self.records.driver.commit(self.cache_id, chain_id)
        self.records.known[chain_id] = (self.diff_id, self.parent or None)

    def cancel(self) -> None:
        self._drop_split()

    def _drop_split(self) -> None:
        try:
            os.remove(self._split)
        except FileNotFoundError:
            pass


class SnapshotLayerRecords:
    """The layer store's records, read from containerd (see the module's text)."""

    def __init__(self, store: ContainerdLayerStore, driver: SnapshotDriver) -> None:
        self.store = store
        self.driver = driver
        self.root = store.containerd.root
        self.tmp_dir = store.tmp_dir
        #: chain ID -> (diff ID, parent chain ID) of the layers known so far
        self.known: dict[str, tuple[str, str | None]] = {}

    def start_transaction(self) -> SnapshotTx:
        return SnapshotTx(self)

    def list(self) -> tuple[list[str], list[str]]:
        """Every layer: the committed snapshots named by a chain ID whose diff ID a blob
        or an image's config gives (no mounts: containers' layers are leases)."""
        sn, svc = self.store.images.sn, self.store.images
        diffs: set[str] = set()
        for info in self.store.containerd.content.list(NAMESPACE):
            if LABEL_UNCOMPRESSED in info.labels:
                diffs.add(info.labels[LABEL_UNCOMPRESSED])
        for rec in svc.list():
            try:
                diffs.update(svc.config(rec)["rootfs"]["diff_ids"])
            except (NotFound, KeyError, ValueError):
                continue
        snaps = {i.name: i for i in sn.walk(NAMESPACE) if i.kind == KIND_COMMITTED}
        out = []
        for name, info in snaps.items():
            if not name.startswith("sha256:"):
                continue
            parent = self._layer_parent(info.parent, snaps)
            for d in diffs:
                if create_chain_id_from_parent(parent, d) == name:
                    self.known[name] = (d, parent)
                    out.append(name)
                    break
        return out, []

    @staticmethod
    def _layer_parent(parent: str, snaps: dict[str, Any]) -> str | None:
        """The layer below: the nearest snapshot named by a chain ID (a commit's snapshot
        sits on its container's `<id>-init`, which sits on the image's top layer)."""
        while parent and not parent.startswith("sha256:"):
            info = snaps.get(parent)
            parent = info.parent if info is not None else ""
        return parent or None

    def get_diff_id(self, chain_id: str) -> str:
        return self.known[chain_id][0]

    def get_size(self, chain_id: str) -> int:
        return self.store.images.sn.usage(NAMESPACE, chain_id).size

    def get_cache_id(self, chain_id: str) -> str:
        return chain_id

    def get_parent(self, chain_id: str) -> str | None:
        return self.known[chain_id][1]

    def rename_for_removal(self, chain_id: str, random_id: str) -> str:
        """Forget the layer (containerd's GC removes the snapshot); nothing on disk to
        rename: returns a path that does not exist."""
        self.known.pop(chain_id, None)
        return os.path.join(self.tmp_dir, f"{chain_id[7:]}-{random_id}-removing")


class SnapshotRoLayer(RoLayer):
    """An image layer whose tar is its content blob (decompressed, checked against the
    diff ID), not tar-split over a layer folder."""

    def _blob(self) -> str:
        content = self.layer_store.containerd.content
        for info in content.list(NAMESPACE):
            if info.labels.get(LABEL_UNCOMPRESSED) == self.diff_id:
                return info.digest
        raise VerificationError(self.diff_id)

    def layer_tar(self) -> BlobLayerTar:
        return BlobLayerTar(self.layer_store.containerd, self.chain_id, self.diff_id, self._blob())

    def tar_stream_from(self, parent_chain_id: str | None) -> BinaryIO:
        if not parent_chain_id or (self.parent and self.parent.chain_id == parent_chain_id):
            return self.tar_stream()
        raise ValueError(
            f"layer ID '{parent_chain_id}' is not a parent of the specified layer: "
            "cannot provide diff to non-parent"
        )


class BlobLayerTar:
    """A layer's tar from its blob: `size`, `chunks()`, `write_to()` as layer.ro.LayerTar."""

    def __init__(self, containerd: Any, chain_id: str, diff_id: str, blob: str) -> None:
        self.chain_id, self.diff_id = chain_id, diff_id
        raw = containerd.content.read(NAMESPACE, blob)
        self._data = zlib.decompress(raw, 47) if raw[:2] == b"\x1f\x8b" else raw
        self.size = len(self._data)

    def chunks(self) -> Iterator[bytes]:
        if "sha256:" + hashlib.sha256(self._data).hexdigest() != self.diff_id:
            raise VerificationError(self.diff_id)
        view = memoryview(self._data)
        for i in range(0, len(view), 1 << 20):
            yield bytes(view[i : i + (1 << 20)])

    def write_to(self, out: BinaryIO) -> None:
        for chunk in self.chunks():
            out.write(chunk)


__all__ = [
    "LABEL_UNCOMPRESSED",
    "BlobLayerTar",
    "SnapshotDriver",
    "SnapshotLayerRecords",
    "SnapshotRoLayer",
]
