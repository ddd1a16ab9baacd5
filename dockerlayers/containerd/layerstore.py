"""The daemon's layer store in containerd mode: every layer is a containerd snapshot.

`storage="containerd"` (dockerd's `features: {"containerd-snapshotter": true}`): there is
no graph driver and no layerdb. Image layers are committed snapshots named by chain ID with
their blobs in the content store (snapshotlayers.py); images and names are containerd image
records (imagestore.py); a container's read-write layer is made the way Docker 29 makes it
(rwlayer.py: lease `<id>`, `<id>-init-key` -> `<id>-init` -> active `<id>`). All of it is in
the containerd dockerd supervises, under `<root>/containerd/daemon`, namespace `moby`,
snapshotter overlayfs. `docker rm` deletes the lease with a synchronous GC; restart mounts
the same `snapshots/<N>`.

moby (docker-v29.0.0): daemon/containerd/image_snapshot.go, daemon/snapshotter/mount.go,
daemon/daemon.go (the containerd-snapshotter feature: no layer store), libcontainerd/supervisor
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

from dockerlayers.archive import Change
from dockerlayers.archive.tar import tar_directory
from dockerlayers.containerd import rwlayer
from dockerlayers.containerd.containerd import Containerd
from dockerlayers.containerd.errdefs import NotFound
from dockerlayers.containerd.images import (
    ANNOTATION_IMAGE_NAME,
    LABEL_PRUNE_LEASE,
    NAMESPACE,
    ImageService,
)
from dockerlayers.containerd.snapshotlayers import (
    LABEL_UNCOMPRESSED,
    SnapshotDriver,
    SnapshotLayerRecords,
    SnapshotRoLayer,
)
from dockerlayers.graphdriver import fsdiff
from dockerlayers.graphdriver.rootfs import RootFS
from dockerlayers.graphdriver.union import UnionRootFS
from dockerlayers.layer.errors import MountDoesNotExist, MountNameConflict
from dockerlayers.layer.store import LayerStore

#: where dockerd keeps the containerd it starts itself (libcontainerd/supervisor)
CONTAINERD_DIR = os.path.join("containerd", "daemon")


class _DiffStream(io.BytesIO):
    """A container's diff, knowing the snapshot it came from: Docker 29 applies a commit's
    layer on the container snapshot's parent (`<id>-init`), not on the image's top."""

    snapshot_parent = ""


class ContainerdRWLayer:
    """The daemon's handle on a container's active snapshot (the shape of layer.RWLayer)."""

    def __init__(self, store: ContainerdLayerStore, layer: rwlayer.RWLayer) -> None:
        self.store = store
        #: shared by every handle on the container's layer (as moby's refcounted mounter)
        self.layer = layer
        self.name = layer.id
        if not hasattr(layer, "mount_count"):
            layer.mount_count = 0

    def __repr__(self) -> str:
        return f"<ContainerdRWLayer {self.name[:12]} snapshots/{self.layer.snapshot_id()}>"

    @property
    def init_id(self) -> str:
        """The init snapshot's key (`<id>-init`)."""
        return self.name + "-init"

    @property
    def mount_id(self) -> str:
        """The snapshot key (Docker 29 has no mount-id: the key is the container ID)."""
        return self.name

    def _dirs(self) -> list[str]:
        sn = self.store.images.sn
        return sn.backend.layer_dirs(sn.resolve_key(NAMESPACE, self.name))

    def upper_dir(self) -> str:
        return self._dirs()[0]

    def mount(self, mount_label: str = "") -> RootFS:
        self.layer.mount_count += 1
        return self.layer.mount()

    def unmount(self) -> None:
        self.layer.mount_count = max(0, self.layer.mount_count - 1)
        if self.layer.mount_count == 0 and self.layer._fs is not None:
            self.layer.unmount()

    @property
    def parent(self) -> _Parents:
        """The snapshots below `<id>` (its `-init` and the image's), for SizeRootFs."""
        return _Parents(self.store, self.name)

    def _lower(self) -> RootFS:
        return UnionRootFS(self._dirs()[1:], writable=False)

    def _native_parent_dir(self) -> str | None:
        """The parent snapshot's folder when every snapshot is a full copy (native)."""
        sn = self.store.images.sn
        if sn.backend.name != "native":
            return None
        parent = sn.stat(NAMESPACE, self.name).parent
        return sn.backend.upper_path(sn.snapshot_id(NAMESPACE, parent)) if parent else ""

    def changes(self) -> list[Change]:
        """`docker diff`: the upper folder against the layers below (overlayfs), or the
        snapshot's copy against its parent's (native, containerd's walking differ)."""
        parent = self._native_parent_dir()
        if parent is not None:
            from dockerlayers.archive.changes import changes_dirs

            return changes_dirs(self.upper_dir(), parent or None)
        return fsdiff.upper_changes(self.upper_dir(), self._lower())

    def size(self) -> int:
        """SizeRw: the snapshotter's usage of `<id>` (blocks, as `du`).

        moby 29: daemon/containerd/service.go GetContainerLayerSize (snapshotter.Usage)
        """
        return self.store.images.sn.usage(NAMESPACE, self.name).size

    def tar_stream(self) -> BinaryIO:
        """moby 29: image_commit.go createDiff (the diff of `<id>` against its parent,
        `<id>-init` for a container); the new layer is applied on that same parent
        (applyDiffLayer: `sn.Stat(key).Parent`)"""
        out = _DiffStream()
        if self._native_parent_dir() is not None:
            from dockerlayers.graphdriver.rootfs import DirRootFS

            fsdiff.export_changes_rootfs(DirRootFS(self.upper_dir()), self.changes(), out)
        else:
            tar_directory(self.upper_dir(), out, whiteout_format="overlay")
        out.seek(0)
        out.snapshot_parent = self.store.images.sn.stat(NAMESPACE, self.name).parent
        return out

    def metadata(self) -> dict[str, str]:
        """moby: daemon/containerd/image_snapshot.go rwLayer.Metadata"""
        return self.layer.metadata()

    def apply_diff(self, tar: BinaryIO) -> int:
        from dockerlayers.archive.apply import unpack_layer

        return unpack_layer(self.upper_dir(), tar, whiteout_format="overlay")


