"""Image builders and views for the image suites and the hostile-input corpus: an image
service on a layer store, layer tars, commit-like image chains, `rich:1`, `docker save` to
bytes, archive members out and in, merged views."""

from __future__ import annotations

import io
import os
import stat
import tarfile

from dockerlayers.graphdriver import new_driver
from dockerlayers.image import ContainerConfig, ImageService, new_child_image
from dockerlayers.image.jsonenc import format_rfc3339_nano
from dockerlayers.layer import LayerStore
from dockerlayers.stringid import IDGenerator

T0 = 1_700_000_000 * 1_000_000_000


class Clock:
    def __init__(self) -> None:
        self.ns = T0

    def __call__(self) -> int:
        self.ns += 1_000_000_000
        return self.ns


def make_service(root: str, driver: str = "overlay2", seed: int = 1) -> ImageService:
    d = new_driver(driver, root, mounts="user")
    layers = LayerStore(root, d, ids=IDGenerator(seed))
    return ImageService(root, layers, now_ns=Clock())


def layer_tar(files: dict[str, object], mtime: int = 1_600_000_000) -> bytes:
    """A layer tar. Values: bytes (file), ("dir",), ("symlink", target),
    ("link", target), ("file", data, mode)."""
    buf = io.BytesIO()
    old = tarfile.RECORDSIZE
    tarfile.RECORDSIZE = 512
    try:
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for name, spec in files.items():
                info = tarfile.TarInfo(name)
                info.mtime = mtime
                data = b""
                if isinstance(spec, bytes):
                    info.mode, data = 0o644, spec
                elif spec[0] == "dir":
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                elif spec[0] == "symlink":
                    info.type, info.linkname, info.mode = tarfile.SYMTYPE, spec[1], 0o777
                elif spec[0] == "link":
                    info.type, info.linkname, info.mode = tarfile.LNKTYPE, spec[1], 0o644
                else:
                    data, info.mode = spec[1], spec[2]
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data) if data else None)
    finally:
        tarfile.RECORDSIZE = old
    return buf.getvalue()


def build_image(
    service: ImageService,
    layers: list[bytes | None],
    tag: str | None = None,
    cmd: list[str] | None = None,
    parent: str = "",
) -> str:
    """Commit-like: each entry is a layer tar (None: a metadata-only step)."""
    from dockerlayers.digest import DIGEST_SHA256_EMPTY_TAR

    img = service.image_store.get(parent) if parent else None
    chain = img.rootfs.chain_id() if img else ""
    id = parent
    for i, tar in enumerate(layers):
        handle = None
        diff = DIGEST_SHA256_EMPTY_TAR
        if tar is not None:
            handle = service.layer_store.register(tar, chain or None)
            diff, chain = handle.diff_id, handle.chain_id
        step_cmd = ["/bin/sh", "-c", f"step {i}"]
        child = new_child_image(
            img,
            diff_id=diff,
            created=format_rfc3339_nano(service.now_ns()),
            container_config=ContainerConfig(cmd=step_cmd),
            config=ContainerConfig(cmd=cmd or ["sh"], env=["PATH=/bin"]),
            container_id="c" * 64,
        )
        id = service.create_image(child.marshal(), parent=id)
        if handle is not None:
            service.layer_store.release(handle)
        img = service.image_store.get(id)
    if tag:
        service.tag(id, tag)
    return id


def merged_view(service: ImageService, image_id: str) -> dict[str, tuple]:
    """The image's merged filesystem: path -> (kind, perm, content or target)."""
    layer = service.image_store.get_layer(image_id)
    driver = service.layer_store.driver
    fs = driver.get(layer.cache_id)
    try:
        return rootfs_view(fs)
    finally:
        driver.put(layer.cache_id)


def rootfs_view(fs) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for top, dirs, files in fs.walk("/"):
        for name in dirs + files:
            path = (top.rstrip("/") + "/" + name) if top != "/" else "/" + name
            st = fs.lstat(path)
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                out[path] = ("dir", perm, None)
            elif stat.S_ISLNK(st.st_mode):
                out[path] = ("symlink", None, fs.readlink(path))
            else:
                out[path] = ("file", perm, fs.read_bytes(path))
    return out


def host_view(root: str) -> dict[str, tuple]:
    """The same view of a plain folder (e.g. umoci's unpacked rootfs)."""
    out: dict[str, tuple] = {}
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(top, name)
            path = "/" + os.path.relpath(full, root)
            st = os.lstat(full)
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                out[path] = ("dir", perm, None)
            elif stat.S_ISLNK(st.st_mode):
                out[path] = ("symlink", None, os.readlink(full))
            else:
                with open(full, "rb") as f:
                    out[path] = ("file", perm, f.read())
    return out


def warm(service: ImageService) -> None:
    """Register and release one layer, so that folders the layer store makes on first use
    (`layerdb/tmp`) exist before a root is hashed."""
    service.layer_store.release(service.layer_store.register(layer_tar({"w": b"w"})))


def rich_image(service, tag="rich:1"):
    """Several layers: files, modes, symlinks, hard links, a deletion, a replaced
    folder, a metadata-only step and a DiffID used twice."""
    again = layer_tar({"same": b"same"})
    layers = [
        layer_tar(
            {
                "bin/": ("dir",),
                "bin/tool": ("file", b"#!/bin/sh\n", 0o755),
                "etc/": ("dir",),
                "etc/conf": b"v1",
                "etc/old": b"to delete",
                "data/": ("dir",),
                "data/a": b"a",
                "data/sub/": ("dir",),
                "data/sub/b": b"b",
                "link": ("symlink", "etc/conf"),
                "hard": ("link", "etc/conf"),
            }
        ),
        again,
        None,
        layer_tar(
            {
                "etc/": ("dir",),
                "etc/.wh.old": b"",
                "etc/conf": ("file", b"v2", 0o600),
                "data/": ("dir",),
                "data/.wh..wh..opq": b"",
                "data/new": b"new",
                "abs": ("symlink", "/etc/conf"),
            }
        ),
        again,
    ]
    return build_image(service, layers, tag=tag)


def save_bytes(service, names, fmt, tmp_path):
    if fmt == "oci-dir":
        out = str(tmp_path / "layout")
        service.save(names, out, "oci-dir")
        return out
    buf = io.BytesIO()
    if fmt == "oci-gzip":
        service.save(names, buf, "oci", gzip_layers=True)
    else:
        service.save(names, buf, fmt)
    return buf.getvalue()


def archive_members(data: bytes) -> dict[str, object]:
    out: dict[str, object] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        for m in tf.getmembers():
            if m.isdir():
                out[m.name] = ("dir",)
            elif m.issym():
                out[m.name] = ("symlink", m.linkname)
            else:
                out[m.name] = tf.extractfile(m).read()
    return out


def pack(members: dict[str, object]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, spec in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(spec, bytes):
                info.size = len(spec)
                tf.addfile(info, io.BytesIO(spec))
                continue
            kind = spec[0]
            if kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, spec[1]
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            tf.addfile(info)
    return buf.getvalue()


def legacy_without_manifest(service, tmp_path, id, name=None):
    m = archive_members(save_bytes(service, [name or id], "docker-legacy", tmp_path))
    del m["manifest.json"]
    del m[f"{id[7:]}.json"]
    return m
