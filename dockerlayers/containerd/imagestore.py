"""Images and their names on the containerd store: containerd image records, not an imagedb.

The daemon's image service (dockerlayers/image/service.py: look-ups, tag, rmi's rules,
history, load, build, commit) runs unchanged on the two stores here, which keep everything
where Docker 29 keeps it (`<root>/containerd/daemon/io.containerd.*`), with no
`image/<driver>/imagedb` and no `repositories.json`:

* `ContainerdImageStore`: an image's config is a content blob; the image is a record in
  `v1/moby/images` whose target is a manifest naming the config and the layers' blobs
  (the manifest as pulled or loaded when there is one, else one written as Docker 29's
  `createImageOCI` writes it), and an image without a name is kept as
  `moby-dangling@<target digest>`. The parent the legacy builder and commit record is the
  record's `org.mobyproject.image.parent` label (the parent's target digest);
  `LastTagTime` is the records' latest UpdatedAt.
* `ContainerdReferenceStore`: a name is a record (`docker.io/library/NAME:TAG`, or
  `NAME@sha256:...`) whose target is the image's; tagging a dangling image replaces its
  `moby-dangling@` record, and an image that loses its last name while it stays gets one.

Inside, the service still keys an image by its config digest (a container's image in memory,
the builder's steps); every ID a client sees, and `config.v2.json`'s `Image`, is the
target digest (imageservice.py).

moby (docker-v29.0.0): daemon/containerd/image_builder.go (createImageOCI,
writeContentsForImage, imageLabelClassicBuilderParent), image_tag.go (TagImage,
createOrReplaceImage), image_delete.go (dangling images), image_inspect.go (LastTagTime);
containerd: metadata/images.go
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dockerlayers.containerd.errdefs import NotFound
from dockerlayers.containerd.images import (
    DANGLING_PREFIX,
    INDEX_TYPES,
    MEDIA_CONFIG,
    MEDIA_LAYER_GZIP,
    MEDIA_MANIFEST,
    NAMESPACE,
    ImageRecord,
)
from dockerlayers.containerd.snapshotlayers import LABEL_UNCOMPRESSED
from dockerlayers.digest import from_bytes, is_digest
from dockerlayers.image.errors import ImageError, InvalidReference
from dockerlayers.image.reference import ReferenceDoesNotExist, ReferenceStore
from dockerlayers.image.refname import (
    Reference,
    familiar_name,
    familiar_string,
    parse_normalized_named,
)
from dockerlayers.image.store import ImageStore, _ImageMeta
from dockerlayers.layer import LayerDoesNotExist

if TYPE_CHECKING:
    from dockerlayers.containerd.layerstore import ContainerdLayerStore

#: moby 29: daemon/containerd/image_builder.go
LABEL_PARENT = "org.mobyproject.image.parent"
LABEL_FROM_SCRATCH = "org.mobyproject.image.fromscratch"
#: moby 29: writeContentsForImage's layer media type (c8dimages.MediaTypeDockerSchema2LayerGzip)
MEDIA_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MEDIA_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
_GC_CONTENT = "containerd.io/gc.ref.content."
_ZERO_TIME = "1970-01-01T00:00:00Z"


class ContentConfigs:
    """The image store's backend (the shape of image/fs.go): configs are content blobs,
    each image's metadata lives on its records."""

    def __init__(self, store: ContainerdImageStore) -> None:
        self.store = store
        self.svc = store.layer_store.images
        self.content = store.layer_store.containerd.content
        self.root = store.layer_store.containerd.root
        #: config digest -> the target a new name should point at (a pull's manifest)
        self.preferred: dict[str, str] = {}

    # -- the fs.go surface ----------------------------------------------------------------
    def walk(self) -> list[str]:
        return sorted(d for d in self.svc.by_config() if is_digest(d))

    def get(self, dgst: str) -> bytes:
        try:
            data = self.content.read(NAMESPACE, dgst)
        except NotFound:
            raise FileNotFoundError(dgst) from None
        if from_bytes(data) != dgst:
            raise ValueError(f"failed to verify: {dgst}")
        return data

    def exists(self, dgst: str) -> bool:
        return bool(self.svc.records_of(dgst))

    def delete(self, dgst: str) -> None:
        """Every record of the image goes (the caller runs the collection)."""
        for rec in self.svc.records_of(dgst):
            self.svc.delete(rec.name, synchronous=False)

    def get_metadata(self, dgst: str, key: str) -> bytes:
        recs = self.svc.records_of(dgst)
        if key == "parent":
            for rec in recs:
                target = rec.labels.get(LABEL_PARENT)
                if target:
                    parent = self.config_of_target(target)
                    if parent:
                        return parent.encode()
            raise FileNotFoundError(key)
        if key == "lastUpdated":
            # moby 29: image_inspect.go (LastTagTime: the latest UpdatedAt of its records)
            times = [r.updated_at for r in recs if r.updated_at]
            if not times:
                raise FileNotFoundError(key)
            return max(times).encode()
        raise FileNotFoundError(key)

    def set_metadata(self, dgst: str, key: str, value: bytes) -> None:
        if key == "parent":
            parent = self.target_of(value.decode())
            for rec in self.svc.records_of(dgst):
                self.svc.update_labels(rec.name, {LABEL_PARENT: parent, LABEL_FROM_SCRATCH: None})
        elif key == "lastUpdated":
            for rec in self.svc.records_of(dgst):
                self.svc.update_labels(rec.name, {})

    def delete_metadata(self, dgst: str, key: str) -> None:
        if key == "parent":
            for rec in self.svc.records_of(dgst):
                self.svc.update_labels(rec.name, {LABEL_PARENT: None})

    # -- targets ----------------------------------------------------------------------------
    def target_of(self, config_id: str) -> str:
        """The target digest of image `config_id` (its first record's), "" if it has none."""
        recs = self.svc.records_of(config_id)
        return recs[0].digest if recs else ""

    def describe(self, digest: str) -> ImageRecord:
        """A record-shaped descriptor of the blob `digest` (a manifest or an index)."""
        info = self.content.info(NAMESPACE, digest)
        doc = json.loads(self.content.read(NAMESPACE, digest))
        mt = doc.get("mediaType") or (INDEX_TYPES[0] if "manifests" in doc else MEDIA_MANIFEST)
        return ImageRecord("", digest, mt, info.size)

    def record_of(self, config_id: str) -> ImageRecord | None:
        recs = self.svc.records_of(config_id)
        return recs[0] if recs else None

    def config_of_target(self, target: str) -> str:
        for cfg, recs in self.svc.by_config().items():
            if any(r.digest == target for r in recs):
                return cfg
        return ""

    def _find_target(self, config_id: str) -> tuple[str, str, int, dict] | None:
        """A manifest already in the content store that names this config (as pulled or
        loaded), or the index that holds it: (digest, media type, size, the manifest)."""
        wanted = self.preferred.get(config_id)
        if wanted:  # the target a pull or a load brought
            try:
                rec = self.describe(wanted)
            except NotFound:
                rec = None
            if rec is not None:
                try:
                    manifest = self.svc.platform_manifest(wanted)
                except NotFound:
                    manifest = {}
                return rec.digest, rec.media_type, rec.size, manifest
        infos = self.content.list(NAMESPACE)
        manifests = []
        for info in infos:
            refs = [v for k, v in info.labels.items() if k.startswith(_GC_CONTENT)]
            if config_id not in refs:
                continue
            try:
                doc = json.loads(self.content.read(NAMESPACE, info.digest))
            except (NotFound, ValueError):
                continue
            if isinstance(doc, dict) and (doc.get("config") or {}).get("digest") == config_id:
                mt = doc.get("mediaType") or MEDIA_MANIFEST
                manifests.append((info.digest, mt, info.size, doc))
        for m in manifests:
            for info in infos:
                if any(
                    k.startswith(_GC_CONTENT + "m.") and v == m[0] for k, v in info.labels.items()
                ):
                    doc = json.loads(self.content.read(NAMESPACE, info.digest))
                    mt = doc.get("mediaType") or INDEX_TYPES[0]
                    return info.digest, mt, info.size, m[3]
        return manifests[0] if manifests else None

    def _layer_blobs(self, diff_ids: list[str]) -> list[dict[str, Any]]:
        """Each layer's descriptor: its blob (by the uncompressed label), with the media
        type a manifest already gives it (a parent's layers are the parent's
        descriptors), else the one this store writes new layers with."""
        by_diff: dict[str, Any] = {}
        known: dict[str, str] = {}
        for info in self.content.list(NAMESPACE):
            d = info.labels.get(LABEL_UNCOMPRESSED)
            if d and d not in by_diff:
                by_diff[d] = info
            if any(k.startswith(_GC_CONTENT) for k in info.labels):
                try:
                    doc = json.loads(self.content.read(NAMESPACE, info.digest))
                except (NotFound, ValueError):
                    continue
                for lyr in doc.get("layers") or [] if isinstance(doc, dict) else []:
                    known.setdefault(lyr.get("digest"), lyr.get("mediaType"))
        out = []
        for d in diff_ids:
            info = by_diff.get(d)
            if info is None:
                raise ImageError(f"failed to get layer blob for {d}: not found")
            mt = known.get(info.digest)
            if not mt:
                head = self.content.local.read(info.digest)[:2] if info.size else b""
                mt = self.new_layer_type if head == b"\x1f\x8b" else MEDIA_LAYER_TAR
            out.append({"mediaType": mt, "digest": info.digest, "size": info.size})
        return out

    #: the media type of a layer this store compressed: build's (image_builder.go);
    #: `docker commit` writes the OCI one (image_commit.go createDiff)
    new_layer_type = MEDIA_DOCKER_LAYER_GZIP

    @contextlib.contextmanager
    def committing(self) -> Iterator[None]:
        """moby 29: image_commit.go (the diff's blob is `...oci.image.layer.v1.tar+gzip`)"""
        self.new_layer_type = MEDIA_LAYER_GZIP
        try:
            yield
        finally:
            del self.new_layer_type

    def create_image(
        self, config: bytes, config_id: str, diff_ids: list[str], top: str, imported: bool = False
    ) -> None:
        """Store the config and the image's record (dangling until it is named), under a
        lease until the record holds them. The manifest, when none names the config yet,
        is written as Docker 29 writes it: for `docker import` compact, its layer
        `...layer.v1.tar+gzip`, labelled `gc.ref.content.config`/`l.0`; for commit and
        build indented, layers `...rootfs.diff.tar.gzip`, labelled `gc.ref.content.<i>`.

        moby 29: image_builder.go createImageOCI, writeContentsForImage; image_import.go
        ImportImage (storeJson)
        """
        ctrd = self.store.layer_store.containerd
        lease = self.svc.create_work_lease()
        try:
            labels = {f"containerd.io/gc.ref.snapshot.{self.svc.snapshotter_name}": top}
            self.content.write_blob(
                NAMESPACE, config, expected=config_id, labels=labels if top else None, lease=lease
            )
            found = self._find_target(config_id)
            if found is None:
                layers = self._layer_blobs(diff_ids)
                cdesc = {"mediaType": MEDIA_CONFIG, "digest": config_id, "size": len(config)}
                if imported:  # image_import.go: the rootfs blob, OCI gzip
                    for lyr in layers:
                        lyr["mediaType"] = MEDIA_LAYER_GZIP
                    manifest = {
                        "schemaVersion": 2,
                        "mediaType": MEDIA_MANIFEST,
                        "config": cdesc,
                        "layers": layers,
                    }
                    raw = json.dumps(manifest, separators=(",", ":")).encode()
                    mlabels = {_GC_CONTENT + "config": config_id}
                    for i, lyr in enumerate(layers):
                        mlabels[f"{_GC_CONTENT}l.{i}"] = lyr["digest"]
                else:
                    manifest = {
                        "mediaType": MEDIA_MANIFEST,
                        "schemaVersion": 2,
                        "config": cdesc,
                        "layers": layers,
                    }
                    raw = json.dumps(manifest, indent=4).encode()  # Go: MarshalIndent("    ")
                    mlabels = {_GC_CONTENT + "0": config_id}
                    for i, lyr in enumerate(layers):
                        mlabels[f"{_GC_CONTENT}{i + 1}"] = lyr["digest"]
                info = self.content.write_blob(NAMESPACE, raw, labels=mlabels, lease=lease)
                found = (info.digest, MEDIA_MANIFEST, info.size, manifest)
            else:
                # containerd's unpack labels each layer blob with its diff ID
                for lyr, d in zip(found[3].get("layers", []), diff_ids):
                    try:
                        self.content.update_labels(
                            NAMESPACE, lyr["digest"], {LABEL_UNCOMPRESSED: d}
                        )
                    except NotFound:
                        missing = lyr["digest"]
                        raise ImageError(f"failed to get layer blob {missing}: not found") from None
            digest, media_type, size, _ = found
            if not any(r.digest == digest for r in self.svc.list()):
                self.svc.create_image(
                    DANGLING_PREFIX + digest,
                    digest,
                    media_type,
                    size,
                    labels={LABEL_FROM_SCRATCH: "1"} if not diff_ids else {},
                )
        finally:
            ctrd.leases.delete(NAMESPACE, lease)


