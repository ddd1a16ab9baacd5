"""The drivers the suites run on: the library's one list, as each suite parametrizes it.

`DRIVERS` is `dockerlayers.graphdriver.DRIVERS` (the three drivers with their user-space
union, what notebooks see). `IMPLS` adds `overlay2-kernel`, the same overlay2 layout mounted
by the kernel's overlayfs where this process may (root + overlay), skipped with a reason
elsewhere; `DRIVER_PARAMS` is the same set as (driver, mounts) pairs.
"""

from __future__ import annotations

import pytest

from dockerlayers.graphdriver import DRIVERS, new_driver
from dockerlayers.graphdriver.kernel import overlay_supported

KERNEL_OK = overlay_supported()
KERNEL_REASON = "needs root and the kernel's overlayfs"
needs_kernel = pytest.mark.skipif(not KERNEL_OK, reason=KERNEL_REASON)

#: driver ids of the graph driver suites: each driver, then overlay2 on the kernel
IMPLS = [*DRIVERS, pytest.param("overlay2-kernel", marks=[needs_kernel, pytest.mark.kernel])]

#: (driver, mounts) pairs every per-driver daemon test runs on; the kernel's overlayfs where
#: allowed
DRIVER_PARAMS = [
    *(pytest.param((name, "user"), id=f"{name}-user") for name in DRIVERS),
    pytest.param(
        ("overlay2", "kernel"),
        id="overlay2-kernel",
        marks=[
            pytest.mark.kernel,
            pytest.mark.skipif(not KERNEL_OK, reason="needs root and overlayfs"),
        ],
    ),
]


def make(impl: str, root: str):
    """A driver of `impl` (an id of `IMPLS`) on `root`."""
    if impl == "overlay2-kernel":
        return new_driver("overlay2", root, mounts="kernel")
    return new_driver(impl, root, mounts="user")


__all__ = [
    "DRIVERS",
    "DRIVER_PARAMS",
    "IMPLS",
    "KERNEL_OK",
    "KERNEL_REASON",
    "make",
    "needs_kernel",
]
