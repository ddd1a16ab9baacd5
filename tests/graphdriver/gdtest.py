"""The drivers under test: each kind on a fresh root.

`driver` ids: the three drivers with their user-space union (what notebooks see), plus
`overlay2-kernel`, the same overlay2 layout mounted by the kernel's overlayfs where this
process may (root + overlay), skipped with a reason elsewhere.
"""

from __future__ import annotations

import pytest

from dockerlayers.graphdriver import new_driver
from dockerlayers.graphdriver.kernel import overlay_supported

DRIVERS = ["overlay2", "aufs", "vfs"]
KERNEL_OK = overlay_supported()
KERNEL_REASON = "needs root and the kernel's overlayfs"
needs_kernel = pytest.mark.skipif(not KERNEL_OK, reason=KERNEL_REASON)
IMPLS = [*DRIVERS, pytest.param("overlay2-kernel", marks=[needs_kernel, pytest.mark.kernel])]


def make(impl: str, root: str):
    if impl == "overlay2-kernel":
        return new_driver("overlay2", root, mounts="kernel")
    return new_driver(impl, root, mounts="user")