class ContainerdImageStore(ImageStore):
    """image/store.go's store over containerd's records and content (see the module)."""

    def __init__(self, layer_store: ContainerdLayerStore, *, now_ns: Any = None) -> None:
        self.layer_store = layer_store
        self.fs = ContentConfigs(self)  # type: ignore[assignment]
        self.root = self.fs.root
        self.images: dict[str, _ImageMeta] = {}
        self._lock = threading.RLock()
        self._now_ns = now_ns
        self._restore()

    def __repr__(self) -> str:
        return f"<ContainerdImageStore {len(self.images)} images>"

    def create_imported(self, config: bytes) -> str:
        """`docker import`'s image (moby 29: image_import.go ImportImage)."""
        return self.create(config, imported=True)

    def create(self, config: bytes, *, imported: bool = False) -> str:
        """moby 29: image_builder.go createImageOCI (moby: image/store.go Create's checks)"""
        img = self.parse(config)
        with self._lock:
            id = img.id
            if id in self.images:
                return id
            layer = None
            chain = img.rootfs.chain_id()
            if chain:
                try:
                    layer = self.layer_store.get(chain)
                except LayerDoesNotExist as e:
                    raise ImageError(f"failed to get layer {chain}: {e}") from None
            try:
                self.fs.create_image(config, id, list(img.rootfs.diff_ids), chain or "", imported)
            except BaseException:
                if layer is not None:
                    self.layer_store.release(layer)
                raise
            self.images[id] = _ImageMeta(layer)
            # the record holds the layers now: their own leases can go
            current = layer
            while current is not None:
                self.layer_store.driver.release_lease(current.chain_id)
                current = current.parent
            return id

    def delete(self, id: str) -> list[Any]:
        """moby 29: image_delete.go (the records go, then a synchronous collection)"""
        removed = super().delete(id)
        self.layer_store.containerd.garbage_collect()
        return removed


