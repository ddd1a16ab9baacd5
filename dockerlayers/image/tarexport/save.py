"""`docker save`: images, their layers and tags into an archive or an OCI layout.

The archive is assembled as a tree of entries (with the mtimes moby sets: image creation
time for layer files and configs, the epoch for `manifest.json`, `repositories`,
`index.json` and `oci-layout`) and written in lexical walk order like moby's
`archive.Tar` of its temp folder.

moby: image/tarexport/save.go
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from dockerlayers.archive import TarHeader, TarWriter
from dockerlayers.archive.tar import TYPE_DIR, TYPE_REG, TYPE_SYMLINK
from dockerlayers.digest import from_bytes
from dockerlayers.image import jsonenc, oci, v1
from dockerlayers.image.errors import ImageError, ImageNotFound
from dockerlayers.image.image import Image
from dockerlayers.image.refname import (
    Reference,
    familiar_name,
    familiar_string,
    parse_any_reference,
)
from dockerlayers.image.rootfs import RootFS
from dockerlayers.image.tarexport.tarexport import (
    FORMAT_DOCKER,
    FORMAT_DOCKER_LEGACY,
    FORMAT_OCI_DIR,
    FORMATS,
    LEGACY_CONFIG_FILE,
    LEGACY_LAYER_FILE,
    LEGACY_REPOSITORIES_FILE,
    LEGACY_VERSION_FILE,
    MANIFEST_FILE,
    TarExporter,
)


@dataclass
class _ImageDescriptor:
    """moby: image/tarexport/save.go imageDescriptor"""

    image: Image
    refs: list[Reference] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    kind: str  # "dir" | "file" | "symlink"
    mtime: int
    data: bytes | None = None
    file: BinaryIO | None = None
    size: int = 0
    target: str = ""


class _Tree:
    """The files of the archive being made, keyed by relative path."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}

    def mkdir(self, path: str, mtime: int) -> None:
        parent = posixpath.dirname(path)
        if parent and parent not in self.entries:
            self.mkdir(parent, mtime)
        self.entries.setdefault(path, _Entry("dir", mtime))

    def chtimes(self, path: str, mtime: int) -> None:
        self.entries[path].mtime = mtime

    def add(self, path: str, mtime: int, data: bytes | None = None, file=None, size=0) -> None:
        parent = posixpath.dirname(path)
        if parent and parent not in self.entries:
            self.mkdir(parent, mtime)
        if data is not None:
            size = len(data)
        self.entries[path] = _Entry("file", mtime, data, file, size)

    def symlink(self, path: str, target: str, mtime: int) -> None:
        self.entries[path] = _Entry("symlink", mtime, target=target)

    def walk(self) -> list[str]:
        return sorted(self.entries, key=lambda p: p.split("/"))

    def write_tar(self, out: BinaryIO) -> None:
        """moby: pkg/archive TarWithOptions of the temp folder (root entry skipped)"""
        tw = TarWriter(out)
        for path in self.walk():
            e = self.entries[path]
            if e.kind == "dir":
                tw.add(TarHeader(path + "/", TYPE_DIR, 0o755, mtime=e.mtime))
            elif e.kind == "symlink":
                tw.add(TarHeader(path, TYPE_SYMLINK, 0o777, mtime=e.mtime, linkname=e.target))
            else:
                hdr = TarHeader(path, TYPE_REG, 0o644, size=e.size, mtime=e.mtime)
                if e.data is not None:
                    tw.add(hdr, e.data)
                else:
                    assert e.file is not None
                    e.file.seek(0)
                    tw.add(hdr, e.file)
        tw.close()

    def write_dir(self, dest: str) -> None:
        """Write the tree as files under `dest` (an OCI layout folder)."""
        for path in self.walk():
            e = self.entries[path]
            full = os.path.join(dest, *path.split("/"))
            if e.kind == "dir":
                os.makedirs(full, mode=0o755, exist_ok=True)
            elif e.kind == "symlink":
                os.symlink(e.target, full)
            else:
                with open(full, "wb") as f:
                    if e.data is not None:
                        f.write(e.data)
                    else:
                        assert e.file is not None
                        e.file.seek(0)
                        shutil.copyfileobj(e.file, f)
                os.chmod(full, 0o644)
            if e.kind != "symlink":
                os.utime(full, (e.mtime, e.mtime))
        for path in reversed(self.walk()):  # folder mtimes last
            e = self.entries[path]
            if e.kind == "dir":
                full = os.path.join(dest, *path.split("/"))
                os.utime(full, (e.mtime, e.mtime))


