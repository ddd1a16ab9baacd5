"""Read-only image layers and the handles the store gives out for them.

moby: layer/ro_layer.go (roLayer, referencedCacheLayer), layer/empty.go
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from dockerlayers import platform
from dockerlayers._lazy import LazyModule
from dockerlayers._record import FrozenRecord
from dockerlayers.digest import DIGEST_SHA256_EMPTY_TAR, EMPTY_TAR
from dockerlayers.layer.errors import VerificationError

if TYPE_CHECKING:
    import queue

    from dockerlayers.layer.store import LayerStore

# a layer's tar is reassembled from its tar-split when it is read (save, push, export)
tarsplit = LazyModule("dockerlayers.archive.tarsplit")


class Metadata(FrozenRecord):
    """What a release reports for each layer it deleted.

    moby: layer/layer.go Metadata
    """

    _fields = ("chain_id", "diff_id", "size", "diff_size")
    chain_id: str
    diff_id: str
    size: int
    diff_size: int

    def __init__(self, chain_id: str, diff_id: str, size: int, diff_size: int) -> None:
        self._set(chain_id=chain_id, diff_id=diff_id, size=size, diff_size=diff_size)


class RoLayer:
    """One image layer: its identity, its driver folder (cache-id) and its parent.

    `reference_count` counts handles, child layers and RW layers that stand on it.
    """

    def __init__(
        self,
        store: LayerStore,
        chain_id: str,
        diff_id: str,
        parent: RoLayer | None,
        cache_id: str,
        size: int,
    ) -> None:
        self.layer_store = store
        self.chain_id = chain_id
        self.diff_id = diff_id
        self.parent = parent
        self.cache_id = cache_id
        self._size = size
        self.reference_count = 0
        self.references: set[Layer] = set()

    def __repr__(self) -> str:
        return f"<RoLayer {self.chain_id[:19]} cache-id={self.cache_id[:12]}>"

    def depth(self) -> int:
        """1 for a base layer, parent's depth + 1 otherwise."""
        depth, layer = 0, self
        while layer is not None:
            depth, layer = depth + 1, layer.parent
        return depth

    def size(self) -> int:
        """Size of the whole chain: this layer's diff plus every ancestor's."""
        total, layer = 0, self
        while layer is not None:
            total, layer = total + layer._size, layer.parent
        return total

    def diff_size(self) -> int:
        return self._size

    def metadata(self) -> dict[str, str] | None:
        return self.layer_store.driver.get_metadata(self.cache_id)

    def tar_stream(self) -> BinaryIO:
        """The layer's tar exactly as it was registered, checked against its DiffID
        before the caller reads a byte (spooled to a temp file).

        moby: layer/ro_layer.go TarStream (+ verifiedReadCloser)
        """
        import tempfile

        out = tempfile.TemporaryFile(dir=self.layer_store.tmp_dir)  # noqa: SIM115 (handed to the caller)
        try:
            self.layer_tar().write_to(out)
        except BaseException:
            out.close()
            raise
        out.seek(0)
        return out  # type: ignore[return-value]

    def layer_tar(self) -> LayerTar:
        """The layer's tar as a stream of known size, reassembled as it is read and
        checked against the DiffID at its end (no temp copy)."""
        store = self.layer_store
        path = store.store.tar_split_path(self.chain_id)
        base = store.driver.layer_dir(self.cache_id)
        root = base.rstrip("/") + "/"

        def open_file(name: str) -> int:
            path = root + name.lstrip("/")
            if ".." in name:  # registered names never climb out; a tampered file might
                path = os.path.normpath(path)
                if not (path + "/").startswith(root):
                    raise VerificationError(self.diff_id)
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)

        # a first pass: entries are streamed, never held
        size = tarsplit.tar_size(tarsplit.iter_tar_split(path))
        return LayerTar(
            self.chain_id, self.diff_id, size, lambda: tarsplit.iter_tar_split(path), open_file
        )

    def tar_stream_from(self, parent_chain_id: str | None) -> BinaryIO:
        """The diff of this layer against an ancestor (not verified).

        moby: layer/ro_layer.go TarStreamFrom
        """
        if not parent_chain_id:
            return self.tar_stream()
        ancestor = self.parent
        while ancestor is not None and ancestor.chain_id != parent_chain_id:
            ancestor = ancestor.parent
        if ancestor is None:
            raise ValueError(
                f"layer ID '{parent_chain_id}' is not a parent of the specified layer: "
                "cannot provide diff to non-parent"
            )
        return self.layer_store.driver.diff(self.cache_id, ancestor.cache_id)


