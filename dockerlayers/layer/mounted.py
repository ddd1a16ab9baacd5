"""A container's read-write layer (and its init layer), and the handles on it.

Every diff of the RW layer (its tar, size and changes) is taken against the init layer, so the
files Docker puts there (/etc/hosts, /.dockerenv, ...) never show in `docker diff` or a commit.

moby: layer/mounted_layer.go (mountedLayer, referencedRWLayer)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

from dockerlayers.graphdriver.rootfs import RootFS

if TYPE_CHECKING:
    from dockerlayers.archive import Change
    from dockerlayers.layer.ro import RoLayer
    from dockerlayers.layer.store import LayerStore


class MountedLayer:
    """The RW layer named after its container: driver folders `mount_id` and `init_id`."""

    def __init__(
        self,
        store: LayerStore,
        name: str,
        mount_id: str,
        init_id: str,
        parent: RoLayer | None,
    ) -> None:
        self.layer_store = store
        self.name = name
        self.mount_id = mount_id
        self.init_id = init_id
        self.parent = parent
        self.references: set[RWLayer] = set()

    def __repr__(self) -> str:
        return f"<MountedLayer {self.name[:12]} mount-id={self.mount_id[:12]}>"

    def cache_parent(self) -> str | None:
        """The driver layer diffs are taken against: the init layer, else the image top.

        moby: layer/mounted_layer.go cacheParent
        """
        if self.init_id:
            return self.init_id
        if self.parent is not None:
            return self.parent.cache_id
        return None

    @property
    def driver(self):
        return self.layer_store.driver

    def tar_stream(self) -> BinaryIO:
        return self.driver.diff(self.mount_id, self.cache_parent())

    def size(self) -> int:
        return self.driver.diff_size(self.mount_id, self.cache_parent())

    def changes(self) -> list[Change]:
        return self.driver.changes(self.mount_id, self.cache_parent())

    def metadata(self) -> dict[str, str] | None:
        return self.driver.get_metadata(self.mount_id)


class RWLayer:
    """A handle on a MountedLayer; `mount`/`unmount` pair up, release it exactly once.

    moby: layer/mounted_layer.go referencedRWLayer
    """

    def __init__(self, layer: MountedLayer) -> None:
        self._layer = layer

    def __getattr__(self, name: str):
        return getattr(self._layer, name)

    def __repr__(self) -> str:
        return f"<RWLayer {self._layer.name[:12]}>"

    @property
    def mounted_layer(self) -> MountedLayer:
        return self._layer

    def mount(self, mount_label: str = "") -> RootFS:
        """Mount the layer (driver.get) and return the container's merged view."""
        return self._layer.driver.get(self._layer.mount_id)

    def unmount(self) -> None:
        self._layer.driver.put(self._layer.mount_id)

    def apply_diff(self, tar: BinaryIO) -> int:
        """Extract a layer tar into the RW layer.

        moby: layer/mounted_layer.go ApplyDiff
        """
        layer = self._layer
        size = layer.driver.apply_diff(layer.mount_id, layer.cache_parent(), tar)
        return size