class _Parents:
    """The committed snapshots under a container's, sized as `snapshots usage` sizes them."""

    def __init__(self, store: ContainerdLayerStore, key: str) -> None:
        self.store = store
        self.key = key

    def size(self) -> int:
        sn = self.store.images.sn
        total, parent = 0, sn.stat(NAMESPACE, self.key).parent
        while parent:
            total += sn.usage(NAMESPACE, parent).size
            parent = sn.stat(NAMESPACE, parent).parent
        return total


class ContainerdLayerStore(LayerStore):
    """Image layers as snapshots by chain ID, RW layers as Docker 29's leased snapshots."""

    layer_class = SnapshotRoLayer

    def __init__(
        self,
        root: str,
        *,
        snapshotter: str = "overlayfs",
        mounts: str = "auto",
        ids: Any = None,
        now: Any = None,
        seed: int | None = None,
    ) -> None:
        root = os.path.abspath(root)
        self.containerd = Containerd(os.path.join(root, CONTAINERD_DIR), now=now)
        self.images = ImageService(self.containerd, snapshotter, seed=seed)
        #: container ID -> its layer, and the handles given out on it (released one by one)
        self.rw: dict[str, rwlayer.RWLayer] = {}
        self.handles: dict[str, set[ContainerdRWLayer]] = {}
        self.tmp_dir = os.path.join(root, "tmp")
        os.makedirs(self.tmp_dir, mode=0o700, exist_ok=True)
        super().__init__(root, SnapshotDriver(self, mounts), ids=ids)

    def _metadata_store(self) -> Any:
        return SnapshotLayerRecords(self, self.driver)

    def _restore(self) -> None:
        # a crashed earlier process may have left containers' rootfs mounted: nobody uses
        # them now (moby 29: restore -> Cleanup -> UnmountRWLayer; refCountMounter)
        from dockerlayers.graphdriver import kernel

        for point in kernel.mounts_under(os.path.join(self.root, "rootfs")):
            try:
                kernel.unmount(point)
            except OSError:
                pass  # not root: nothing to do about it
        # the leases an earlier daemon held while it worked (a crash) end now
        # (Docker 29's expire after 8 hours; the model has no background expiry)
        for lease in self.containerd.leases.list(NAMESPACE):
            if LABEL_PRUNE_LEASE in lease.labels:
                self.containerd.leases.delete(NAMESPACE, lease.id)
        # containerd collects shortly after it starts (gc/scheduler: startup delay), so a
        # collection an earlier process scheduled and did not live to run happens now
        self.containerd.garbage_collect()
        super()._restore()
        for lease in self.containerd.leases.list(NAMESPACE):
            try:
                layer = rwlayer.get_layer_by_id(
                    self.images, lease.id, self.root, self._use_kernel()
                )
            except rwlayer.LayerNotFound:
                continue
            self.rw[lease.id] = layer

    def cleanup(self) -> None:
        """Nothing to sweep by hand: containerd's GC removes what nothing holds."""
        self.quarantined = []

    def register(self, tar: Any, parent: str | None = None) -> Any:
        """moby 29: a commit's layer is applied on the container's `<id>-init` snapshot
        (image_commit.go applyDiffLayer); any other on its parent layer."""
        below = getattr(tar, "snapshot_parent", "")
        if not below:
            return super().register(tar, parent)
        self.driver._tls.snapshot_parent = below
        try:
            return super().register(tar, parent)
        finally:
            self.driver._tls.snapshot_parent = ""

    def create_rw_layer(self, name: str, parent: str | None, init_func: Any = None) -> Any:
        """moby: daemon/containerd/image_snapshot.go CreateLayer"""
        if name in self.rw:
            raise MountNameConflict()
        image = self._image_for_chain(parent)
        try:
            layer = rwlayer.create_layer(
                self.images, name, image, init_func, self.root, self._use_kernel()
            )
        except BaseException:
            try:
                self.containerd.leases.delete(NAMESPACE, name, synchronous=True)
            except NotFound:
                pass
            raise
        self.rw[name] = layer
        return self._handle(name)

    def _handle(self, name: str) -> ContainerdRWLayer:
        handle = ContainerdRWLayer(self, self.rw[name])
        self.handles.setdefault(name, set()).add(handle)
        return handle

    def _use_kernel(self) -> bool:
        """The driver's answer: overlayfs mounted by the kernel (mounts="auto" as root with
        overlay, or "kernel"), else the user-space union."""
        return bool(getattr(self.driver, "use_kernel", False))

    def _image_for_chain(self, chain: str | None):
        if not chain:
            return None
        for img in self.images.list():
            if self.images.top_chain_id(img) == chain:
                return img
        raise NotFound(f"no image in containerd with top layer {chain}: not found")

    def get_rw_layer(self, name: str) -> Any:
        """moby: daemon/containerd/image_snapshot.go GetLayerByID"""
        if name not in self.rw:
            raise MountDoesNotExist()
        return self._handle(name)

    def get_mount_id(self, name: str) -> str:
        if name not in self.rw:
            raise MountDoesNotExist()
        return name

    def release_rw_layer(self, handle: Any) -> list:
        """moby: daemon/containerd/image_snapshot.go ReleaseLayer (SynchronousDelete)"""
        if not isinstance(handle, ContainerdRWLayer):
            return super().release_rw_layer(handle)
        handles = self.handles.get(handle.name, set())
        if handle not in handles:
            return []
        handles.discard(handle)
        if handles:
            return []
        del self.handles[handle.name]
        layer = self.rw.pop(handle.name)
        rwlayer.release_layer(self.images, layer)
        return []

    @contextlib.contextmanager
    def work_lease(self) -> Iterator[str]:
        """A lease held while the daemon works (a pull, a load): what it writes stays until
        an image record holds it. moby 29: image_pull.go / image_exporter.go withLease"""
        lease = self.images.create_work_lease()
        try:
            yield lease
        finally:
            self.containerd.leases.delete(NAMESPACE, lease)

    def store_pulled(
        self,
        lease: str,
        top: tuple[bytes, str],
        manifest: tuple[bytes, str],
        diff_ids: list[str],
        blobs: dict[str, bytes],
        fetch: Any,
    ) -> str:
        """What `docker pull` keeps on the containerd store: every blob **as the registry
        served it** (layers labelled `containerd.io/uncompressed`), the manifest and the
        list it came from labelled as containerd's pull labels them. Returns the target
        digest (the list's when there is one: the image's ID).

        moby 29: daemon/containerd/image_pull.go; containerd: client/pull.go,
        images/handlers.go (ChildGCLabels), unpacker (the uncompressed label)
        """
        import hashlib
        import json as _json

        cs = self.containerd.content
        raw, _mtype = manifest
        doc = _json.loads(raw)
        labels = {"containerd.io/gc.ref.content.config": doc["config"]["digest"]}
        for i, layer in enumerate(doc["layers"]):
            labels[f"containerd.io/gc.ref.content.l.{i}"] = layer["digest"]
            data = blobs.get(layer["digest"])
            if data is None:
                try:
                    cs.info(NAMESPACE, layer["digest"])
                    data = b""
                except NotFound:
                    data = fetch(layer["digest"])
            ulabel = {LABEL_UNCOMPRESSED: diff_ids[i]} if i < len(diff_ids) else None
            if data:
                cs.write_blob(NAMESPACE, data, expected=layer["digest"], labels=ulabel, lease=lease)
            elif ulabel:
                cs.update_labels(NAMESPACE, layer["digest"], ulabel)
        mdigest = "sha256:" + hashlib.sha256(raw).hexdigest()
        cs.write_blob(NAMESPACE, raw, expected=mdigest, labels=labels, lease=lease)
        traw, _ttype = top
        tdigest = "sha256:" + hashlib.sha256(traw).hexdigest()
        if tdigest != mdigest:  # pulled through a list: keep it, labelled to the manifest
            entries = _json.loads(traw).get("manifests", [])
            idx = next((i for i, m in enumerate(entries) if m["digest"] == mdigest), 0)
            cs.write_blob(
                NAMESPACE,
                traw,
                expected=tdigest,
                labels={f"containerd.io/gc.ref.content.m.{idx}": mdigest},
                lease=lease,
            )
        return tdigest

    def import_archive(self, data: bytes, lease: str) -> list[tuple[str, str, str]]:
        """The blobs of a `docker load` archive into the content store as they are — an
        OCI layout's, or 20.10's layout's with a Docker manifest per image (the image
        service then makes the records). Returns (config digest, target, name or "") for
        each image the archive names ([] when the archive is neither).

        moby 29: image_exporter.go LoadImage (containerd's Import)
        """
        import tarfile as _tarfile

        from dockerlayers.containerd.images import archive_members

        try:
            with _tarfile.open(fileobj=io.BytesIO(data)) as tar:
                names = set(archive_members(tar))
        except _tarfile.TarError:
            return []
        try:
            if "index.json" in names:
                descs = self.images.import_blobs(data, lease)
            elif "manifest.json" in names:
                descs = self.images.import_docker_archive(data, lease)
            else:
                return []
        except (KeyError, ValueError, NotFound):
            return []  # the loader says what is wrong with it
        out: list[tuple[str, str, str]] = []
        for desc in descs:
            try:
                doc = self.images.platform_manifest(desc["digest"])
                name = (desc.get("annotations") or {}).get(ANNOTATION_IMAGE_NAME, "")
                out.append((doc["config"]["digest"], desc["digest"], name))
            except (KeyError, ValueError, NotFound, IndexError):
                continue
        return out

    def export(self, names: list[str], out: Any) -> bool:
        """`docker save NAME...` from containerd's content: an OCI layout (`oci-layout`,
        `index.json` naming each image, `blobs/sha256/`) plus Docker's `manifest.json`, the
        blobs exactly as stored (compressed layers stay compressed). False when an image is
        not in containerd (the caller falls back to the graph store's exporter).

        moby: daemon/containerd/image_exporter.go ExportImage (containerd archive.Export)
        """
        import json as _json
        import tarfile as _tarfile

        from dockerlayers.containerd.images import NAMESPACE as NS
        from dockerlayers.containerd.images import _normalize

        svc = self.images
        recs = []
        for n in names:
            try:
                recs.append(svc.resolve(n))
            except NotFound:
                config = self.config_of(n)
                found = self.images.records_of(config) if config else []
                if not found:
                    return False
                recs.append(found[0])
        blobs: dict[str, bytes] = {}
        index, manifest_json = [], []
        for n, rec in zip(names, recs):
            manifest = svc.manifest(rec)
            for d in [
                rec.digest,
                manifest["config"]["digest"],
                *(x["digest"] for x in manifest["layers"]),
            ]:
                blobs[d] = self.containerd.content.read(NS, d)
            if rec.media_type in ("application/vnd.oci.image.index.v1+json",):
                for m in svc.read_json(rec.digest)["manifests"]:
                    if self.containerd.local.exists(m["digest"]):
                        blobs[m["digest"]] = self.containerd.content.read(NS, m["digest"])
            named = not rec.name.startswith("moby-dangling@") and "@" not in n
            ann = {}
            tags = []
            if named:
                full = rec.name if n in (rec.digest, rec.digest[7:]) else _normalize(n)
                ann = {
                    "io.containerd.image.name": full,
                    "org.opencontainers.image.ref.name": full.rsplit(":", 1)[1],
                }
                tags = [_familiar(full)]
            entry = {"mediaType": rec.media_type, "digest": rec.digest, "size": rec.size}
            if ann:
                entry["annotations"] = ann
            index.append(entry)
            manifest_json.append(
                {
                    "Config": "blobs/sha256/" + manifest["config"]["digest"][7:],
                    "RepoTags": tags,
                    "Layers": ["blobs/sha256/" + x["digest"][7:] for x in manifest["layers"]],
                }
            )
        files = {
            "oci-layout": _json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
            "index.json": _json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": index,
                },
                separators=(",", ":"),
            ).encode(),
            "manifest.json": _json.dumps(manifest_json, separators=(",", ":")).encode(),
        }
        with _tarfile.open(fileobj=out, mode="w", format=_tarfile.PAX_FORMAT) as tar:
            for dname in ("blobs", "blobs/sha256"):
                info = _tarfile.TarInfo(dname)
                info.type, info.mode = _tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            for d in sorted(blobs):
                info = _tarfile.TarInfo("blobs/sha256/" + d[7:])
                info.size, info.mode = len(blobs[d]), 0o444
                tar.addfile(info, io.BytesIO(blobs[d]))
            for fname, data in files.items():
                info = _tarfile.TarInfo(fname)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
        return True

    def image_disk_usage(self) -> int:
        """`docker system df`'s LayersSize on the containerd store: the usage of every
        snapshot plus the size of every blob an image reaches (each counted once).

        moby: daemon/containerd/service.go ImageDiskUsage, layerDiskUsage
        """
        sn, svc = self.images.sn, self.images
        total = sum(sn.usage(NAMESPACE, info.name).size for info in sn.walk(NAMESPACE))
        seen: set[str] = set()
        for rec in svc.list():
            manifest = svc.manifest(rec)
            descs = [(rec.digest, rec.size), (manifest["config"]["digest"], 0)]
            descs += [(lyr["digest"], lyr["size"]) for lyr in manifest["layers"]]
            for digest, _ in descs:
                if digest not in seen:
                    seen.add(digest)
                    total += self.containerd.content.info(NAMESPACE, digest).size
        return total

    def manifest_of(self, config_id: str) -> tuple[str, dict[str, int]] | None:
        """(Docker 29's image ID, its sizes) for the image whose config is `config_id`."""
        records = self.images.records_of(config_id)
        if not records:
            return None
        return records[0].digest, self.images.sizes(records[0])

    def target_digest(self, config_id: str) -> str | None:
        """Docker 29's image ID (the target digest) of the image `config_id`."""
        records = self.images.records_of(config_id)
        return records[0].digest if records else None

    def target_digests(self) -> dict[str, str]:
        """config digest -> target digest of every image containerd has."""
        return {cfg: self.images.records_of(cfg)[0].digest for cfg in self.images.by_config()}

    def snapshot_usages(self, config_id: str) -> list[int]:
        """The usage of each layer's snapshot of image `config_id`, bottom first (0 for a
        snapshot containerd does not have). moby 29: image_history.go (s.Usage(chainID))"""
        records = self.images.records_of(config_id)
        if not records:
            return []
        out = []
        for cid in self.images.chain_ids(records[0]):
            try:
                out.append(self.images.sn.usage(NAMESPACE, cid).size)
            except NotFound:
                out.append(0)
        return out

    def config_of(self, ref: str) -> str | None:
        """The config digest of the image whose target digest is `ref` (or starts so)."""
        hex_ = ref.removeprefix("sha256:")
        if len(hex_) < 4 or any(ch not in "0123456789abcdef" for ch in hex_):
            return None
        for cfg, recs in self.images.by_config().items():
            if any(r.digest[7:].startswith(hex_) for r in recs):
                return cfg
        return None


def _familiar(full: str) -> str:
    """docker.io/library/NAME:TAG -> NAME:TAG (as Docker prints RepoTags)."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if full.startswith(prefix):
            return full[len(prefix) :]
    return full
