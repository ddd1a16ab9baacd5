"""Every copy of a path in an image's layers — including the ones later steps "deleted".

A `RUN rm secret` does not remove `secret` from the image: it adds a layer holding a
whiteout (`.wh.secret`) that hides the file in the merged view, while the layer that
added the file still holds its bytes. Anyone with the image (`docker save`, a registry
pull) can read that layer's tar. This module does what a scanner or an attacker does:

    copies = find_copies(daemon, "app:latest", "/secret.txt")
    for c in copies:
        print(c.index, c.created_by, c.kind, "visible" if c.visible else f"hidden by {c.hidden_by}")
    data = read_copy(daemon, "app:latest", "/secret.txt", copies[0].index)

It reads each layer's tar exactly as stored (`Layer.tar_stream()` of the layer store, the
bytes whose sha256 is the layer's DiffID); it does not use any merged view.

moby: layer/layer_store.go (TarStream), pkg/archive/whiteouts.go (`.wh.` names,
`.wh..wh..opq`)
"""

from __future__ import annotations

import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dockerlayers.digest import chain_id

WHITEOUT_PREFIX = ".wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"

__all__ = ["Hider", "LayerInfo", "PathCopy", "find_copies", "image_layers", "read_copy"]


@dataclass(frozen=True)
class LayerInfo:
    """One layer of an image: its position (0 = bottom), DiffID, ChainID and the history
    entry (`created_by`) of the build step that made it."""

    index: int
    diff_id: str
    chain_id: str
    created_by: str


@dataclass(frozen=True)
class Hider:
    """What hides a copy in the merged view, and in which layer."""

    layer: LayerInfo
    how: str  # whiteout, opaque directory, parent removed, parent replaced, overwritten, ...
    entry: str  # the tar entry that does it

    def __str__(self) -> str:
        return f"layer {self.layer.index} ({self.how}: {self.entry}) — {self.layer.created_by}"


@dataclass(frozen=True)
class PathCopy:
    """A copy of the path held in one layer's tar."""

    layer: LayerInfo
    kind: str  # "file", "directory", "symlink", "hardlink", "other"
    size: int
    mode: int
    linkname: str
    hidden_by: Hider | None

    @property
    def index(self) -> int:
        return self.layer.index

    @property
    def created_by(self) -> str:
        return self.layer.created_by

    @property
    def visible(self) -> bool:
        """Whether this copy is what a container from the image sees."""
        return self.hidden_by is None


def _daemon(obj: Any) -> Any:
    """Accept a DockerClient, a Daemon or anything with `.daemon`."""
    return getattr(obj, "daemon", obj)


def _image(daemon: Any, image: Any) -> Any:
    ref = image if isinstance(image, str) else getattr(image, "id", None)
    if ref is None:
        raise TypeError("image must be an image ID, a reference or an Image")
    return daemon.image_service.get_image(ref)


def image_layers(daemon_or_client: Any, image: Any) -> list[LayerInfo]:
    """The image's layers bottom to top, each with the history entry that made it."""
    daemon = _daemon(daemon_or_client)
    img = _image(daemon, image)
    diff_ids = list(img.rootfs.diff_ids) if img.rootfs else []
    steps = [h.created_by or h.comment for h in img.history if not h.empty_layer]
    out = []
    for i, diff_id in enumerate(diff_ids):
        created_by = steps[i] if i < len(steps) else ""
        out.append(LayerInfo(i, diff_id, chain_id(diff_ids[: i + 1]) or "", created_by))
    return out


def _members(daemon: Any, layer: LayerInfo) -> Iterator[tuple[tarfile.TarInfo, tarfile.TarFile]]:
    ls = daemon.layer_store
    handle = ls.get(layer.chain_id)
    try:
        with handle.tar_stream() as stream, tarfile.open(fileobj=stream, mode="r|") as tf:
            for member in tf:
                yield member, tf
    finally:
        ls.release(handle)


def _clean(path: str) -> str:
    path = posixpath.normpath("/" + path.lstrip("/"))
    return "/" if path in ("/", "//") else path


def _kind(m: tarfile.TarInfo) -> str:
    if m.isreg():
        return "file"
    if m.isdir():
        return "directory"
    if m.issym():
        return "symlink"
    if m.islnk():
        return "hardlink"
    return "other"


def find_copies(daemon_or_client: Any, image: Any, path: str) -> list[PathCopy]:
    """Every layer of `image` whose tar holds an entry for `path`, bottom to top, each with
    the layer (and entry) that hides it from the merged view, if any."""
    daemon = _daemon(daemon_or_client)
    target = _clean(path)
    ancestors = []
    p = posixpath.dirname(target)
    while p != "/":
        ancestors.append(p)
        p = posixpath.dirname(p)
    copies: list[tuple[LayerInfo, tarfile.TarInfo]] = []
    hiders: list[tuple[int, Hider]] = []
    for layer in image_layers(daemon, image):
        found = None
        for m, _tf in _members(daemon, layer):
            name = _clean(m.name)
            base = posixpath.basename(name)
            parent = posixpath.dirname(name)
            if name == target:
                found = m
            elif base == WHITEOUT_OPAQUE and (
                parent in ancestors or (parent == "/" and target != "/")
            ):
                hiders.append((layer.index, Hider(layer, "opaque directory", name)))
            elif base.startswith(WHITEOUT_PREFIX):
                removed = posixpath.join(parent, base[len(WHITEOUT_PREFIX) :])
                if removed == target:
                    hiders.append((layer.index, Hider(layer, "whiteout", name)))
                elif removed in ancestors:
                    hiders.append((layer.index, Hider(layer, "parent removed", name)))
            elif name in ancestors and not m.isdir():
                hiders.append((layer.index, Hider(layer, "parent replaced", name)))
        if found is not None:
            copies.append((layer, found))
            how = "overwritten by a directory" if found.isdir() else "overwritten"
            hiders.append((layer.index, Hider(layer, how, _clean(found.name))))
    out = []
    for layer, m in copies:
        later = [h for i, h in hiders if i > layer.index]
        if m.isdir():
            # a folder listed again in a later layer is merged with this one, not replaced
            later = [h for h in later if h.how != "overwritten by a directory"]
        hidden = later[0] if later else None
        out.append(PathCopy(layer, _kind(m), m.size, m.mode, m.linkname, hidden))
    return out


def read_copy(daemon_or_client: Any, image: Any, path: str, index: int) -> bytes:
    """The bytes of `path` as stored in layer `index` of `image` (read from that layer's
    tar, whatever later layers did to it). KeyError if that layer holds no such file."""
    daemon = _daemon(daemon_or_client)
    target = _clean(path)
    layers = image_layers(daemon, image)
    if not 0 <= index < len(layers):
        raise IndexError(f"image has {len(layers)} layers, no layer {index}")
    for m, tf in _members(daemon, layers[index]):
        if _clean(m.name) == target:
            if m.issym():
                return m.linkname.encode()
            f = tf.extractfile(m)
            if f is None:
                raise KeyError(f"{target} in layer {index} is a {_kind(m)}, not a file")
            return f.read()
    raise KeyError(f"{target} is not in layer {index}")
