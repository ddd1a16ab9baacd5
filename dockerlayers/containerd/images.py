"""Docker 29's image service on containerd: load, unpack, image IDs, commit, sizes.

What Docker does with the containerd image store, in the model:

* `load` (`docker load` = containerd's Import): every blob of the OCI layout goes into the
  content store as is (layers stay compressed); images are named by their
  `io.containerd.image.name` annotation; manifests get `containerd.io/gc.ref.content.config`
  and `containerd.io/gc.ref.content.l.<i>` labels, an index `containerd.io/gc.ref.content.m.<i>`.
* unpack: each layer is applied into a snapshot prepared as `extract-<nanos>-<rand> <chainID>`
  on its parent's chain ID and committed under the **chain ID**; the layer blob is labelled
  `containerd.io/uncompressed=<diff_id>` and the config `containerd.io/gc.ref.snapshot.
  overlayfs=<top chain ID>`, which is what keeps the snapshots alive.
* The image ID Docker shows is the image's target digest (the manifest or index), not the
  config digest; an image that loses its last name is kept as `moby-dangling@<digest>`.
* `docker images` sizes: content (the blobs) + unpacked (the snapshots' usage).
* `commit`: the diff of the container's active snapshot against its parent (`<id>-init`,
  seen through a `<parent>-parent-view-<unique>` view) becomes a gzip blob, and is applied again
  into `extract-<unique>-<new chain ID>` on the container snapshot's parent, committed as the new
  chain ID (so the new image's snapshot hangs under `<id>-init`, as in Docker 29).

moby: daemon/containerd/image_import.go / image.go (image.ID(img.Target.Digest)),
image_commit.go (CommitImage, createDiff, applyDiffLayer), image_list.go (Content + Unpacked),
image_delete.go (moby-dangling@); containerd: import.go, image.go Unpack, rootfs/apply.go
"""

from __future__ import annotations

import base64
import copy
import gzip
import io
import json
import posixpath
import random
import tarfile
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.archive.apply import unpack_layer
from dockerlayers.archive.tar import tar_directory
from dockerlayers.archive.whiteouts import native_whiteouts_supported
from dockerlayers.containerd import metadata as md
from dockerlayers.containerd.containerd import Containerd
from dockerlayers.containerd.errdefs import AlreadyExists, NotFound, wrap
from dockerlayers.digest import chain_id, from_bytes
from dockerlayers.gostrings import go_quote
from dockerlayers.process.clock import format_rfc3339nano

