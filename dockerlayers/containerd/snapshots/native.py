"""The native snapshotter: every snapshot a full copy of its parent (like moby's vfs driver).

`snapshots/<N>` is the snapshot's root itself (no fs/ or work/); Prepare copies the parent's
folder, mounts are a bind (`rbind,rw`, or `rbind,ro` for a View: this order, unlike
overlayfs's `rw,rbind`, as `ctr snapshots mounts` shows on containerd 1.6.20). Same
metadata store and the same N rule as overlayfs.

containerd: snapshots/native/native.go (v1.6)
"""

from __future__ import annotations

import os
import shutil

from dockerlayers.containerd.snapshots import KIND_ACTIVE, KIND_VIEW, Mount, Snapshot
from dockerlayers.containerd.snapshots.overlayfs import OverlaySnapshotter, disk_usage
from dockerlayers.graphdriver.copy import copy_tree


class NativeSnapshotter(OverlaySnapshotter):
    """containerd: snapshots/native/native.go snapshotter"""

    name = "native"
    plugin_dir = "io.containerd.snapshotter.v1.native"

    def upper_path(self, n: str) -> str:
        return self.snapshot_dir(n)

    def _create_snapshot(
        self, kind: str, key: str, parent: str, labels: dict[str, str]
    ) -> list[Mount]:
        """containerd: native.go createSnapshot (copy the parent, then record)"""
        s = self.ms.create_snapshot(kind, key, parent, labels)
        target = self.snapshot_dir(s.id)
        os.mkdir(target, 0o755)
        if s.parent_ids:
            copy_tree(self.snapshot_dir(s.parent_ids[0]), target)
        return self._mounts(s)

    def commit(self, name: str, key: str, labels: dict[str, str] | None = None) -> None:
        n = self.ms.get_info(key)[0]
        self.ms.commit_active(key, name, disk_usage(self.snapshot_dir(n)))
        if labels:
            self.ms.update_labels(name, labels)

    def layer_dirs(self, key: str) -> list[str]:
        return [self.snapshot_dir(self.ms.get_snapshot(key).id)]

    def _mounts(self, s: Snapshot) -> list[Mount]:
        ro = "ro" if s.kind == KIND_VIEW else "rw"
        src = self.snapshot_dir(s.id)
        assert s.kind in (KIND_ACTIVE, KIND_VIEW)
        return [Mount("bind", src, ["rbind", ro])]  # native.go: rbind first (overlay: last)

    def remove(self, key: str) -> None:
        n, _ = self.ms.remove(key)
        shutil.rmtree(self.snapshot_dir(n), ignore_errors=True)
