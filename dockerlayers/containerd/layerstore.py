"""The daemon's layer store in containerd mode: containers' RW layers are containerd snapshots.

`storage="containerd"` (dockerd's `features: {"containerd-snapshotter": true}`): a container's
read-write layer is made the way Docker 29 makes it (rwlayer.py: lease `<id>`,
`<id>-init-key` -> `<id>-init` -> active `<id>`), in a containerd under
`<root>/containerd/daemon` (where dockerd puts the containerd it supervises), namespace `moby`,
snapshotter overlayfs. `docker rm` deletes the lease with a synchronous GC; restart mounts
the same `snapshots/<N>`.

**Interim** (this session): image verbs still run on the model's graph-driver image store
(image IDs there are config digests); every image it makes, tags, untags or deletes is
mirrored into containerd (content blobs + snapshots by chain ID, named as Docker 29 names
it, `moby-dangling@<digest>` without a name, rmi with a synchronous GC). The Docker 29 image
rules themselves are in images.py.

moby: daemon/containerd/image_snapshot.go, daemon/snapshotter/mount.go,
daemon/daemon.go (the containerd-snapshotter feature), libcontainerd/supervisor
"""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any, BinaryIO

from dockerlayers.archive import Change
from dockerlayers.archive.tar import tar_directory
from dockerlayers.containerd import rwlayer
from dockerlayers.containerd.containerd import Containerd
from dockerlayers.containerd.errdefs import NotFound
from dockerlayers.containerd.images import NAMESPACE, ImageService
from dockerlayers.graphdriver import fsdiff
from dockerlayers.graphdriver.rootfs import RootFS
from dockerlayers.graphdriver.union import UnionRootFS
from dockerlayers.image.service import ImageService as LayerStoreImageService
from dockerlayers.ioutils import directory_size
from dockerlayers.layer.errors import MountDoesNotExist, MountNameConflict
from dockerlayers.layer.store import LayerStore

#: where dockerd keeps the containerd it starts itself (libcontainerd/supervisor)
CONTAINERD_DIR = os.path.join("containerd", "daemon")
SNAPSHOTTER_DRIVER_TYPE = "io.containerd.snapshotter.v1"