class LayerTar:
    """A layer's tar stream of known `size`: tar-split segments and the layer folder's
    file contents, produced chunk by chunk; after the last chunk the SHA-256 of everything
    produced must be the DiffID, else VerificationError (whatever was already written is
    the caller's to discard).

    moby: layer/ro_layer.go TarStream (verifiedReadCloser checks the digest at EOF)
    """

    def __init__(
        self,
        chain_id: str,
        diff_id: str,
        size: int,
        entries: list[dict] | Callable[[], Iterable[dict]],
        open_file: Callable[[str], BinaryIO | int],
    ) -> None:
        """`entries`: the tar-split entries, or a function giving a fresh stream of them
        (read as the tar is produced, so a layer's entries are never all in memory)."""
        self.chain_id, self.diff_id, self.size = chain_id, diff_id, size
        self._entries, self._open_file = entries, open_file

    def chunks(self) -> Iterator[bytes]:
        """The stream in chunks of up to about 1 MiB; raises VerificationError after the last
        one if the stream does not hash to the DiffID."""
        digester = _Digester(threaded=self.size >= _THREAD_FROM)
        try:
            entries = self._entries() if callable(self._entries) else self._entries
            for chunk in tarsplit.iter_reassembled(entries, self._open_file):
                digester.update(chunk)
                yield chunk
        except (OSError, ValueError) as e:
            raise VerificationError(self.diff_id) from e
        finally:
            digest = digester.close()
        if digest != self.diff_id:
            raise VerificationError(self.diff_id)

    def write_to(self, out: BinaryIO) -> None:
        """Write all of the stream to `out` (verified when this returns)."""
        for chunk in self.chunks():
            out.write(chunk)


_THREAD_FROM = 1 << 20


class _Digester:
    """SHA-256 of a stream; for big streams on a second thread (hashlib lets go of the GIL
    on large buffers), so the check overlaps reading the next files and costs almost no
    wall time: `docker save` then runs at about the speed of `tar -c`."""

    def __init__(self, threaded: bool) -> None:
        import hashlib

        self._h = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] | None = None
        if threaded and platform.can_thread():  # else hashed in the calling thread
            import queue

            self._queue = queue.Queue(maxsize=8)  # at most ~8 MiB waiting
            self._thread = threading.Thread(target=self._run, name="layer-digest", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        assert self._queue is not None
        while (data := self._queue.get()) is not None:
            self._h.update(data)

    def update(self, data: bytes) -> None:
        if self._queue is None:
            self._h.update(data)
        else:
            self._queue.put(data)

    def close(self) -> str:
        """Wait for the hashing to finish; the digest of everything given."""
        if self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None
        return "sha256:" + self._h.hexdigest()


class Layer:
    """A handle on a RoLayer, as `register`/`get` return it; release it exactly once.

    moby: layer/ro_layer.go referencedCacheLayer
    """

    def __init__(self, layer: RoLayer) -> None:
        self._layer = layer

    def __getattr__(self, name: str):
        return getattr(self._layer, name)

    def __repr__(self) -> str:
        return f"<Layer {self._layer.chain_id[:19]}>"

    @property
    def ro_layer(self) -> RoLayer:
        return self._layer


class EmptyLayer:
    """The layer of an empty tar: no parent, no files, size 0.

    moby: layer/empty.go
    """

    chain_id = DIGEST_SHA256_EMPTY_TAR
    diff_id = DIGEST_SHA256_EMPTY_TAR
    parent = None

    def size(self) -> int:
        return 0

    def diff_size(self) -> int:
        return 0

    def metadata(self) -> dict[str, str]:
        return {}

    def tar_stream(self) -> BinaryIO:
        import io

        return io.BytesIO(EMPTY_TAR)

    def layer_tar(self) -> LayerTar:
        import base64

        payload = base64.b64encode(EMPTY_TAR).decode()
        segment = {"type": tarsplit.SEGMENT_TYPE, "payload": payload}
        return LayerTar(self.chain_id, self.diff_id, len(EMPTY_TAR), [segment], open)

    def tar_stream_from(self, parent_chain_id: str | None) -> BinaryIO:
        if parent_chain_id:
            raise ValueError("can't get parent tar stream of an empty layer")
        return self.tar_stream()


EMPTY_LAYER = EmptyLayer()
