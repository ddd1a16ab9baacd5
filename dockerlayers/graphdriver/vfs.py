"""vfs: every layer is a complete copy of its parent; no stacking at all.

Simple and slow on purpose: the notebooks use it to show what overlay2 saves.

moby: daemon/graphdriver/vfs/driver.go
"""

from __future__ import annotations

import os

from dockerlayers.graphdriver.copy import copy_tree
from dockerlayers.graphdriver.driver import Driver, DriverError
from dockerlayers.graphdriver.rootfs import DirRootFS, RootFS
from dockerlayers.ioutils import remove_all


class VfsDriver(Driver):
    """Layers under `<root>/vfs/dir/<id>`, each a full copy."""

    name = "vfs"

    def __init__(self, root: str, **kwargs) -> None:
        super().__init__(root, **kwargs)
        os.makedirs(os.path.join(self.home, "dir"), mode=0o700, exist_ok=True)

    def layer_dir(self, id: str) -> str:
        return os.path.join(self.home, "dir", id)

    def create(self, id: str, parent: str | None = None) -> None:
        """moby: daemon/graphdriver/vfs/driver.go Create (mkdir, then CopyDir of the parent)"""
        path = self.layer_dir(id)
        if os.path.lexists(path):
            raise DriverError(17, f"file exists: {path}")
        if parent is not None and not self.exists(parent):
            raise DriverError(2, f"{parent}: no such layer")
        os.mkdir(path, 0o755)
        os.chmod(path, 0o755)
        try:
            if parent is not None:
                copy_tree(self.layer_dir(parent), path)
        except BaseException:
            remove_all(path, ignore_errors=True)
            raise

    def remove(self, id: str) -> None:
        remove_all(self.layer_dir(id), ignore_errors=True)
        self._refs.pop(id, None)
        self._mounted.pop(id, None)

    def exists(self, id: str) -> bool:
        return os.path.isdir(self.layer_dir(id))

    def parents(self, id: str) -> list[str]:
        return []  # a vfs layer does not remember where it was copied from

    def list_ids(self) -> list[str]:
        return sorted(os.listdir(os.path.join(self.home, "dir")))

    def _mount(self, id: str) -> RootFS:
        return DirRootFS(self.layer_dir(id), now=self.now)
