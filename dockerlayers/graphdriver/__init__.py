"""Graph drivers: where layer folders live and how they are stacked.

moby: daemon/graphdriver
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dockerlayers._lazy import lazy_exports
from dockerlayers.graphdriver.driver import MOUNT_MODES, Driver, DriverError
from dockerlayers.graphdriver.rootfs import DirRootFS, RootFS

if TYPE_CHECKING:
    from dockerlayers.graphdriver.union import UnionRootFS

# the user-space union loads when a layer is first mounted without the kernel
__getattr__ = lazy_exports(__name__, {"UnionRootFS": "dockerlayers.graphdriver.union"})

DRIVERS = ("overlay2", "aufs", "vfs")

__all__ = [
    "DRIVERS",
    "MOUNT_MODES",
    "DirRootFS",
    "Driver",
    "DriverError",
    "RootFS",
    "UnionRootFS",
    "new_driver",
]


def new_driver(
    name: str,
    root: str,
    *,
    mounts: str = "auto",
    now: Callable[[], float] | None = None,
    ids=None,
) -> Driver:
    """Make the graph driver `name` with its files under `<root>/<name>`.

    moby: daemon/graphdriver/driver.go New
    """
    if name == "overlay2":
        from dockerlayers.graphdriver.overlay2 import Overlay2Driver

        return Overlay2Driver(root, mounts=mounts, now=now, ids=ids)
    if name == "aufs":
        from dockerlayers.graphdriver.aufs import AufsDriver

        return AufsDriver(root, mounts=mounts, now=now)
    if name == "vfs":
        from dockerlayers.graphdriver.vfs import VfsDriver

        return VfsDriver(root, mounts=mounts, now=now)
    raise DriverError(22, f"graphdriver plugins are not supported: {name} not found")
