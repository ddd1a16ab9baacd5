"""The image store: configs by image ID, each holding a reference on its top layer.

Files live under `<root>/image/<driver>/imagedb`. Opening a store on an existing root
restores every image and re-takes its layer reference, as dockerd does at start.

moby: image/store.go
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockerlayers.image.errors import ImageError, ImageNotFound
from dockerlayers.image.fs import FSStoreBackend
from dockerlayers.image.image import Image, new_from_json
from dockerlayers.layer import Layer, LayerDoesNotExist, LayerStore, Metadata

if TYPE_CHECKING:
    import logging


def _log() -> logging.Logger:
    """The module's logger; logging loads only when there is something to log."""
    import logging

    return logging.getLogger(__name__)


@dataclass
class _ImageMeta:
    """moby: image/store.go imageMeta"""

    layer: Layer | None
    children: set[str] = field(default_factory=set)


class ImageStore:
    """moby: image/store.go store"""

    def __init__(self, root: str, layer_store: LayerStore, *, now_ns=None) -> None:
        """`root` is the daemon root; `now_ns` returns the clock as integer nanoseconds
        (for `lastUpdated`)."""
        self.layer_store = layer_store
        self.root = os.path.join(
            os.path.abspath(root), "image", layer_store.driver_name(), "imagedb"
        )
        self.fs = FSStoreBackend(self.root)
        self.images: dict[str, _ImageMeta] = {}
        self._lock = threading.RLock()
        self._now_ns = now_ns
        self._restore()

    def __repr__(self) -> str:
        return f"<ImageStore {self.root} {len(self.images)} images>"

    def __len__(self) -> int:
        return len(self.images)

    def __contains__(self, id: str) -> bool:
        return id in self.images

    def _restore(self) -> None:
        """Load every image; take one reference on each top layer; rebuild child links.

        moby: image/store.go restore
        """
        for dgst in self.fs.walk():
            try:
                img = self.get(dgst)
            except Exception as e:  # moby logs "invalid image" and goes on
                _log().error("invalid image %s, %s", dgst, e)
                continue
            layer = None
            chain = img.rootfs.chain_id() if img.rootfs else ""
            if chain:
                try:
                    layer = self.layer_store.get(chain)
                except LayerDoesNotExist:
                    _log().error("layer does not exist, not restoring image %s, %s", dgst, chain)
                    continue
            self.images[dgst] = _ImageMeta(layer)
        for id in self.images:
            parent = self.get_parent(id)
            if parent and parent in self.images:
                self.images[parent].children.add(id)

    def create(self, config: bytes) -> str:
        """Store a config; returns the image ID (the sha256 of `config`). The image takes a
        reference on the layer of its `rootfs` ChainID, which must exist.

        moby: image/store.go Create
        """
        img = self.parse(config)
        with self._lock:
            id = img.id
            if id in self.images:
                return id
            existed = self.fs.exists(id)
            self.fs.set(config)
            layer = None
            chain = img.rootfs.chain_id()
            if chain:
                try:
                    layer = self.layer_store.get(chain)
                except LayerDoesNotExist as e:
                    if not existed:  # ours, not moby's: leave nothing behind
                        self.fs.delete(id)
                    raise ImageError(f"failed to get layer {chain}: {e}") from None
            self.images[id] = _ImageMeta(layer)
            return id

    @staticmethod
    def parse(config: bytes) -> Image:
        """The image a config describes, checked as Create checks it (ImageError if not)."""
        try:
            img = new_from_json(config)
        except ValueError as e:
            raise ImageError(str(e)) from None
        non_empty = sum(1 for h in img.history if not h.empty_layer)
        if non_empty > len(img.rootfs.diff_ids):
            raise ImageError("too many non-empty layers in History section")
        return img

    def get(self, id: str) -> Image:
        """The image `id`, its config verified against the ID; `parent` from metadata.

        moby: image/store.go Get
        """
        try:
            config = self.fs.get(id)
        except FileNotFoundError:
            raise ImageNotFound(f"No such image: {id}") from None
        except ValueError as e:
            raise ImageError(str(e)) from None
        try:
            img = new_from_json(config)
        except ValueError as e:
            raise ImageError(str(e)) from None
        img.id = id
        img.parent = self.get_parent(id)
        return img

    def delete(self, id: str) -> list[Metadata]:
        """Remove an image; release its layer reference; returns the deleted layers.

        moby: image/store.go Delete
        """
        with self._lock:
            meta = self.images.get(id)
            if meta is None:
                raise ImageNotFound(f"unrecognized image ID {id}")
            for child in meta.children:
                self.fs.delete_metadata(child, "parent")
            parent = self.get_parent(id)
            if parent and parent in self.images:
                self.images[parent].children.discard(id)
            del self.images[id]
            self.fs.delete(id)
            if meta.layer is not None:
                return self.layer_store.release(meta.layer)
            return []

    def search(self, term: str) -> str:
        """The image ID starting with `term` (`sha256:` optional).

        moby: image/store.go Search (digestset.Lookup)
        """
        hex_part = term[7:] if term.startswith("sha256:") else term
        if not hex_part or any(c not in "0123456789abcdef" for c in hex_part):
            raise ImageNotFound(f"No such image: {term}")
        with self._lock:
            found = [id for id in self.images if id[7:].startswith(hex_part)]
        if not found:
            raise ImageNotFound(f"No such image: {term}")
        if len(found) > 1:
            raise ImageNotFound("ambiguous digest string")
        return found[0]

    def set_parent(self, id: str, parent: str) -> None:
        """moby: image/store.go SetParent"""
        with self._lock:
            if parent not in self.images:
                raise ImageNotFound(f"unknown parent image ID {parent}")
            old = self.get_parent(id)
            if old and old in self.images:
                self.images[old].children.discard(id)
            self.images[parent].children.add(id)
            self.fs.set_metadata(id, "parent", parent.encode())

    def get_parent(self, id: str) -> str:
        """The locally recorded parent image ID, or ""."""
        try:
            return self.fs.get_metadata(id, "parent").decode()
        except (FileNotFoundError, UnicodeDecodeError):
            return ""

    def set_last_updated(self, id: str) -> None:
        """moby: image/store.go SetLastUpdated"""
        from dockerlayers.image.jsonenc import format_rfc3339_nano

        now = self._now_ns() if self._now_ns else _wall_ns()
        self.fs.set_metadata(id, "lastUpdated", format_rfc3339_nano(now).encode())

    def get_last_updated(self, id: str) -> str:
        try:
            return self.fs.get_metadata(id, "lastUpdated").decode()
        except FileNotFoundError:
            return ""

    def children(self, id: str) -> list[str]:
        """moby: image/store.go Children"""
        with self._lock:
            meta = self.images.get(id)
            return sorted(meta.children) if meta else []

    def heads(self) -> dict[str, Image]:
        """Images with no children. moby: image/store.go Heads"""
        return {id: self.get(id) for id, m in list(self.images.items()) if not m.children}

    def map(self) -> dict[str, Image]:
        """Every image. moby: image/store.go Map"""
        return {id: self.get(id) for id in list(self.images)}

    def get_layer(self, id: str) -> Layer | None:
        """The layer handle the image holds (do not release it)."""
        meta = self.images.get(id)
        return meta.layer if meta else None


def _wall_ns() -> int:
    import time

    return time.time_ns()