def _seconds(created: str) -> int:
    """Go's `time.Time` of `created`, truncated to seconds; times before the epoch are
    written as the epoch (ours: tar headers here carry no negative times)."""
    try:
        ns = jsonenc.parse_rfc3339(created)
    except ValueError:
        return 0
    return max(0, ns // 1_000_000_000)


def parse_names(ex: TarExporter, names: list[str]) -> dict[str, _ImageDescriptor]:
    """Images (by ID, in the order first named) and the tags to save with them.

    moby: image/tarexport/save.go parseNames
    """
    out: dict[str, _ImageDescriptor] = {}

    def add(id: str, ref: Reference | None) -> None:
        if id not in out:
            out[id] = _ImageDescriptor(ex.image_store.get(id))
        if ref is not None and not ref.digest:
            tagged = ref.tag_name_only()
            if all(str(tagged) != str(t) for t in out[id].refs):
                out[id].refs.append(tagged)

    for name in names:
        ref = parse_any_reference(name)
        if not ref.name:
            if ref.digest not in ex.image_store:
                raise ImageNotFound(f"No such image: {ref.digest}")
            add(ref.digest, None)
            continue
        if familiar_name(ref) == "sha256":
            add(ex.image_store.search(name), None)
            continue
        if ref.is_name_only():
            assocs = ex.reference_store.references_by_name(ref)
            for a in assocs:
                add(a.id, a.ref)
            if not assocs:
                add(ex.image_store.search(name), None)
            continue
        add(ex.reference_store.get(ref), ref)
    return out


def save(
    ex: TarExporter,
    names: list[str],
    out: BinaryIO | str,
    format: str = FORMAT_DOCKER,
    *,
    gzip_layers: bool = False,
) -> None:
    """moby: image/tarexport/save.go Save"""
    if format not in FORMATS:
        raise ValueError(f"unknown save format {format!r} (one of {', '.join(FORMATS)})")
    images = parse_names(ex, names)
    for desc in images.values():
        if not desc.image.rootfs or not desc.image.rootfs.diff_ids:
            raise ImageError("empty export - not implemented")
    with contextlib.ExitStack() as stack:
        tree = _Tree()
        session = _Session(ex, images, tree, stack)
        if format == FORMAT_DOCKER_LEGACY:
            session.save_legacy()
        elif format == FORMAT_DOCKER:
            session.save_docker()
        else:
            session.save_oci(gzip_layers)
        if format == FORMAT_OCI_DIR:
            if not isinstance(out, str):
                raise ValueError("oci-dir needs a folder path")
            if os.path.exists(out) and os.listdir(out):
                raise ImageError(f"destination {out} is not empty")
            os.makedirs(out, exist_ok=True)
            tree.write_dir(out)
        elif isinstance(out, str):
            tmp = out + ".tmp"
            with open(tmp, "wb") as f:
                tree.write_tar(f)
            os.replace(tmp, out)
        else:
            tree.write_tar(out)
    for id in images:
        ex._event(id, id, "save")


class _Session:
    """moby: image/tarexport/save.go saveSession"""

    def __init__(self, ex: TarExporter, images, tree: _Tree, stack: contextlib.ExitStack):
        self.ex, self.images, self.tree, self.stack = ex, images, tree, stack
        self._streams: dict[str, tuple[BinaryIO, int]] = {}

    # -- layers ------------------------------------------------------------------------------
    def _layer_stream(self, chain: str) -> tuple[BinaryIO, int]:
        """The layer's tar (verified against its DiffID) in a temp file, and its size."""
        if chain not in self._streams:
            handle = self.ex.layer_store.get(chain)
            try:
                f = handle.tar_stream()
            finally:
                self.ex.layer_store.release(handle)
            self.stack.callback(f.close)
            f.seek(0, os.SEEK_END)
            self._streams[chain] = (f, f.tell())
        return self._streams[chain]

    def _chains(self, img: Image) -> list[tuple[str, str]]:
        rootfs = img.rootfs or RootFS()
        out = []
        for i, diff in enumerate(rootfs.diff_ids):
            out.append((diff, RootFS(rootfs.type, rootfs.diff_ids[: i + 1]).chain_id()))
        return out

    def _v1_layers(self, img: Image) -> Iterator[tuple[int, str, str, str, dict, str]]:
        """(position, diff_id, chain_id, v1 id, v1 image fields, parent v1 id) per layer.

        moby: image/tarexport/save.go saveImage
        """
        parent = ""
        chains = self._chains(img)
        for i, (diff, chain) in enumerate(chains):
            fields = v1.v1_image(img if i == len(chains) - 1 else None)
            v1_id = v1.create_id(fields, chain, parent)
            yield i, diff, chain, v1_id, fields, parent
            parent = v1_id

    # -- Docker <= 24 ---------------------------------------------------------------------------
    def save_legacy(self) -> None:
        """moby: image/tarexport/save.go (20.10-24.x) save, saveImage, saveLayer"""
        manifest, repos, parent_links = [], {}, []
        saved: set[str] = set()
        diff_paths: dict[str, str] = {}
        for id, desc in self.images.items():
            img = desc.image
            created = _seconds(img.created)
            for _, diff, chain, v1_id, fields, parent in self._v1_layers(img):
                desc.layers.append(v1_id[7:])
                if v1_id[7:] in saved:
                    continue
                folder = v1_id[7:]
                self.tree.mkdir(folder, created)
                self.tree.add(f"{folder}/{LEGACY_VERSION_FILE}", created, b"1.0")
                self.tree.add(
                    f"{folder}/{LEGACY_CONFIG_FILE}",
                    created,
                    v1.legacy_json(fields, v1_id[7:], parent[7:], img.os),
                )
                layer_path = f"{folder}/{LEGACY_LAYER_FILE}"
                if diff in diff_paths:
                    rel = posixpath.relpath(diff_paths[diff], folder)
                    self.tree.symlink(layer_path, rel, created)
                else:
                    f, size = self._layer_stream(chain)
                    self.tree.add(layer_path, created, file=f, size=size)
                    diff_paths[diff] = layer_path
                saved.add(v1_id[7:])
            self.tree.add(f"{id[7:]}.json", created, img.raw_json)
            repo_tags = []
            for ref in desc.refs:
                repos.setdefault(familiar_name(ref), {})[ref.tag] = desc.layers[-1]
                repo_tags.append(familiar_string(ref))
            manifest.append(
                {
                    "Config": f"{id[7:]}.json",
                    "RepoTags": repo_tags or None,
                    "Layers": [f"{v}/{LEGACY_LAYER_FILE}" for v in desc.layers],
                }
            )
            parent_links.append((id, self.ex.image_store.get_parent(id)))
        self._finish(manifest, repos, parent_links)

    def _finish(self, manifest: list, repos: dict, parent_links: list) -> None:
        ids = {id for id, _ in parent_links}
        for item, (id, parent) in zip(manifest, parent_links):
            if parent and parent in ids and parent != id:  # moby: validatedParentLinks
                item["Parent"] = parent
        if repos:
            doc = jsonenc.sort_keys({k: jsonenc.sort_keys(v) for k, v in repos.items()})
            self.tree.add(LEGACY_REPOSITORIES_FILE, 0, jsonenc.encode(doc))
        self.tree.add(MANIFEST_FILE, 0, jsonenc.encode(manifest))

    # -- Docker >= 25 ----------------------------------------------------------------------------
    def save_docker(self) -> None:
        """moby: image/tarexport/save.go (25.0+) save, saveImage, saveLayer"""
        manifest, repos, parent_links, index = [], {}, [], []
        blobs = f"{oci.IMAGE_BLOBS_DIR}/sha256"
        written: set[str] = set()
        for id, desc in self.images.items():
            img = desc.image
            created = _seconds(img.created)
            layer_descs = []
            for _, diff, chain, v1_id, fields, parent in self._v1_layers(img):
                desc.layers.append(diff)
                f, size = self._layer_stream(chain)
                layer_descs.append(oci.Descriptor(oci.MEDIA_TYPE_IMAGE_LAYER, diff, size))
                if v1_id in written:
                    continue
                legacy = v1.legacy_json(fields, v1_id[7:], parent[7:], img.os)
                self.tree.add(f"{blobs}/{from_bytes(legacy)[7:]}", created, legacy)
                if f"{blobs}/{diff[7:]}" not in self.tree.entries:
                    self.tree.add(f"{blobs}/{diff[7:]}", created, file=f, size=size)
                written.add(v1_id)
            self.tree.mkdir(blobs, created)
            self.tree.chtimes(oci.IMAGE_BLOBS_DIR, created)
            self.tree.chtimes(blobs, created)
            self.tree.add(f"{blobs}/{id[7:]}", created, img.raw_json)
            config = oci.Descriptor(oci.MEDIA_TYPE_IMAGE_CONFIG, id, len(img.raw_json))
            data = oci.manifest_json(config, layer_descs)
            mdesc = oci.Descriptor(oci.MEDIA_TYPE_IMAGE_MANIFEST, from_bytes(data), len(data))
            self.tree.add(f"{blobs}/{mdesc.digest[7:]}", 0, data)
            repo_tags = []
            for ref in desc.refs:
                repos.setdefault(familiar_name(ref), {})[ref.tag] = desc.layers[-1][7:]
                repo_tags.append(familiar_string(ref))
                index.append(
                    oci.Descriptor(
                        mdesc.media_type,
                        mdesc.digest,
                        mdesc.size,
                        {oci.ANNOTATION_IMAGE_NAME: str(ref), oci.ANNOTATION_REF_NAME: ref.tag},
                    )
                )
            if not desc.refs:
                index.append(mdesc)
            manifest.append(
                {
                    "Config": f"{blobs}/{id[7:]}",
                    "RepoTags": repo_tags or None,
                    "Layers": [f"{blobs}/{d[7:]}" for d in desc.layers],
                }
            )
            parent_links.append((id, self.ex.image_store.get_parent(id)))
        self._finish(manifest, repos, parent_links)
        self.tree.add(oci.IMAGE_LAYOUT_FILE, 0, oci.layout_file())
        self.tree.add(oci.IMAGE_INDEX_FILE, 0, oci.index_json(index))

    # -- OCI image layout -------------------------------------------------------------------------
    def save_oci(self, gzip_layers: bool) -> None:
        """A plain OCI image layout (ours; Docker's graphdriver store has no such output)."""
        blobs = f"{oci.IMAGE_BLOBS_DIR}/sha256"
        index = []
        for id, desc in self.images.items():
            img = desc.image
            created = _seconds(img.created)
            layer_descs = []
            for diff, chain in self._chains(img):
                f, size = self._layer_stream(chain)
                media_type = oci.MEDIA_TYPE_IMAGE_LAYER
                digest = diff
                if gzip_layers:
                    f, size, digest = self._gzip(f)
                    media_type = oci.MEDIA_TYPE_IMAGE_LAYER_GZIP
                layer_descs.append(oci.Descriptor(media_type, digest, size))
                if f"{blobs}/{digest[7:]}" not in self.tree.entries:
                    self.tree.add(f"{blobs}/{digest[7:]}", created, file=f, size=size)
            self.tree.add(f"{blobs}/{id[7:]}", created, img.raw_json)
            config = oci.Descriptor(oci.MEDIA_TYPE_IMAGE_CONFIG, id, len(img.raw_json))
            data = oci.manifest_json(config, layer_descs)
            digest = from_bytes(data)
            self.tree.add(f"{blobs}/{digest[7:]}", 0, data)
            platform = {"architecture": img.base_img_arch(), "os": img.operating_system()}
            if img.variant:
                platform["variant"] = img.variant
            if not desc.refs:
                index.append(
                    oci.Descriptor(oci.MEDIA_TYPE_IMAGE_MANIFEST, digest, len(data), {}, platform)
                )
            for ref in desc.refs:
                annotations = {
                    oci.ANNOTATION_IMAGE_NAME: str(ref),
                    oci.ANNOTATION_REF_NAME: ref.tag,
                }
                index.append(
                    oci.Descriptor(
                        oci.MEDIA_TYPE_IMAGE_MANIFEST, digest, len(data), annotations, platform
                    )
                )
        self.tree.mkdir(blobs, 0)
        self.tree.add(oci.IMAGE_LAYOUT_FILE, 0, oci.layout_file())
        self.tree.add(oci.IMAGE_INDEX_FILE, 0, oci.index_json(index))

    def _gzip(self, f: BinaryIO) -> tuple[BinaryIO, int, str]:
        out = self.stack.enter_context(tempfile.TemporaryFile(dir=self.ex.tmp_dir))  # noqa: SIM115
        f.seek(0)
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
            shutil.copyfileobj(f, gz)
        size = out.tell()
        out.seek(0)
        h = hashlib.sha256()
        while chunk := out.read(1 << 20):
            h.update(chunk)
        return out, size, "sha256:" + h.hexdigest()
