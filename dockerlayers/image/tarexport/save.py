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
from typing import BinaryIO, Protocol

from dockerlayers.archive import TarHeader, TarWriter
from dockerlayers.archive.tarheader import TYPE_DIR, TYPE_REG, TYPE_SYMLINK
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
    FORMAT_DOCKER_25,
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
from dockerlayers.ioutils import remove_all


@dataclass
class _ImageDescriptor:
    """moby: image/tarexport/save.go imageDescriptor"""

    image: Image
    refs: list[Reference] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)


class _Source(Protocol):
    """A file's content written on demand: a layer's LayerTar (reassembled and verified as
    it is written) or a spooled temp file."""

    size: int

    def write_to(self, out: BinaryIO) -> None: ...


@dataclass
class _Spooled:
    file: BinaryIO
    size: int

    def write_to(self, out: BinaryIO) -> None:
        self.file.seek(0)
        shutil.copyfileobj(self.file, out, 1 << 20)


@dataclass
class _Entry:
    kind: str  # "dir" | "file" | "symlink"
    mtime: int
    data: bytes | None = None
    source: _Source | None = None
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

    def add(
        self, path: str, mtime: int, data: bytes | None = None, source: _Source | None = None
    ) -> None:
        parent = posixpath.dirname(path)
        if parent and parent not in self.entries:
            self.mkdir(parent, mtime)
        size = len(data) if data is not None else source.size if source is not None else 0
        self.entries[path] = _Entry("file", mtime, data, source, size)

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
                    assert e.source is not None
                    tw.write_header(hdr)
                    e.source.write_to(tw)  # type: ignore[arg-type]  (TarWriter.write)
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
                        assert e.source is not None
                        e.source.write_to(f)
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
    # Layers stream straight into the output and are verified at their end; when the
    # output cannot be taken back on failure (a pipe), each is verified into a temp file
    # first, as moby does with its temp folder.
    stream = isinstance(out, str) or _seekable(out)
    with contextlib.ExitStack() as stack:
        tree = _Tree()
        session = _Session(ex, images, tree, stack, stream)
        if format in (FORMAT_DOCKER, FORMAT_DOCKER_LEGACY):
            session.save_docker()
        elif format == FORMAT_DOCKER_25:
            session.save_docker25()
        else:
            session.save_oci(gzip_layers)
        if format == FORMAT_OCI_DIR:
            if not isinstance(out, str):
                raise ValueError("oci-dir needs a folder path")
            _write_dir(tree, out)
        elif isinstance(out, str):
            tmp = out + ".tmp"
            try:
                with open(tmp, "wb") as f:
                    tree.write_tar(f)
                os.replace(tmp, out)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        elif stream:
            start = out.tell()
            try:
                tree.write_tar(out)
            except BaseException:
                out.seek(start)
                out.truncate()
                raise
        else:
            tree.write_tar(out)
    for id in images:
        ex._event(id, id, "save")


def _seekable(out: BinaryIO) -> bool:
    try:
        return out.seekable() and out.tell() >= 0
    except (AttributeError, OSError, ValueError):
        return False


def _write_dir(tree: _Tree, dest: str) -> None:
    """Write an OCI layout folder at `dest` (absent or empty) in full, or not at all."""
    if os.path.exists(dest) and os.listdir(dest):
        raise ImageError(f"destination {dest} is not empty")
    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-save-", dir=parent)
    try:
        tree.write_dir(tmp)
        os.chmod(tmp, 0o755)
        if os.path.exists(dest):
            os.rmdir(dest)
        os.rename(tmp, dest)
    except BaseException:
        remove_all(tmp, ignore_errors=True)
        raise


class _Session:
    """moby: image/tarexport/save.go saveSession"""

    def __init__(
        self, ex: TarExporter, images, tree: _Tree, stack: contextlib.ExitStack, stream: bool
    ):
        self.ex, self.images, self.tree, self.stack = ex, images, tree, stack
        self.stream = stream
        self._sources: dict[str, _Source] = {}  # by DiffID: the same DiffID, the same bytes
        self._gzipped: dict[str, tuple[_Source, str]] = {}  # by DiffID: (source, digest)

    # -- layers ------------------------------------------------------------------------------
    def _layer_stream(self, diff: str, chain: str) -> _Source:
        """The layer's tar, of known size: streamed (verified at its end) or spooled
        (verified before anything is written), made once per DiffID. The layer is held
        until the save ends."""
        if diff not in self._sources:
            handle = self.ex.layer_store.get(chain)
            self.stack.callback(self.ex.layer_store.release, handle)
            if self.stream:
                self._sources[diff] = handle.layer_tar()
            else:
                f = handle.tar_stream()
                self.stack.callback(f.close)
                f.seek(0, os.SEEK_END)
                self._sources[diff] = _Spooled(f, f.tell())
        return self._sources[diff]

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
    def save_docker(self) -> None:
        """The default: Docker 20.10's layout.

        moby: image/tarexport/save.go (v20.10.24) save, saveImage, saveLayer
        """
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
                    self.tree.add(layer_path, created, source=self._layer_stream(diff, chain))
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
    def save_docker25(self) -> None:
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
                src = self._layer_stream(diff, chain)
                layer_descs.append(oci.Descriptor(oci.MEDIA_TYPE_IMAGE_LAYER, diff, src.size))
                if v1_id in written:
                    continue
                legacy = v1.legacy_json(fields, v1_id[7:], parent[7:], img.os)
                self.tree.add(f"{blobs}/{from_bytes(legacy)[7:]}", created, legacy)
                if f"{blobs}/{diff[7:]}" not in self.tree.entries:
                    self.tree.add(f"{blobs}/{diff[7:]}", created, source=src)
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
                src = self._layer_stream(diff, chain)
                media_type = oci.MEDIA_TYPE_IMAGE_LAYER
                digest = diff
                if gzip_layers:
                    src, digest = self._gzip(diff, src)
                    media_type = oci.MEDIA_TYPE_IMAGE_LAYER_GZIP
                layer_descs.append(oci.Descriptor(media_type, digest, src.size))
                if f"{blobs}/{digest[7:]}" not in self.tree.entries:
                    self.tree.add(f"{blobs}/{digest[7:]}", created, source=src)
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

    def _gzip(self, diff: str, src: _Source) -> tuple[_Source, str]:
        """The layer gzip'd into a temp file (its digest is needed before it is written)."""
        if diff not in self._gzipped:
            out = self.stack.enter_context(tempfile.TemporaryFile(dir=self.ex.tmp_dir))  # noqa: SIM115
            h = hashlib.sha256()
            with gzip.GzipFile(filename="", mode="wb", fileobj=_Hashing(out, h), mtime=0) as gz:
                src.write_to(gz)  # type: ignore[arg-type]
            self._gzipped[diff] = (_Spooled(out, out.tell()), "sha256:" + h.hexdigest())
        return self._gzipped[diff]


class _Hashing:
    """A writer that hashes what passes through it."""

    def __init__(self, out: BinaryIO, h) -> None:
        self.out, self.h = out, h

    def write(self, data) -> int:
        self.h.update(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()
