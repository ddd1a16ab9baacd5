"""The overlayfs snapshotter: `snapshots/<N>/{fs,work}`, mounted as an overlay.

Layout under `io.containerd.snapshotter.v1.overlayfs/`:

    metadata.db            this snapshotter's own store (storage.py): N, kind, parent
    snapshots/<N>/fs       the snapshot's files (an image layer's unpacked diff, or a
                           container's upper folder); mode of <N> 0700, fs 0755
    snapshots/<N>/work     overlayfs's workdir, Active snapshots only (0711)

A new snapshot is made in `snapshots/new-XXXX` and renamed to its N once recorded. Mounts of
an Active snapshot are one overlay (`index=off`, `workdir`, `upperdir`, `lowerdir` = the
parents' fs folders, nearest first); with no parent a `bind` of fs (`rw,rbind`); a View of
one parent is a read-only bind of that parent's fs, of several an overlay with only
`lowerdir`. Commit keeps N and records the upper folder's disk usage.

containerd: snapshots/overlay/overlay.go (v1.6)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable

from dockerlayers import platform
from dockerlayers.containerd.snapshots import (
    KIND_ACTIVE,
    KIND_VIEW,
    Info,
    Mount,
    Snapshot,
    Usage,
)
from dockerlayers.containerd.snapshots.storage import MetaStore


def disk_usage(path: str) -> Usage:
    """Inodes counted once, 512-byte blocks. containerd: continuity fs.DiskUsage"""
    seen: set[tuple[int, int]] = set()
    size = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            try:
                st = os.lstat(name)
            except OSError:
                continue
            # a hard link counted once (also where the model keeps the links: Pyodide)
            key = platform.hard_link_key(st) or (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
            size += platform.allocated_bytes(st)
    return Usage(inodes=len(seen), size=size)


class OverlaySnapshotter:
    """containerd: snapshots/overlay/overlay.go snapshotter"""

    name = "overlayfs"
    plugin_dir = "io.containerd.snapshotter.v1.overlayfs"

    def __init__(self, containerd_root: str, now: Callable[[], float]) -> None:
        self.root = os.path.join(containerd_root, self.plugin_dir)
        os.makedirs(os.path.join(self.root, "snapshots"), mode=0o700, exist_ok=True)
        os.chmod(self.root, 0o700)
        self.ms = MetaStore(self.root, now)

    # -- paths ----------------------------------------------------------------------------
    def snapshot_dir(self, n: str) -> str:
        return os.path.join(self.root, "snapshots", n)

    def upper_path(self, n: str) -> str:
        return os.path.join(self.snapshot_dir(n), "fs")

    def work_path(self, n: str) -> str:
        return os.path.join(self.snapshot_dir(n), "work")

    # -- the Snapshotter interface --------------------------------------------------------
    def stat(self, key: str) -> Info:
        return self.ms.get_info(key)[1]

    def id(self, key: str) -> str:
        """The N of `snapshots/N` (the store's `id`)."""
        return self.ms.get_info(key)[0]

    def usage(self, key: str) -> Usage:
        n, info, usage = self.ms.get_info(key)
        if info.kind == KIND_ACTIVE:
            return disk_usage(self.upper_path(n))
        return usage

    def _prepare_directory(self, kind: str) -> str:
        """containerd: overlay.go prepareDirectory"""
        td = tempfile.mkdtemp(prefix="new-", dir=os.path.join(self.root, "snapshots"))
        os.mkdir(os.path.join(td, "fs"), 0o755)
        os.chmod(os.path.join(td, "fs"), 0o755)
        if kind == KIND_ACTIVE:
            os.mkdir(os.path.join(td, "work"), 0o711)
            os.chmod(os.path.join(td, "work"), 0o711)
        return td

    def _create_snapshot(
        self, kind: str, key: str, parent: str, labels: dict[str, str]
    ) -> list[Mount]:
        """containerd: overlay.go createSnapshot"""
        td = self._prepare_directory(kind)
        try:
            s = self.ms.create_snapshot(kind, key, parent, labels)
            os.rename(td, self.snapshot_dir(s.id))
        except BaseException:
            shutil.rmtree(td, ignore_errors=True)
            raise
        return self._mounts(s)

    def prepare(
        self, key: str, parent: str = "", labels: dict[str, str] | None = None
    ) -> list[Mount]:
        return self._create_snapshot(KIND_ACTIVE, key, parent, labels or {})

    def view(self, key: str, parent: str = "", labels: dict[str, str] | None = None) -> list[Mount]:
        return self._create_snapshot(KIND_VIEW, key, parent, labels or {})

    def mounts(self, key: str) -> list[Mount]:
        return self._mounts(self.ms.get_snapshot(key))

    def commit(self, name: str, key: str, labels: dict[str, str] | None = None) -> None:
        """containerd: overlay.go Commit (usage of the upper folder, then CommitActive)"""
        n = self.ms.get_info(key)[0]
        usage = disk_usage(self.upper_path(n))
        self.ms.commit_active(key, name, usage)
        if labels:
            self.ms.update_labels(name, labels)

    def remove(self, key: str) -> None:
        """containerd: overlay.go Remove (the folder goes with the record)"""
        n, _ = self.ms.remove(key)
        shutil.rmtree(self.snapshot_dir(n), ignore_errors=True)

    def walk(self) -> list[Info]:
        return [self.stat(k) for k in self.ms.walk()]

    def cleanup(self) -> list[str]:
        """Remove folders no record names (`new-*` leftovers). containerd: overlay.go Cleanup"""
        known = set(self.ms.id_map())
        removed = []
        base = os.path.join(self.root, "snapshots")
        for name in sorted(os.listdir(base)):
            if name not in known:
                shutil.rmtree(os.path.join(base, name), ignore_errors=True)
                removed.append(name)
        return removed

    def layer_dirs(self, key: str) -> list[str]:
        """The host folders of an Active/View snapshot, topmost first (for the user-space union)."""
        s = self.ms.get_snapshot(key)
        own = [self.upper_path(s.id)] if s.kind == KIND_ACTIVE or not s.parent_ids else []
        return own + [self.upper_path(p) for p in s.parent_ids]

    # -- mounts ---------------------------------------------------------------------------
    def _mounts(self, s: Snapshot) -> list[Mount]:
        """containerd: overlay.go mounts"""
        if not s.parent_ids:
            ro = "ro" if s.kind == KIND_VIEW else "rw"
            return [Mount("bind", self.upper_path(s.id), [ro, "rbind"])]
        options = ["index=off"]
        if s.kind == KIND_ACTIVE:
            options += [f"workdir={self.work_path(s.id)}", f"upperdir={self.upper_path(s.id)}"]
        elif len(s.parent_ids) == 1:
            return [Mount("bind", self.upper_path(s.parent_ids[0]), ["ro", "rbind"])]
        lowers = ":".join(self.upper_path(p) for p in s.parent_ids)
        options.append(f"lowerdir={lowers}")
        return [Mount("overlay", "overlay", options)]
