"""The graph driver protocol, and the naive diff every driver can fall back on.

A graph driver keeps one folder per layer under `<root>/<driver name>` and knows how to stack
them: `create`/`create_read_write` a layer on a parent, `get` (mount) it as a RootFS and `put`
it back (a per-layer mount count), and compute a layer's diff against its parent as a tar,
a list of changes, or a size.

moby: daemon/graphdriver/driver.go (ProtoDriver, DiffDriver), daemon/graphdriver/fsdiff.go
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, BinaryIO

from dockerlayers import archive
from dockerlayers._lazy import LazyModule
from dockerlayers.graphdriver.rootfs import RootFS

if TYPE_CHECKING:
    from dockerlayers.archive import Change

# the naive diff (and the archive package behind it) loads when a driver first diffs
fsdiff = LazyModule("dockerlayers.graphdriver.fsdiff")

#: What `mounts=` may be: the kernel where allowed, always user space, or kernel required.
MOUNT_MODES = ("auto", "user", "kernel")


class DriverError(OSError):
    """A graph driver refused or failed; the text is moby's where moby has one."""


class Driver:
    """Base of every graph driver: the protocol plus moby's NaiveDiffDriver.

    Subclasses implement the layer folders (`create`, `create_read_write`, `remove`,
    `exists`, `get`, `put`) and may override the diff methods with faster native ones.
    """

    name = ""

    def __init__(self, root: str, *, mounts: str = "auto", now=None) -> None:
        if mounts not in MOUNT_MODES:
            raise ValueError(f"mounts must be one of {MOUNT_MODES}, not {mounts!r}")
        self.root = os.path.abspath(root)
        self.home = os.path.join(self.root, self.name)
        self.mounts = mounts
        self.now = now
        self._lock = threading.RLock()
        self._refs: dict[str, int] = {}
        self._mounted: dict[str, RootFS] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.home}>"

    def __str__(self) -> str:
        return self.name

    # -- ProtoDriver ---------------------------------------------------------------------
    def create(self, id: str, parent: str | None = None) -> None:
        """Make a read-only (image) layer `id` on top of `parent`."""
        raise NotImplementedError

    def create_read_write(self, id: str, parent: str | None = None) -> None:
        """Make a writable layer (a container's init or RW layer) on top of `parent`."""
        self.create(id, parent)

    def remove(self, id: str) -> None:
        raise NotImplementedError

    def exists(self, id: str) -> bool:
        raise NotImplementedError

    def layer_dir(self, id: str) -> str:
        """The host folder holding this layer's own files."""
        raise NotImplementedError

    def parents(self, id: str) -> list[str]:
        """Parent layer ids, nearest first."""
        raise NotImplementedError

    def list_ids(self) -> list[str]:
        """Every layer id that has a folder here (for cleanup of orphans)."""
        raise NotImplementedError

    def _mount(self, id: str) -> RootFS:
        raise NotImplementedError

    def _unmount(self, id: str, fs: RootFS) -> None:
        """Undo `_mount` (kernel: umount; user space: nothing to do)."""

    def get(self, id: str) -> RootFS:
        """Mount layer `id` (its merged view) and count the mount; pair with `put`.

        moby: daemon/graphdriver/driver.go ProtoDriver.Get
        """
        with self._lock:
            if not self.exists(id):
                raise DriverError(2, f"{self.name}: layer {id} does not exist")
            count = self._refs.get(id, 0)
            if count == 0:
                self._mounted[id] = self._mount(id)
            self._refs[id] = count + 1
            return self._mounted[id]

    def put(self, id: str) -> None:
        """Release one mount of `id`; the last one unmounts it."""
        with self._lock:
            count = self._refs.get(id, 0)
            if count <= 0:
                return
            if count == 1:
                del self._refs[id]
                self._unmount(id, self._mounted.pop(id))
            else:
                self._refs[id] = count - 1

    def mount_count(self, id: str) -> int:
        return self._refs.get(id, 0)

    def status(self) -> list[tuple[str, str]]:
        return []

    def get_metadata(self, id: str) -> dict[str, str] | None:
        return None

    def cleanup(self) -> None:
        """Unmount everything (daemon shutdown).

        moby: daemon/graphdriver/driver.go ProtoDriver.Cleanup
        """
        with self._lock:
            for id in list(self._refs):
                self._refs[id] = 1
                self.put(id)

    # -- DiffDriver (naive) --------------------------------------------------------------
    def _diff_parent(self, id: str, parent: str | None) -> str | None:
        return parent

    def changes(self, id: str, parent: str | None) -> list[Change]:
        """What changed in `id` relative to `parent` (None: everything is an Add).

        moby: daemon/graphdriver/fsdiff.go NaiveDiffDriver.Changes
        """
        new = self.get(id)
        try:
            if parent is None:
                return fsdiff.changes_rootfs(new, None)
            old = self.get(parent)
            try:
                return fsdiff.changes_rootfs(new, old)
            finally:
                self.put(parent)
        finally:
            self.put(id)

    def diff(self, id: str, parent: str | None) -> BinaryIO:
        """The layer's changes against `parent` as an uncompressed tar (a file at offset 0).

        moby: daemon/graphdriver/fsdiff.go NaiveDiffDriver.Diff
        """
        start = time.time()
        import tempfile

        out = tempfile.TemporaryFile(dir=self._tmpdir())  # noqa: SIM115 (handed to the caller)
        new = self.get(id)
        try:
            changes = self.changes(id, parent)
            fsdiff.export_changes_rootfs(
                new, changes, out, now=self.now() if self.now is not None else None
            )
        finally:
            self.put(id)
        out.seek(0)
        self._naive_diff_wait(start)
        return out  # type: ignore[return-value]

    #: moby's mtime hack for naive diffs (see `_naive_diff_wait`); tests may turn it off.
    naive_diff_wait = True

    def _naive_diff_wait(self, start: float) -> None:
        """Sleep until the second after `start`, like moby after every naive Diff.

        Layers are extracted from tars, whose mtimes have whole seconds; a file rewritten
        with the same size in that same second would look unchanged to the naive
        comparison (moby issue 21555). Waiting makes later writes land in a later second.
        With a virtual clock (`now` given) the daemon's clock decides mtimes instead.

        moby: daemon/graphdriver/fsdiff.go NaiveDiffDriver.Diff
        """
        if not self.naive_diff_wait or self.now is not None:
            return
        delay = int(start) + 1 - time.time()
        if delay > 0:
            time.sleep(delay)

    def diff_size(self, id: str, parent: str | None) -> int:
        """Bytes the layer adds or modifies against `parent` (hard links counted once).

        moby: daemon/graphdriver/fsdiff.go NaiveDiffDriver.DiffSize
        """
        changes = self.changes(id, parent)
        fs = self.get(id)
        try:
            return fsdiff.changes_size_rootfs(fs, changes)
        finally:
            self.put(id)

    def apply_diff(self, id: str, parent: str | None, tar: BinaryIO) -> int:
        """Extract a layer tar into layer `id`, interpreting whiteouts; returns its size.

        moby: daemon/graphdriver/fsdiff.go NaiveDiffDriver.ApplyDiff
        """
        fs = self.get(id)
        try:
            if fs.path is None:
                raise DriverError(95, f"{self.name}: cannot apply a diff to a non-direct parent")
            return archive.unpack_layer(
                fs.path, tar, whiteout_format="naive", tmpdir=self._tmpdir()
            )
        finally:
            self.put(id)

    def _invalidate(self, id: str) -> None:
        """Forget cached listings of a mounted view after its folder changed underneath."""
        fs = self._mounted.get(id)
        if fs is not None and hasattr(fs, "invalidate"):
            fs.invalidate()

    def _tmpdir(self) -> str:
        path = os.path.join(self.root, "tmp")
        os.makedirs(path, exist_ok=True)
        return path