NAMESPACE = "moby"
#: moby 29: daemon/containerd/leases.go (the labels of dockerd's work leases)
LABEL_PRUNE_LEASE = "moby/prune.images"
LABEL_EXPIRE = "containerd.io/gc.expire"
WORK_LEASE_EXPIRY = 8 * 3600
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
DANGLING_PREFIX = "moby-dangling@"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
MEDIA_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MANIFEST_TYPES = (MEDIA_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json")
INDEX_TYPES = (MEDIA_INDEX, "application/vnd.docker.distribution.manifest.list.v2+json")


@dataclass
class ImageRecord:
    """containerd: core/images/image.go Image (Name, Target, Labels, CreatedAt, UpdatedAt)"""

    name: str
    digest: str
    media_type: str
    size: int
    created_at: str = ""
    updated_at: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """moby 29: image.ID(img.Target.Digest)"""
        return self.digest


class ImageService:
    """Docker 29's images over one containerd (namespace `moby`, snapshotter overlayfs)."""

    def __init__(
        self, ctrd: Containerd, snapshotter: str = "overlayfs", seed: int | None = None
    ) -> None:
        self.ctrd = ctrd
        self.snapshotter_name = snapshotter
        self.rng = random.Random(seed)
        #: config digest -> the records of the images with that config (made on use)
        self._by_config: dict[str, list[ImageRecord]] | None = None

    @property
    def sn(self):
        return self.ctrd.snapshotter(self.snapshotter_name)

    def unique_part(self) -> str:
        """moby: daemon/containerd/image_commit.go uniquePart (nanoseconds + 3 random bytes)"""
        nanos = int(round(self.ctrd.now() * 1e9)) % 1_000_000_000
        b = bytes(self.rng.getrandbits(8) for _ in range(3))
        return f"{nanos}-{base64.urlsafe_b64encode(b).decode()}"

    def create_work_lease(self) -> str:
        """A lease for work in progress, as dockerd makes them: a random ID (containerd's
        WithRandomID, the `unique_part` form), `moby/prune.images` and an expiry 8 hours on.

        moby 29: daemon/containerd/leases.go withLease
        """
        import datetime

        lid = self.unique_part()
        expire = datetime.datetime.fromtimestamp(
            int(self.ctrd.now()) + WORK_LEASE_EXPIRY, datetime.timezone.utc
        ).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.ctrd.leases.create(NAMESPACE, lid, {LABEL_PRUNE_LEASE: "true", LABEL_EXPIRE: expire})
        return lid

    # -- image records (v1/moby/images) -------------------------------------------------
    def create_image(
        self,
        name: str,
        digest: str,
        media_type: str,
        size: int,
        labels: dict[str, str] | None = None,
    ) -> ImageRecord:
        """containerd: metadata/images.go Create (or Update when it exists; `labels`, when
        given, replace the record's)"""
        ts = format_rfc3339nano(self.ctrd.now())
        with self.ctrd.db.update() as tx:
            bkt = md.namespace_bucket(tx, NAMESPACE, md.BUCKET_KEY_OBJECT_IMAGES, create=True)
            ibkt = bkt.create_bucket_if_not_exists(name)
            md.write_timestamps(ibkt, ibkt.get_time(md.BUCKET_KEY_CREATED_AT) or ts, ts)
            if labels is not None:
                md.write_labels(ibkt, labels)
            target = ibkt.create_bucket_if_not_exists(md.BUCKET_KEY_TARGET)
            target.put(md.BUCKET_KEY_DIGEST, digest)
            target.put(md.BUCKET_KEY_MEDIA_TYPE, media_type)
            target.put_varint(md.BUCKET_KEY_SIZE, size)
        self._by_config = None
        return self.get(name)

    def update_labels(self, name: str, labels: dict[str, str]) -> ImageRecord:
        """Merge `labels` into the record's (a None value removes one); UpdatedAt moves.

        containerd: metadata/images.go Update (fieldpaths `labels.<key>`)
        """
        with self.ctrd.db.update() as tx:
            ibkt = md.namespace_bucket(tx, NAMESPACE, md.BUCKET_KEY_OBJECT_IMAGES, name)
            if ibkt is None:
                raise wrap(NotFound, f"image {go_quote(name)}")
            merged = md.read_labels(ibkt)
            for k, v in labels.items():
                if v is None:
                    merged.pop(k, None)
                else:
                    merged[k] = v
            md.write_labels(ibkt, merged)
            ts = format_rfc3339nano(self.ctrd.now())
            md.write_timestamps(ibkt, ibkt.get_time(md.BUCKET_KEY_CREATED_AT) or ts, ts)
        self._by_config = None  # (its records carry the labels)
        return self.get(name)

    def by_config(self) -> dict[str, list[ImageRecord]]:
        """config digest -> the records whose target's (platform) manifest names it."""
        if self._by_config is None:
            out: dict[str, list[ImageRecord]] = {}
            for rec in self.list():
                try:
                    cfg = self.manifest(rec)["config"]["digest"]
                except (NotFound, KeyError, ValueError, TypeError):
                    continue
                out.setdefault(cfg, []).append(rec)
            self._by_config = out
        return self._by_config

    def records_of(self, config_id: str) -> list[ImageRecord]:
        """The records of the image whose config is `config_id` (named ones first)."""
        recs = self.by_config().get(config_id, [])
        return sorted(recs, key=lambda r: (r.name.startswith(DANGLING_PREFIX), r.name))

    def get(self, name: str) -> ImageRecord:
        with self.ctrd.db.view() as tx:
            ibkt = md.namespace_bucket(tx, NAMESPACE, md.BUCKET_KEY_OBJECT_IMAGES, name)
            if ibkt is None:
                raise wrap(NotFound, f"image {go_quote(name)}")
            t = ibkt.bucket(md.BUCKET_KEY_TARGET)
            return ImageRecord(
                name,
                t.get(md.BUCKET_KEY_DIGEST),
                t.get(md.BUCKET_KEY_MEDIA_TYPE),
                t.get_varint(md.BUCKET_KEY_SIZE) or 0,
                ibkt.get_time(md.BUCKET_KEY_CREATED_AT) or "",
                ibkt.get_time(md.BUCKET_KEY_UPDATED_AT) or "",
                md.read_labels(ibkt),
            )

    def list(self) -> list[ImageRecord]:
        with self.ctrd.db.view() as tx:
            bkt = md.namespace_bucket(tx, NAMESPACE, md.BUCKET_KEY_OBJECT_IMAGES)
            names = bkt.bucket_names() if bkt else []
        return [self.get(n) for n in names]

    def resolve(self, ref: str) -> ImageRecord:
        """A name, a full or short image ID (target digest)."""
        for img in self.list():
            if img.name == ref or img.name == _normalize(ref):
                return img
        hex_ = ref.removeprefix("sha256:")
        found = [i for i in self.list() if len(hex_) >= 4 and i.digest[7:].startswith(hex_)]
        if found:
            return found[0]
        raise wrap(NotFound, f"image {go_quote(ref)}")

    def delete(self, name: str, *, synchronous: bool = True) -> None:
        """containerd: metadata/images.go Delete; Docker passes images.SynchronousDelete()."""
        with self.ctrd.db.update() as tx:
            bkt = md.namespace_bucket(tx, NAMESPACE, md.BUCKET_KEY_OBJECT_IMAGES)
            if bkt is None or not bkt.delete_bucket(name):
                raise wrap(NotFound, f"image {go_quote(name)}")
        self._by_config = None
        if synchronous:
            self.ctrd.garbage_collect()
        else:
            self.ctrd.schedule_gc()

    def untag(self, name: str) -> None:
        """`docker rmi NAME` of an image's last name while a container uses it: the image
        stays as `moby-dangling@<digest>`. moby: daemon/containerd/image_delete.go"""
        img = self.get(name)
        others = [i for i in self.list() if i.digest == img.digest and i.name != name]
        if not others:
            self.create_image(DANGLING_PREFIX + img.digest, img.digest, img.media_type, img.size)
        self.delete(name)

    # -- blobs ----------------------------------------------------------------------------
    def read_json(self, digest: str) -> dict[str, Any]:
        return json.loads(self.ctrd.content.read(NAMESPACE, digest))

    def manifest(self, img: ImageRecord) -> dict[str, Any]:
        """The platform manifest of `img` (the first one of an index)."""
        return self.platform_manifest(img.digest)

    def platform_manifest(self, digest: str) -> dict[str, Any]:
        """The manifest `digest` is, or for an index the first platform manifest the store
        has (a pull fetches one of a list), else its first."""
        doc = self.read_json(digest)
        if doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
            entries = doc["manifests"]
            present = [m for m in entries if self.ctrd.local.exists(m["digest"])]
            doc = self.read_json((present or entries)[0]["digest"])
        return doc

    def config(self, img: ImageRecord) -> dict[str, Any]:
        return self.read_json(self.manifest(img)["config"]["digest"])

    def chain_ids(self, img: ImageRecord) -> list[str]:
        ids: list[str] = []
        diff_ids = self.config(img)["rootfs"]["diff_ids"]
        for i in range(len(diff_ids)):
            ids.append(str(chain_id(diff_ids[: i + 1])))
        return ids

    def top_chain_id(self, img: ImageRecord) -> str:
        ids = self.chain_ids(img)
        return ids[-1] if ids else ""

    # -- load + unpack --------------------------------------------------------------------
    def load(self, data: bytes, *, unpack: bool = True) -> list[ImageRecord]:
        """`docker load` of an OCI layout archive (the model's save in `docker-25`/`oci`).

        containerd: import.go Import (blobs, then SetChildrenMappedLabels), image.go Unpack
        """
        blobs, index = self._read_layout(data)
        lease = f"import-{self.unique_part()}"
        self.ctrd.leases.create(NAMESPACE, lease)
        out = []
        try:
            for desc in index["manifests"]:
                self._write_tree(desc, blobs, lease)
                ann = desc.get("annotations") or {}
                name = ann.get(ANNOTATION_IMAGE_NAME) or DANGLING_PREFIX + desc["digest"]
                img = self.create_image(name, desc["digest"], desc["mediaType"], desc["size"])
                if unpack:
                    self.unpack(img)
                out.append(img)
        finally:
            self.ctrd.leases.delete(NAMESPACE, lease)
        return out

    def import_blobs(self, data: bytes, lease: str) -> list[dict[str, Any]]:
        """Every blob an OCI layout's index reaches, into the content store under `lease`
        (children first, with their gc.ref labels); no record, no unpack. Returns the
        index's descriptors.

        containerd: import.go Import (the content half)
        """
        blobs, index = self._read_layout(data)
        descs = [d for d in index.get("manifests", []) if d.get("digest") in blobs]
        for desc in descs:
            self._write_tree(desc, blobs, lease)
        return descs

    @staticmethod
    def _read_layout(data: bytes) -> tuple[dict[str, bytes], dict[str, Any]]:
        """An OCI layout archive's blobs (by digest) and its index.json."""
        blobs: dict[str, bytes] = {}
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            members = archive_members(tar)
            for name, m in members.items():
                parts = name.split("/")
                if m.isfile() and len(parts) == 3 and parts[0] == "blobs":
                    blobs[f"{parts[1]}:{parts[2]}"] = tar.extractfile(m).read()
            index = json.loads(_read_member(tar, members, "index.json"))
        return blobs, index

    def import_docker_archive(self, data: bytes, lease: str) -> list[dict[str, Any]]:
        """The blobs of a `docker save` archive in 20.10's layout (`manifest.json`) into the
        content store as containerd's Import writes them: each layer tar as it is (an
        uncompressed one `...rootfs.diff.tar`), the config, and a Docker schema 2
        manifest per image, labelled to its children. No record, no unpack. Returns the
        manifests' descriptors.

        containerd: core/images/archive/importer.go ImportIndex (resolveLayers without
        compression, writeManifest: json.Marshal), images.SetChildrenMappedLabels;
        moby 29: image_exporter.go LoadImage (no WithImportCompression)
        """
        cs = self.ctrd.content
        descs: list[dict[str, Any]] = []
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            members = archive_members(tar)
            entries = json.loads(_read_member(tar, members, "manifest.json"))

            def read(name: str) -> bytes:
                return _read_member(tar, members, name)

            for entry in entries:
                config = read(entry["Config"])
                cfg = cs.write_blob(NAMESPACE, config, lease=lease)
                layers = []
                for name in entry.get("Layers") or []:
                    blob = read(name)
                    digest = str(from_bytes(blob))
                    gz = blob[:2] == b"\x1f\x8b"
                    existing = [
                        i
                        for i in cs.list(NAMESPACE)
                        if i.labels.get("containerd.io/uncompressed") == digest
                        and i.digest != digest
                    ]
                    if existing and not gz:  # resolveLayers: the compressed copy it has
                        info, mt = existing[0], MEDIA_DOCKER_LAYER_GZIP
                    else:
                        info = cs.write_blob(NAMESPACE, blob, lease=lease)
                        mt = MEDIA_DOCKER_LAYER_GZIP if gz else MEDIA_DOCKER_LAYER
                    layers.append({"mediaType": mt, "digest": info.digest, "size": info.size})
                manifest = {
                    "schemaVersion": 2,
                    "mediaType": MANIFEST_TYPES[1],
                    "config": {
                        "mediaType": MEDIA_DOCKER_CONFIG,
                        "digest": cfg.digest,
                        "size": cfg.size,
                    },
                    "layers": layers,
                }
                labels = {"containerd.io/gc.ref.content.config": cfg.digest}
                for i, lyr in enumerate(layers):
                    labels[f"containerd.io/gc.ref.content.l.{i}"] = lyr["digest"]
                raw = json.dumps(manifest, separators=(",", ":")).encode()
                info = cs.write_blob(NAMESPACE, raw, labels=labels, lease=lease)
                desc = {"mediaType": MANIFEST_TYPES[1], "digest": info.digest, "size": info.size}
                descs.append(desc)
                for tag in entry.get("RepoTags") or []:  # importer.go: a descriptor per tag
                    named = {ANNOTATION_IMAGE_NAME: _normalize(tag)}
                    descs.append({**desc, "annotations": named})
        return descs

    def _write_tree(self, desc: dict[str, Any], blobs: dict[str, bytes], lease: str) -> None:
        """Children first, then the parent with its gc.ref labels.

        containerd: core/images/handlers.go SetChildrenMappedLabels, ChildGCLabels
        """
        data = blobs[desc["digest"]]
        labels: dict[str, str] = {}
        mt = desc.get("mediaType", "")
        if mt in MANIFEST_TYPES:
            doc = json.loads(data)
            self._write(doc["config"]["digest"], blobs, lease)
            labels["containerd.io/gc.ref.content.config"] = doc["config"]["digest"]
            for i, layer in enumerate(doc["layers"]):
                self._write(layer["digest"], blobs, lease)
                labels[f"containerd.io/gc.ref.content.l.{i}"] = layer["digest"]
        elif mt in INDEX_TYPES:
            doc = json.loads(data)
            for i, m in enumerate(doc["manifests"]):
                self._write_tree(m, blobs, lease)
                labels[f"containerd.io/gc.ref.content.m.{i}"] = m["digest"]
        self.ctrd.content.write_blob(
            NAMESPACE, data, expected=desc["digest"], labels=labels or None, lease=lease
        )

    def _write(self, digest: str, blobs: dict[str, bytes], lease: str) -> None:
        self.ctrd.content.write_blob(NAMESPACE, blobs[digest], expected=digest, lease=lease)

    def is_unpacked(self, img: ImageRecord) -> bool:
        top = self.top_chain_id(img)
        try:
            self.sn.stat(NAMESPACE, top)
        except NotFound:
            return False
        return True

    def unpack(self, img: ImageRecord) -> str:
        """Apply each layer into a snapshot named by its chain ID (once per chain ID).

        containerd: image.go Unpack, rootfs/apply.go applyLayers (UnpackKeyFormat "extract-%s %s")
        """
        manifest = self.manifest(img)
        diff_ids = self.config(img)["rootfs"]["diff_ids"]
        parent = ""
        lease = f"unpack-{self.unique_part()}"
        self.ctrd.leases.create(NAMESPACE, lease)
        try:
            for i, layer in enumerate(manifest["layers"]):
                cid = str(chain_id(diff_ids[: i + 1]))
                try:
                    self.sn.stat(NAMESPACE, cid)
                except NotFound:
                    key = f"extract-{self.unique_part()} {cid}"
                    self.sn.prepare(NAMESPACE, key, parent, lease=lease)
                    blob = self.ctrd.content.read(NAMESPACE, layer["digest"])
                    self._apply(key, _decompress(blob))
                    try:
                        self.sn.commit(NAMESPACE, cid, key, lease=lease)
                    except AlreadyExists:
                        self.sn.remove(NAMESPACE, key)
                self.ctrd.content.update_labels(
                    NAMESPACE, layer["digest"], {"containerd.io/uncompressed": diff_ids[i]}
                )
                parent = cid
            self.ctrd.content.update_labels(
                NAMESPACE,
                manifest["config"]["digest"],
                {f"containerd.io/gc.ref.snapshot.{self.snapshotter_name}": parent},
            )
        finally:
            self.ctrd.leases.delete(NAMESPACE, lease)
        return parent

    def _apply(self, key: str, tar: bytes) -> int:
        """containerd: diff/apply (the layer tar into the active snapshot's upper folder)"""
        upper = self.sn.backend.layer_dirs(self.sn.resolve_key(NAMESPACE, key))[0]
        fmt = "overlay" if native_whiteouts_supported(upper) else "aufs"
        if self.snapshotter_name == "native":
            fmt = "naive"
        return unpack_layer(upper, io.BytesIO(tar), whiteout_format=fmt)

    # -- sizes ----------------------------------------------------------------------------
    def sizes(self, img: ImageRecord) -> dict[str, int]:
        """`docker images` in Docker 29: Content (blobs) + Unpacked (snapshot usage) = Size.

        moby: daemon/containerd/image_list.go (mfstSummary.Size.Content / ImageData.Size.Unpacked)
        """
        manifest = self.manifest(img)
        content = (
            img.size + manifest["config"]["size"] + sum(lyr["size"] for lyr in manifest["layers"])
        )
        if img.media_type in INDEX_TYPES:
            entries = self.read_json(img.digest)["manifests"]
            content += sum(m["size"] for m in entries if self.ctrd.local.exists(m["digest"]))
        unpacked = (
            sum(self.sn.usage(NAMESPACE, c).size for c in self.chain_ids(img))
            if self.is_unpacked(img)
            else 0
        )
        return {"content": content, "unpacked": unpacked, "total": content + unpacked}

    # -- commit ---------------------------------------------------------------------------
    def commit(
        self,
        container_id: str,
        parent: ImageRecord | None,
        name: str | None = None,
        comment: str = "",
    ) -> ImageRecord:
        """`docker commit` on the containerd store. moby: daemon/containerd/image_commit.go"""
        lease = f"commit-{self.unique_part()}"
        self.ctrd.leases.create(NAMESPACE, lease)
        try:
            info = self.sn.stat(NAMESPACE, container_id)
            lower_key = f"{info.parent}-parent-view-{self.unique_part()}"
            self.sn.view(NAMESPACE, lower_key, info.parent, lease=lease)
            upper = self.sn.backend.layer_dirs(self.sn.resolve_key(NAMESPACE, container_id))[0]
            raw = io.BytesIO()
            tar_directory(upper, raw, whiteout_format="overlay")
            self.sn.remove(NAMESPACE, lower_key)
            tar_bytes = raw.getvalue()
            diff_id = str(from_bytes(tar_bytes))
            blob = gzip.compress(tar_bytes, mtime=0)
            layer = self.ctrd.content.write_blob(
                NAMESPACE, blob, labels={"containerd.io/uncompressed": diff_id}, lease=lease
            )
            base_manifest = self.manifest(parent) if parent else {"layers": []}
            config = (
                copy.deepcopy(self.config(parent))
                if parent
                else {"rootfs": {"type": "layers", "diff_ids": []}}
            )
            created = format_rfc3339nano(self.ctrd.now())
            config["created"] = created
            config["rootfs"]["diff_ids"] = [*config["rootfs"]["diff_ids"], diff_id]
            config.setdefault("history", []).append(
                {"created": created, "comment": comment} if comment else {"created": created}
            )
            rootfs_id = str(chain_id(config["rootfs"]["diff_ids"]))
            key = f"extract-{self.unique_part()}-{rootfs_id}"
            self.sn.prepare(NAMESPACE, key, info.parent, lease=lease)
            self._apply(key, tar_bytes)
            try:
                self.sn.commit(NAMESPACE, rootfs_id, key, lease=lease)
            except AlreadyExists:
                self.sn.remove(NAMESPACE, key)
            cfg_bytes = json.dumps(config, separators=(",", ":")).encode()
            cfg = self.ctrd.content.write_blob(
                NAMESPACE,
                cfg_bytes,
                labels={f"containerd.io/gc.ref.snapshot.{self.snapshotter_name}": rootfs_id},
                lease=lease,
            )
            layers = [
                *base_manifest["layers"],
                {"mediaType": MEDIA_LAYER_GZIP, "digest": layer.digest, "size": layer.size},
            ]
            manifest = {
                "schemaVersion": 2,
                "mediaType": MEDIA_MANIFEST,
                "config": {"mediaType": MEDIA_CONFIG, "digest": cfg.digest, "size": cfg.size},
                "layers": layers,
            }
            mbytes = json.dumps(manifest, separators=(",", ":")).encode()
            labels = {"containerd.io/gc.ref.content.config": cfg.digest}
            labels.update(
                {
                    f"containerd.io/gc.ref.content.l.{i}": lyr["digest"]
                    for i, lyr in enumerate(layers)
                }
            )
            m = self.ctrd.content.write_blob(NAMESPACE, mbytes, labels=labels, lease=lease)
            img_name = _normalize(name) if name else DANGLING_PREFIX + m.digest
            return self.create_image(img_name, m.digest, MEDIA_MANIFEST, m.size)
        finally:
            self.ctrd.leases.delete(NAMESPACE, lease)


def archive_members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """An archive's entries by clean name (`./blobs/sha256/x` is `blobs/sha256/x`, as
    containerd's importer cleans the names; umoci's and skopeo's tars start with `./`)."""
    out: dict[str, tarfile.TarInfo] = {}
    for m in tar.getmembers():
        name = posixpath.normpath(m.name).lstrip("/")
        if name and name != ".":
            out.setdefault(name, m)
    return out


def _read_member(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> bytes:
    m = members.get(posixpath.normpath(name).lstrip("/"))
    f = tar.extractfile(m) if m is not None else None
    if f is None:
        raise wrap(NotFound, f"file {go_quote(name)} in the archive")
    return f.read()


def _decompress(blob: bytes) -> bytes:
    return gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob


def _normalize(ref: str) -> str:
    """docker.io/library/NAME:TAG, as containerd's image names are full references."""
    name, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
    if "/" not in name:
        name = "library/" + name
    if (
        "." not in name.split("/", 1)[0]
        and ":" not in name.split("/", 1)[0]
        and name.split("/", 1)[0] != "localhost"
    ):
        name = "docker.io/" + name
    return f"{name}:{tag}"
