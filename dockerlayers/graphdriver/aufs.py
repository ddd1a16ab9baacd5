"""aufs: the layout the seed article walks through (removed from Docker in 24.0).

    aufs/layers/<id>    the parent ids, nearest first, one per line
    aufs/diff/<id>/     the layer's own files; whiteouts stored as `.wh.<name>` files
    aufs/mnt/<id>/      where the union is mounted

No kernel here has aufs, so `get` always serves the union in user space; `mnt/<id>` stays
an empty mount point, as it is on a host where the layer is not mounted.

moby 20.10: daemon/graphdriver/aufs/aufs.go
"""

from __future__ import annotations

import os
import tempfile
from typing import BinaryIO

from dockerlayers.archive import Change, changes_aufs, directory_size, tar_directory, unpack_layer
from dockerlayers.graphdriver import kernel
from dockerlayers.graphdriver.driver import Driver, DriverError
from dockerlayers.graphdriver.rootfs import DirRootFS, RootFS
from dockerlayers.graphdriver.union import UnionRootFS
from dockerlayers.ioutils import remove_all


class AufsDriver(Driver):
    """The aufs graph driver, its union served in user space."""

    name = "aufs"

    def __init__(self, root: str, **kwargs) -> None:
        super().__init__(root, **kwargs)
        for sub in ("layers", "diff", "mnt"):
            os.makedirs(os.path.join(self.home, sub), mode=0o700, exist_ok=True)
        # moby's Init removes what an interrupted Remove left behind.
        for sub in ("diff", "mnt"):
            base = os.path.join(self.home, sub)
            for name in os.listdir(base):
                if name.endswith("-removing"):
                    remove_all(os.path.join(base, name), ignore_errors=True)

    def layer_dir(self, id: str) -> str:
        return os.path.join(self.home, "diff", id)

    def exists(self, id: str) -> bool:
        return bool(id) and os.path.exists(os.path.join(self.home, "layers", id))

    def parents(self, id: str) -> list[str]:
        """moby: daemon/graphdriver/aufs/dirs.go getParentIDs"""
        try:
            with open(os.path.join(self.home, "layers", id)) as f:
                return [line.strip() for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def list_ids(self) -> list[str]:
        return sorted(os.listdir(os.path.join(self.home, "layers")))

    def create(self, id: str, parent: str | None = None) -> None:
        """moby: daemon/graphdriver/aufs/aufs.go Create (mnt/<id>, diff/<id>, layers/<id>)"""
        if parent is not None and not self.exists(parent):
            raise DriverError(2, f"{parent}: no such layer")
        made: list[str] = []
        try:
            for sub in ("mnt", "diff"):
                path = os.path.join(self.home, sub, id)
                os.mkdir(path, 0o755)
                os.chmod(path, 0o755)
                made.append(path)
            lines = [] if parent is None else [parent, *self.parents(parent)]
            layers = os.path.join(self.home, "layers", id)
            with open(layers, "w") as f:
                f.write("".join(line + "\n" for line in lines))
            made.append(layers)
        except BaseException:
            for path in made:
                remove_all(path, ignore_errors=True) if os.path.isdir(path) else os.unlink(path)
            raise

    def remove(self, id: str) -> None:
        """moby: daemon/graphdriver/aufs/aufs.go Remove (rename to -removing, then delete)"""
        with self._lock:
            if id in self._refs:
                self._refs[id] = 1
                self.put(id)
        for sub in ("mnt", "diff"):
            path = os.path.join(self.home, sub, id)
            if os.path.lexists(path):
                doomed = path + "-removing"
                os.rename(path, doomed)
                remove_all(doomed, ignore_errors=True)
        try:
            os.unlink(os.path.join(self.home, "layers", id))
        except FileNotFoundError:
            pass

    def _mount(self, id: str) -> RootFS:
        parents = self.parents(id)
        if not parents:
            return DirRootFS(self.layer_dir(id), now=self.now)
        return UnionRootFS(
            [self.layer_dir(id), *(self.layer_dir(p) for p in parents)],
            native_whiteouts=False,
            now=self.now,
        )

    def status(self) -> list[tuple[str, str]]:
        return [
            ("Root Dir", self.home),
            ("Backing Filesystem", kernel.backing_filesystem(self.home)),
            ("Dirs", str(len(os.listdir(os.path.join(self.home, "layers"))))),
            ("Dirperm1 Supported", "true"),
        ]

    # -- diffs against the direct parent read diff/<id> alone ------------------------------
    def _direct(self, id: str, parent: str | None) -> bool:
        parents = self.parents(id)
        return (parents[0] if parents else None) == parent

    def changes(self, id: str, parent: str | None) -> list[Change]:
        """moby: daemon/graphdriver/aufs/aufs.go Changes -> archive.Changes(layers, rw)"""
        if not self._direct(id, parent):
            return super().changes(id, parent)
        lowers = [self.layer_dir(p) for p in self.parents(id)]
        return changes_aufs(lowers, self.layer_dir(id))

    def diff(self, id: str, parent: str | None) -> BinaryIO:
        """moby: daemon/graphdriver/aufs/aufs.go Diff (tar of diff/<id>, whiteouts as they are)"""
        if not self._direct(id, parent):
            return super().diff(id, parent)
        out = tempfile.TemporaryFile(dir=self._tmpdir())  # noqa: SIM115 (handed to the caller)
        tar_directory(self.layer_dir(id), out)
        out.seek(0)
        return out  # type: ignore[return-value]

    def diff_size(self, id: str, parent: str | None) -> int:
        if not self._direct(id, parent):
            return super().diff_size(id, parent)
        return directory_size(self.layer_dir(id))

    def apply_diff(self, id: str, parent: str | None, tar: BinaryIO) -> int:
        """moby: daemon/graphdriver/aufs/aufs.go ApplyDiff (whiteouts kept as files)"""
        if not self._direct(id, parent):
            return super().apply_diff(id, parent, tar)
        unpack_layer(self.layer_dir(id), tar, whiteout_format="aufs", tmpdir=self._tmpdir())
        self._invalidate(id)
        return directory_size(self.layer_dir(id))
