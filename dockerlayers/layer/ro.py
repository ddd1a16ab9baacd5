"""Read-only image layers and the handles the store gives out for them.

moby: layer/ro_layer.go (roLayer, referencedCacheLayer), layer/empty.go
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from dockerlayers.archive.tarsplit import read_tar_split, reassemble
from dockerlayers.digest import DIGEST_SHA256_EMPTY_TAR, EMPTY_TAR
from dockerlayers.layer.errors import VerificationError

if TYPE_CHECKING:
    from dockerlayers.layer.store import LayerStore


@dataclass(frozen=True)
class Metadata:
    """What a release reports for each layer it deleted.

    moby: layer/layer.go Metadata
    """

    chain_id: str
    diff_id: str
    size: int
    diff_size: int


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
        """The layer's tar exactly as it was registered, checked against its DiffID.

        Headers and padding come from tar-split.json.gz, file contents from the layer's
        own driver folder.

        moby: layer/ro_layer.go TarStream (+ verifiedReadCloser)
        """
        store = self.layer_store
        entries = read_tar_split(store.store.tar_split_path(self.chain_id))
        base = store.driver.layer_dir(self.cache_id)

        def open_file(name: str) -> BinaryIO:
            path = os.path.normpath(os.path.join(base, name.lstrip("/")))
            if not (path + "/").startswith(base.rstrip("/") + "/"):
                raise VerificationError(self.chain_id)
            return open(path, "rb")

        out = tempfile.TemporaryFile(dir=store.tmp_dir)  # noqa: SIM115 (handed to the caller)
        digester = hashlib.sha256()
        writer = _HashingWriter(out, digester)
        try:
            reassemble(entries, open_file, writer)
        except (OSError, ValueError) as e:
            out.close()
            raise VerificationError(self.chain_id) from e
        if "sha256:" + digester.hexdigest() != self.diff_id:
            out.close()
            raise VerificationError(self.chain_id)
        out.seek(0)
        return out  # type: ignore[return-value]

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


class _HashingWriter:
    def __init__(self, out: BinaryIO, digester) -> None:
        self.out, self.digester = out, digester

    def write(self, data: bytes) -> int:
        self.digester.update(data)
        return self.out.write(data)


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

    def tar_stream_from(self, parent_chain_id: str | None) -> BinaryIO:
        if parent_chain_id:
            raise ValueError("can't get parent tar stream of an empty layer")
        return self.tar_stream()


EMPTY_LAYER = EmptyLayer()