class ContainerdReferenceStore(ReferenceStore):
    """reference/store.go's tag store as containerd image records (see the module)."""

    def __init__(self, image_store: ContainerdImageStore) -> None:
        self.image_store = image_store
        self.svc = image_store.layer_store.images
        super().__init__("")  # no repositories.json: `_reload` reads the records

    def __repr__(self) -> str:
        return f"<ContainerdReferenceStore {sum(len(r) for r in self.repositories.values())} refs>"

    def _reload(self) -> None:
        """Every named record, and for each its `NAME@<target digest>` (Docker 29's
        RepoDigests: a name and its record's target)."""
        self.repositories, self._by_id = {}, {}
        for cfg, recs in self.svc.by_config().items():
            for rec in recs:
                if rec.name.startswith(DANGLING_PREFIX):
                    continue
                try:
                    ref = parse_normalized_named(rec.name)
                except InvalidReference:
                    continue
                self._index(ref, cfg)
                self._index(Reference(ref.name, "", rec.digest), cfg)

    def _index(self, ref: Reference, id: str) -> None:
        name, ref_str = familiar_name(ref), familiar_string(ref)
        self.repositories.setdefault(name, {})[ref_str] = id
        self._by_id.setdefault(id, {})[ref_str] = ref

    def _unindex(self, ref: Reference) -> None:
        name, ref_str = familiar_name(ref), familiar_string(ref)
        repo = self.repositories.get(name, {})
        id = repo.pop(ref_str, None)
        if not repo:
            self.repositories.pop(name, None)
        if id is not None:
            self._forget(id, ref_str)

    def _save(self) -> None:
        """Nothing to write: every change was a record."""

    def _point(self, ref: Reference, id: str, old: str | None) -> None:
        """`ref` names image `id` (it named `old` before): a record whose target is the
        image's, replacing its dangling one; the image `old` loses it and stays dangling
        if no other record holds it.

        moby 29: image_tag.go TagImage (createOrReplaceImage; the dangling record goes)
        """
        rec = self._target_record(id)
        records = self.svc.list()
        if (
            ref.digest
            and ref.digest == rec.digest
            and any(
                r.digest == rec.digest and not r.name.startswith(DANGLING_PREFIX) for r in records
            )
        ):
            # NAME@<target digest> of a named image: Docker 29 derives it, no record
            self._index(ref, id)
            return
        replaced = next((r for r in records if r.name == str(ref)), None)
        self._name(ref, rec, rec.labels)
        if old is not None:
            self._forget(old, familiar_string(ref))
            if replaced is not None:
                self._keep_dangling(old, replaced)
        self._index(ref, id)
        if not ref.digest:
            self._index(Reference(ref.name, "", rec.digest), id)

    def _target_record(self, id: str) -> ImageRecord:
        """The record a new name of image `id` copies: the pull's or load's target, else
        the image's first record."""
        fs = self.image_store.fs
        target = fs.preferred.get(id) or fs.target_of(id)
        rec = next((r for r in self.svc.list() if r.digest == target), None)
        if rec is None:
            raise ImageError(f"image {id} has no record in containerd")
        return rec

    def _name(self, ref: Reference, target: ImageRecord, labels: dict[str, str]) -> None:
        """The record `ref` with `target`'s target; the target's dangling record goes."""
        self.svc.create_image(str(ref), target.digest, target.media_type, target.size, labels)
        dangling = DANGLING_PREFIX + target.digest
        if any(r.name == dangling for r in self.svc.list()):
            self.svc.delete(dangling, synchronous=False)

    def _same_reference(self, ref: Reference, id: str) -> None:
        self._retarget(ref, id)

    def _retarget(self, ref: Reference, id: str) -> None:
        """A name the image has already, given again by a pull or a load whose manifest
        is another (the same config): the name moves to the new target, and the old
        target stays as `moby-dangling@<digest>` if no other record holds it.

        moby 29: image_exporter.go LoadImage (ensureDanglingImage), image_pull.go
        """
        target = self.image_store.fs.preferred.get(id)
        records = self.svc.list()
        current = next((r for r in records if r.name == str(ref)), None)
        if current is None or not target or current.digest == target:
            return
        new = self.image_store.fs.describe(target)
        if not any(r.digest == current.digest and r.name != current.name for r in records):
            self.svc.create_image(
                DANGLING_PREFIX + current.digest,
                current.digest,
                current.media_type,
                current.size,
                current.labels,
            )
        self._name(ref, new, current.labels)
        if not ref.digest:
            self._index(Reference(ref.name, "", new.digest), id)

    def add_digest_record(self, ref: Reference, id: str) -> bool:
        """`docker pull NAME@<digest>`: a record of that name (containerd's Pull names the
        image by the reference it was given); True when it is new."""
        with self._lock:
            if any(r.name == str(ref) for r in self.svc.list()):
                return False
            rec = self._target_record(id)
            self._name(ref, rec, rec.labels)
            self._index(ref, id)
            return True

    def delete(self, ref: Reference) -> bool:
        """moby 29: image_delete.go (the name's record goes; an image that stays keeps a
        `moby-dangling@` record)"""
        ref = ref.tag_name_only()
        name, ref_str = familiar_name(ref), familiar_string(ref)
        with self._lock:
            repo = self.repositories.get(name)
            if repo is None or ref_str not in repo:
                if ref.digest and not any(r.name == str(ref) for r in self.svc.list()):
                    return True  # NAME@<digest>: gone with the name whose record implied it
                raise ReferenceDoesNotExist()
            id = repo.pop(ref_str)
            if not repo:
                del self.repositories[name]
            self._forget(id, ref_str)
            try:
                rec = self.svc.get(str(ref))
            except NotFound:
                return True
            self.svc.delete(rec.name, synchronous=False)
            if not any(
                r.digest == rec.digest and r.name.startswith(ref.name + ":")
                for r in self.svc.list()
            ):
                self._unindex(Reference(ref.name, "", rec.digest))
            self._keep_dangling(id, rec)
            return True

    def _keep_dangling(self, id: str, rec: ImageRecord) -> None:
        """An image whose last record went while it stays (until the image store deletes
        it, or for good when a container uses it) is kept as `moby-dangling@<target>`."""
        if id in self.image_store.images and not self.svc.records_of(id):
            self.svc.create_image(
                DANGLING_PREFIX + rec.digest, rec.digest, rec.media_type, rec.size, rec.labels
            )


class ContentDistributionMetadata:
    """What a pull or push knows of a layer's blob (the shape of distribution/metadata's
    V2MetadataService), read from the content store: a blob's diff ID is its
    `containerd.io/uncompressed` label; nothing is written besides.

    containerd: the unpacker's uncompressed label; moby 29: image_pull.go (no
    distribution/ folder on the containerd store)
    """

    def __init__(self, containerd: Any) -> None:
        self.content = containerd.content

    def get_diff_id(self, dgst: str) -> str | None:
        try:
            return self.content.info(NAMESPACE, dgst).labels.get(LABEL_UNCOMPRESSED)
        except NotFound:
            return None

    def get_metadata(self, diff_id: str) -> list[Any]:
        return []

    def add(self, diff_id: str, meta: Any) -> None:
        """The blob carries its diff ID already."""