class SnapshotterDriver:
    """The graph driver as `docker info` shows it in containerd mode: the snapshotter's name
    (overlayfs) and `driver-type io.containerd.snapshotter.v1`; everything else is the
    wrapped graph driver the interim image store still uses.

    moby: daemon/info.go (DriverStatus [["driver-type", "io.containerd.snapshotter.v1"]])
    """

    name = "overlayfs"

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._inner, attr)

    def __repr__(self) -> str:
        return f"<SnapshotterDriver overlayfs over {self._inner!r}>"

    def status(self) -> list[tuple[str, str]]:
        return [("driver-type", SNAPSHOTTER_DRIVER_TYPE)]

    #: the containerd layer store, set once it exists (for `layer_dir`)
    store: ContainerdLayerStore | None = None

    def layer_dir(self, id: str) -> str:
        """The folder with a layer's own files, for the panels: a container's (or its
        init's) snapshot `snapshots/N/fs`; an image layer's snapshot by its chain ID when
        containerd has it; else the graph driver's folder (interim image store)."""
        store = self.store
        if store is not None:
            key = id
            if id not in store.rw and not (id.endswith("-init") and id[:-5] in store.rw):
                key = next((ch for ch, lyr in store.layer_map.items() if lyr.cache_id == id), "")
            if key:
                sn = store.images.sn
                try:
                    return sn.backend.upper_path(sn.snapshot_id(NAMESPACE, key))
                except NotFound:
                    pass
        return self._inner.layer_dir(id)


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

    def changes(self) -> list[Change]:
        return fsdiff.upper_changes(self.upper_dir(), self._lower())

    def size(self) -> int:
        return directory_size(self.upper_dir())

    def tar_stream(self) -> BinaryIO:
        out = io.BytesIO()
        tar_directory(self.upper_dir(), out, whiteout_format="overlay")
        out.seek(0)
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
    """Image layers as before (interim); RW layers in containerd."""

    def __init__(
        self, root: str, driver: Any, *, ids: Any = None, now: Any = None, seed: int | None = None
    ) -> None:
        self.containerd = Containerd(os.path.join(os.path.abspath(root), CONTAINERD_DIR), now=now)
        self.images = ImageService(self.containerd, seed=seed)
        #: container ID -> its layer, and the handles given out on it (released one by one)
        self.rw: dict[str, rwlayer.RWLayer] = {}
        self.handles: dict[str, set[ContainerdRWLayer]] = {}
        super().__init__(root, driver, ids=ids)
        if isinstance(driver, SnapshotterDriver):
            driver.store = self

    def _restore(self) -> None:
        super()._restore()
        for lease in self.containerd.leases.list(NAMESPACE):
            try:
                layer = rwlayer.get_layer_by_id(
                    self.images, lease.id, self.root, self._use_kernel()
                )
            except rwlayer.LayerNotFound:
                continue
            self.rw[lease.id] = layer

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
        """The graph driver's answer (mounts="auto" as root with overlay, or "kernel")."""
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

    def ensure_image(self, image_service: Any, image_id: str, names: list[str]) -> None:
        """Have the graph-store image `image_id` in containerd (copied in if missing)."""
        self.sync_image(image_service, image_id)

    def _records_of(self, image_id: str) -> list[Any]:
        """containerd's image records whose config is the graph-store image `image_id`."""
        out = []
        for rec in self.images.list():
            try:
                cfg = self.images.manifest(rec)["config"]["digest"]
            except (NotFound, KeyError, ValueError):
                continue
            if cfg == image_id:
                out.append(rec)
        return out

    def sync_image(self, image_service: Any, image_id: str) -> None:
        """Make containerd's names for `image_id` those the graph store has (Docker 29's
        names: `docker.io/library/NAME:TAG`, or `moby-dangling@<manifest digest>` when it
        has none).

        moby: daemon/containerd/image_tag.go, image_delete.go (dangling images)
        """
        try:
            image_service.get_image(image_id)
        except Exception:
            return self.delete_image(image_id)
        from dockerlayers.containerd.images import DANGLING_PREFIX, _normalize
        from dockerlayers.image.tarexport.tarexport import FORMAT_OCI

        records = self._records_of(image_id)
        if not records:
            out = io.BytesIO()
            quiet = getattr(image_service, "quiet", None)
            with quiet() if quiet is not None else contextlib.nullcontext():
                LayerStoreImageService.save(
                    image_service, [image_id], out, FORMAT_OCI, gzip_layers=True
                )
            records = self.images.load(out.getvalue(), unpack=False)
            container = getattr(image_service.get_image(image_id), "container", "") or ""
            if container in self.rw:
                self._apply_diff_layer(records[0], container)
            self.images.unpack(records[0])
        target = records[0]
        wanted = {_normalize(t) for t in image_service.repo_tags(image_id)}
        if not wanted:
            wanted = {DANGLING_PREFIX + target.digest}
        have = {r.name for r in records}
        for name in sorted(wanted - have):
            self.images.create_image(name, target.digest, target.media_type, target.size)
        for name in sorted(have - wanted):
            self.images.delete(name, synchronous=False)
        return None

    def _apply_diff_layer(self, record: Any, container_id: str) -> None:
        """A committed container's layer, unpacked as Docker 29 does it: into
        `extract-<unique>-<new chain ID>` prepared on the container snapshot's parent
        (`<id>-init`), committed as the new chain ID.

        moby: daemon/containerd/image_commit.go applyDiffLayer
        """
        from dockerlayers.containerd.images import _decompress

        svc, sn = self.images, self.images.sn
        chain = svc.top_chain_id(record)
        try:
            sn.stat(NAMESPACE, chain)
            return  # already there (the same layer committed before)
        except NotFound:
            pass
        layer = svc.manifest(record)["layers"][-1]
        parent = sn.stat(NAMESPACE, container_id).parent
        lease = f"commit-{svc.unique_part()}"
        self.containerd.leases.create(NAMESPACE, lease)
        try:
            key = f"extract-{svc.unique_part()}-{chain}"
            sn.prepare(NAMESPACE, key, parent, lease=lease)
            svc._apply(key, _decompress(self.containerd.content.read(NAMESPACE, layer["digest"])))
            sn.commit(NAMESPACE, chain, key, lease=lease)
        finally:
            self.containerd.leases.delete(NAMESPACE, lease)

    def mirror_pulled(
        self,
        image_id: str,
        name: str,
        top: tuple[bytes, str],
        manifest: tuple[bytes, str],
        fetch: Any,
    ) -> None:
        """What `docker pull` stores on the containerd store: the manifest (and the list it
        came from) and every blob **as the registry served it**, labelled as containerd's
        pull labels them; the image named by the full reference, its target the pulled
        manifest or list (so its ID is the registry's digest); then unpacked.

        moby: daemon/containerd/image_pull.go; containerd: client/pull.go, images/handlers.go
        """
        import hashlib
        import json as _json

        from dockerlayers.containerd.images import NAMESPACE as NS

        cs = self.containerd.content
        lease = f"pull-{self.images.unique_part()}"
        self.containerd.leases.create(NS, lease)
        try:
            raw, mtype = manifest
            doc = _json.loads(raw)
            labels = {"containerd.io/gc.ref.content.config": doc["config"]["digest"]}
            for i, layer in enumerate([doc["config"], *doc["layers"]]):
                if i:
                    labels[f"containerd.io/gc.ref.content.l.{i - 1}"] = layer["digest"]
                try:
                    cs.info(NS, layer["digest"])
                except NotFound:
                    data = fetch(layer["digest"])
                    cs.write_blob(NS, data, expected=layer["digest"], lease=lease)
            mdigest = "sha256:" + hashlib.sha256(raw).hexdigest()
            cs.write_blob(NS, raw, expected=mdigest, labels=labels, lease=lease)
            traw, ttype = top
            tdigest = "sha256:" + hashlib.sha256(traw).hexdigest()
            if tdigest != mdigest:  # pulled through a list: keep it, labelled to the manifest
                entries = _json.loads(traw).get("manifests", [])
                idx = next((i for i, m in enumerate(entries) if m["digest"] == mdigest), 0)
                cs.write_blob(
                    NS,
                    traw,
                    expected=tdigest,
                    labels={f"containerd.io/gc.ref.content.m.{idx}": mdigest},
                    lease=lease,
                )
            record = self.images.create_image(name, tdigest, ttype, len(traw))
            self.images.unpack(record)
        finally:
            self.containerd.leases.delete(NS, lease)

    def import_archive(self, data: bytes) -> None:
        """Import an OCI-layout archive into containerd as it is (nothing for 20.10's
        layout, which the graph store loads and the mirror then copies in)."""
        import tarfile as _tarfile

        try:
            with _tarfile.open(fileobj=io.BytesIO(data)) as tar:
                has_index = "index.json" in tar.getnames()
        except _tarfile.TarError:
            return
        if has_index:
            self.images.load(data)

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
                found = self._records_of(config) if config else []
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
        """(Docker 29's image ID, its sizes) for the graph-store image `config_id`."""
        records = self._records_of(config_id)
        if not records:
            return None
        return records[0].digest, self.images.sizes(records[0])

    def target_digest(self, config_id: str) -> str | None:
        """Docker 29's image ID (the target digest) of the graph-store image `config_id`."""
        records = self._records_of(config_id)
        return records[0].digest if records else None

    def target_digests(self) -> dict[str, str]:
        """config digest -> target digest of every image containerd has (first record)."""
        out: dict[str, str] = {}
        for rec in self.images.list():
            try:
                cfg = self.images.manifest(rec)["config"]["digest"]
            except (NotFound, KeyError, ValueError):
                continue
            out.setdefault(cfg, rec.digest)
        return out

    def snapshot_usages(self, config_id: str) -> list[int]:
        """The usage of each layer's snapshot of image `config_id`, bottom first (0 for a
        snapshot containerd does not have). moby 29: image_history.go (s.Usage(chainID))"""
        records = self._records_of(config_id)
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
        """The config digest of the image whose manifest digest is `ref` (or starts so)."""
        hex_ = ref.removeprefix("sha256:")
        if len(hex_) < 4 or any(ch not in "0123456789abcdef" for ch in hex_):
            return None
        for rec in self.images.list():
            if rec.digest[7:].startswith(hex_):
                return self.images.manifest(rec)["config"]["digest"]
        return None

    def delete_image(self, image_id: str) -> None:
        """`docker rmi`: every name of the image goes, with a synchronous GC
        (moby 29: images.SynchronousDelete())."""
        records = self._records_of(image_id)
        for rec in records:
            self.images.delete(rec.name, synchronous=False)
        if records:
            self.containerd.garbage_collect()

    def on_image_event(self, image_service: Any, image_id: str, action: str) -> None:
        """Keep containerd's images in step with the graph store's (interim wiring)."""
        if action in ("tag", "untag", "create", "load", "import", "pull"):
            self.sync_image(image_service, image_id)
        elif action == "delete":
            self.delete_image(image_id)

    def driver_status(self) -> list[tuple[str, str]]:
        return [("driver-type", SNAPSHOTTER_DRIVER_TYPE)]


def _familiar(full: str) -> str:
    """docker.io/library/NAME:TAG -> NAME:TAG (as Docker prints RepoTags)."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if full.startswith(prefix):
            return full[len(prefix) :]
    return full
