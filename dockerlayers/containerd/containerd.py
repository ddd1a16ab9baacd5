"""One containerd over one root: the content store, snapshotters, leases, GC and meta.db.

    <root>/io.containerd.content.v1.content/      blobs/sha256/<hex> (0444), ingest/
    <root>/io.containerd.metadata.v1.bolt/meta.db (BoltDB)
    <root>/io.containerd.snapshotter.v1.overlayfs/ metadata.db (BoltDB), snapshots/<N>/{fs,work}
    <root>/io.containerd.snapshotter.v1.native/    metadata.db (BoltDB), snapshots/<N>/

Deletions schedule a collection (`gc_due`): it runs on the first operation at least
`SCHEDULE_DELAY` after, or now when the caller asks for a synchronous one, as containerd's
scheduler does after a deletion and `SynchronousDelete` demands.

containerd: services/server/server.go (plugins under one root), gc/scheduler/scheduler.go
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from dockerlayers.containerd import gc
from dockerlayers.containerd.content import ContentStore, LocalStore
from dockerlayers.containerd.leases import LeaseManager
from dockerlayers.containerd.metadata import DB
from dockerlayers.containerd.snapshots.namespaced import Snapshotter
from dockerlayers.containerd.snapshots.native import NativeSnapshotter
from dockerlayers.containerd.snapshots.overlayfs import OverlaySnapshotter

SNAPSHOTTERS = ("overlayfs", "native")


class Containerd:
    """containerd's storage plugins over `root` (no tasks: dockerlayers runs the processes)."""

    def __init__(self, root: str, now: Callable[[], float] | None = None) -> None:
        self.root = os.path.abspath(root)
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        self.now = now or time.time
        self.db = DB(self.root)
        self.local = LocalStore(self.root)
        self.content = ContentStore(self.db, self.local, self.now, self.schedule_gc)
        self.backends = {
            "overlayfs": OverlaySnapshotter(self.root, self.now),
            "native": NativeSnapshotter(self.root, self.now),
        }
        self.snapshotters = {
            name: Snapshotter(self.db, b, self.now, self.schedule_gc)
            for name, b in self.backends.items()
        }
        self.leases = LeaseManager(self.db, self.now, self._lease_collect)
        #: when the scheduled collection falls due (None: nothing scheduled)
        self.gc_due: float | None = None
        self.last_gc: gc.Stats | None = None

    def snapshotter(self, name: str = "overlayfs") -> Snapshotter:
        self.tick()
        return self.snapshotters[name]

    def schedule_gc(self) -> None:
        """A deletion happened: collect shortly (gc/scheduler: mutation -> schedule)."""
        if self.gc_due is None:
            self.gc_due = self.now() + gc.SCHEDULE_DELAY

    def _lease_collect(self, synchronous: bool) -> None:
        if synchronous:
            self.garbage_collect()
        else:
            self.schedule_gc()

    def tick(self) -> gc.Stats | None:
        """Run the scheduled collection if it is due."""
        if self.gc_due is not None and self.now() >= self.gc_due:
            return self.garbage_collect()
        return None

    def garbage_collect(self) -> gc.Stats:
        """A collection now (what SynchronousDelete waits for)."""
        self.gc_due = None
        self.last_gc = gc.collect(self.db, self.local, self.backends)
        return self.last_gc
