"""overlay2: layers stacked by overlayfs, each layer only its own files.

On disk, as moby lays it out::

    overlay2/l/<LINKID> -> ../<id>/diff        26-char short names keep mount options short
    overlay2/<id>/diff/                        this layer's files (the upperdir when writable)
    overlay2/<id>/link                         its LINKID
    overlay2/<id>/lower                        "l/<parent LINKID>:l/<grandparent>..." nearest first
    overlay2/<id>/work/                        overlay's workdir (layers with a parent)
    overlay2/<id>/merged/                      the mount point, only while mounted
    overlay2/<id>/committed                    written into a layer when a child is made on it

`get` mounts the kernel's overlayfs where this process may (root, `mounts="auto"` or
`"kernel"`), otherwise serves the same layers through the user-space union.

moby: daemon/graphdriver/overlay2/overlay.go
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, BinaryIO

from dockerlayers import archive
from dockerlayers._lazy import LazyModule
from dockerlayers.archive.whiteouts import native_whiteouts_supported
from dockerlayers.graphdriver import kernel
from dockerlayers.graphdriver.driver import Driver, DriverError
from dockerlayers.graphdriver.rootfs import DirRootFS, RootFS
from dockerlayers.ioutils import atomic_write_file, remove_all, remove_temp_files

if TYPE_CHECKING:
    from dockerlayers.archive import Change

fsdiff = LazyModule("dockerlayers.graphdriver.fsdiff")
union = LazyModule("dockerlayers.graphdriver.union")  # the user-space mounts

LINK_DIR = "l"
DIFF_DIR = "diff"
WORK_DIR = "work"
MERGED_DIR = "merged"
LOWER_FILE = "lower"
MAX_DEPTH = 128
ID_LENGTH = 26


class Overlay2Driver(Driver):
    """The overlay2 graph driver (kernel overlayfs, or the user-space union)."""

    name = "overlay2"

    def __init__(self, root: str, *, mounts: str = "auto", now=None, ids=None) -> None:
        super().__init__(root, mounts=mounts, now=now)
        from dockerlayers.stringid import IDGenerator

        self.ids = ids or IDGenerator()
        os.makedirs(self.home, exist_ok=True)
        if os.stat(self.home).st_mode & 0o7777 != 0o710:  # (an open changes nothing else)
            os.chmod(self.home, 0o710)
        os.makedirs(os.path.join(self.home, LINK_DIR), mode=0o700, exist_ok=True)
        if mounts == "kernel" and not kernel.overlay_supported():
            raise DriverError(
                95,
                "overlay2: the kernel's overlayfs cannot be mounted here (needs root and overlay)",
            )
        # A crashed earlier process (in any mount mode) may have left kernel mounts behind:
        # nobody uses them now, and a user-space reopen must not leave them either.
        self._unmount_leftovers()
        # A crash inside atomic_write_file leaves `.tmp-<name>*` beside `link`, `lower` or a
        # parent's `committed`; the files themselves are whole (old or new).
        for name in os.listdir(self.home):
            if name != LINK_DIR:
                remove_temp_files(self.dir(name))

    # The two probes (a trial overlay mount, a trial whiteout device) run when a layer is
    # first mounted or applied, not at every open: a command that mounts nothing (ps,
    # inspect, diff) need not pay for them. moby probes once per dockerd start.
    @functools.cached_property
    def use_kernel(self) -> bool:
        """Mount the kernel's overlayfs (else the user-space union)."""
        return self.mounts != "user" and kernel.overlay_supported()

    @functools.cached_property
    def native_whiteouts(self) -> bool:
        """Whiteouts as overlayfs writes them (0/0 devices, opaque xattrs), else aufs's."""
        return native_whiteouts_supported(self.home)

    # -- layout ------------------------------------------------------------------------
    def dir(self, id: str) -> str:
        return os.path.join(self.home, id)

    def layer_dir(self, id: str) -> str:
        return os.path.join(self.home, id, DIFF_DIR)

    def exists(self, id: str) -> bool:
        return bool(id) and os.path.isdir(self.dir(id))

    def _read(self, id: str, name: str) -> str | None:
        try:
            with open(os.path.join(self.dir(id), name)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def get_lower(self, parent: str) -> str:
        """The `lower` file content for a child of `parent`: its link, then its lowers.

        moby: daemon/graphdriver/overlay2/overlay.go getLower
        """
        link = self._read(parent, "link")
        if link is None:
            raise DriverError(2, f"{parent}: no link file")
        lowers = [f"{LINK_DIR}/{link}"]
        parent_lower = self._read(parent, LOWER_FILE)
        if parent_lower:
            lowers.extend(parent_lower.split(":"))
        if len(lowers) > MAX_DEPTH:
            raise DriverError(0, "max depth exceeded")
        return ":".join(lowers)

    def lower_dirs(self, id: str) -> list[str]:
        """Absolute diff folders of the layers below `id`, nearest first."""
        lower = self._read(id, LOWER_FILE)
        if not lower:
            return []
        return [os.path.realpath(os.path.join(self.home, entry)) for entry in lower.split(":")]

    def list_ids(self) -> list[str]:
        return sorted(
            n for n in os.listdir(self.home) if n != LINK_DIR and os.path.isdir(self.dir(n))
        )

    def parents(self, id: str) -> list[str]:
        return [os.path.basename(os.path.dirname(p)) for p in self.lower_dirs(id)]

    # -- ProtoDriver -------------------------------------------------------------------
    def create(self, id: str, parent: str | None = None) -> None:
        """moby: daemon/graphdriver/overlay2/overlay.go create"""
        self._create(id, parent)

    def create_read_write(self, id: str, parent: str | None = None) -> None:
        self._create(id, parent)

    def _create(self, id: str, parent: str | None) -> None:
        if not id:
            raise DriverError(22, "refusing to create a layer with an empty id")
        path = self.dir(id)
        if parent is not None and not self.exists(parent):
            raise DriverError(2, f"{parent}: no such layer")
        os.mkdir(path, 0o710)
        try:
            os.chmod(path, 0o710)
            os.mkdir(os.path.join(path, DIFF_DIR), 0o755)
            os.chmod(os.path.join(path, DIFF_DIR), 0o755)
            link = self.ids.generate_link_id(ID_LENGTH)
            os.symlink(os.path.join("..", id, DIFF_DIR), os.path.join(self.home, LINK_DIR, link))
            atomic_write_file(os.path.join(path, "link"), link.encode(), 0o644)
            if parent is None:
                return
            os.mkdir(os.path.join(path, WORK_DIR), 0o700)
            committed = os.path.join(self.dir(parent), "committed")
            if not os.path.exists(committed):
                atomic_write_file(committed, b"", 0o600)
            lower = self.get_lower(parent)
            atomic_write_file(os.path.join(path, LOWER_FILE), lower.encode(), 0o644)
        except BaseException:
            self.remove(id)
            raise

    def remove(self, id: str) -> None:
        """moby: daemon/graphdriver/overlay2/overlay.go Remove"""
        if not id:
            raise DriverError(22, "refusing to remove the directories: id is empty")
        with self._lock:
            if id in self._refs:
                self._refs[id] = 1
                self.put(id)
        link = self._read(id, "link")
        if link:
            try:
                os.unlink(os.path.join(self.home, LINK_DIR, link))
            except FileNotFoundError:
                pass
        remove_all(self.dir(id), ignore_errors=True)

    def _mount(self, id: str) -> RootFS:
        """moby: daemon/graphdriver/overlay2/overlay.go Get"""
        path = self.dir(id)
        lowers = self.lower_dirs(id)
        if not lowers:
            return DirRootFS(self.layer_dir(id), now=self.now)
        merged = os.path.join(path, MERGED_DIR)
        os.makedirs(merged, mode=0o700, exist_ok=True)
        read_only = os.path.exists(os.path.join(path, "committed"))
        if self.use_kernel:
            links = (self._read(id, LOWER_FILE) or "").split(":")
            try:
                if read_only:
                    kernel.mount_overlay(
                        merged,
                        [self.layer_dir(id), *lowers],
                        None,
                        None,
                        self.home,
                        rel_lowers=[f"{id}/{DIFF_DIR}", *links],
                    )
                else:
                    kernel.mount_overlay(
                        merged,
                        lowers,
                        self.layer_dir(id),
                        os.path.join(path, WORK_DIR),
                        self.home,
                        rel_lowers=links,
                    )
            except OSError as e:
                os.rmdir(merged)
                raise DriverError(
                    e.errno or 5, f"error creating overlay mount to {merged}: {e}"
                ) from e
            return DirRootFS(merged, read_only=read_only, now=self.now)
        return union.UnionRootFS(
            [self.layer_dir(id), *lowers],
            writable=not read_only,
            native_whiteouts=self.native_whiteouts,
            now=self.now,
        )

    def _unmount(self, id: str, fs: RootFS) -> None:
        """moby: daemon/graphdriver/overlay2/overlay.go Put"""
        merged = os.path.join(self.dir(id), MERGED_DIR)
        if self.use_kernel and fs.path == merged:
            kernel.unmount(merged)
        try:
            os.rmdir(merged)
        except OSError:
            pass

    def cleanup(self) -> None:
        super().cleanup()
        self._unmount_leftovers()

    def _unmount_leftovers(self) -> None:
        for point in kernel.mounts_under(self.home):
            try:
                kernel.unmount(point)
            except OSError:
                pass  # not root: nothing to do about it

    def status(self) -> list[tuple[str, str]]:
        return [
            ("Backing Filesystem", kernel.backing_filesystem(self.home)),
            ("Supports d_type", "true"),
            ("Native Overlay Diff", "true"),
            ("userxattr", "false"),
        ]

    def get_metadata(self, id: str) -> dict[str, str] | None:
        """moby: daemon/graphdriver/overlay2/overlay.go GetMetadata"""
        path = self.dir(id)
        if not os.path.isdir(path):
            raise DriverError(2, f"stat {path}: no such file or directory")
        meta = {
            "MergedDir": os.path.join(path, MERGED_DIR),
            "UpperDir": os.path.join(path, DIFF_DIR),
            "WorkDir": os.path.join(path, WORK_DIR),
        }
        lowers = self.lower_dirs(id)
        if lowers:
            meta["LowerDir"] = ":".join(lowers)
        return meta

    # -- native diff ---------------------------------------------------------------------
    def is_parent(self, id: str, parent: str | None) -> bool:
        """True if `parent` is the layer right below `id` (so the upper folder is the diff).

        moby: daemon/graphdriver/overlay2/overlay.go isParent
        """
        lowers = self.lower_dirs(id)
        if parent is None:
            return not lowers
        return bool(lowers) and lowers[0] == os.path.realpath(self.layer_dir(parent))

    def _lower_view(self, id: str) -> RootFS:
        return union.UnionRootFS(self.lower_dirs(id), writable=False)

    def changes(self, id: str, parent: str | None) -> list[Change]:
        """Same answers as moby's naive Changes, read from the upper folder alone."""
        if parent is not None and self.is_parent(id, parent):
            return fsdiff.upper_changes(self.layer_dir(id), self._lower_view(id))
        return super().changes(id, parent)

    def diff(self, id: str, parent: str | None) -> BinaryIO:
        """moby: daemon/graphdriver/overlay2/overlay.go Diff (native: tar of the upper folder)"""
        if not self.is_parent(id, parent):
            return super().diff(id, parent)
        import tempfile

        out = tempfile.TemporaryFile(dir=self._tmpdir())  # noqa: SIM115 (handed to the caller)
        archive.tar_directory(self.layer_dir(id), out, whiteout_format="overlay")
        out.seek(0)
        return out  # type: ignore[return-value]

    def diff_size(self, id: str, parent: str | None) -> int:
        if not self.is_parent(id, parent):
            return super().diff_size(id, parent)
        return archive.directory_size(self.layer_dir(id))

    def apply_diff(self, id: str, parent: str | None, tar: BinaryIO) -> int:
        """moby: daemon/graphdriver/overlay2/overlay.go ApplyDiff (native: untar into diff/)"""
        if not self.is_parent(id, parent):
            return super().apply_diff(id, parent, tar)
        fmt = "overlay" if self.native_whiteouts else "aufs"
        archive.unpack_layer(self.layer_dir(id), tar, whiteout_format=fmt, tmpdir=self._tmpdir())
        self._invalidate(id)
        return archive.directory_size(self.layer_dir(id))
