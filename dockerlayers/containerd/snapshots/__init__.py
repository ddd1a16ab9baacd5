"""Snapshots: containerd's interface to layered filesystems, and its two backends here.

A snapshot is Active (writable, made by Prepare), View (read-only, made by View) or
Committed (made from an Active one by Commit, and the only kind that may be a parent).
Image layers are committed snapshots named by chain ID; a container's RW layer is an
active one.

containerd: snapshots/snapshotter.go (Kind, Info, Usage, Snapshotter), mount/mount.go
"""

from __future__ import annotations

from dataclasses import dataclass, field

KIND_VIEW = "View"
KIND_ACTIVE = "Active"
KIND_COMMITTED = "Committed"
KINDS = (KIND_VIEW, KIND_ACTIVE, KIND_COMMITTED)


@dataclass
class Info:
    """containerd: snapshots/snapshotter.go Info"""

    kind: str
    name: str
    parent: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    created: str = ""
    updated: str = ""


@dataclass
class Usage:
    """containerd: snapshots/snapshotter.go Usage"""

    inodes: int = 0
    size: int = 0


@dataclass
class Mount:
    """containerd: mount/mount.go Mount"""

    type: str
    source: str
    options: list[str]

    def line(self, target: str) -> str:
        """The mount as /proc/mounts prints it: the kernel's order (lowerdir, upperdir,
        workdir) after rw,relatime; `index=off` is not shown where it is the default."""
        if self.type == "overlay":
            by = {o.split("=", 1)[0]: o for o in self.options if "=" in o}
            opts = [by[k] for k in ("lowerdir", "upperdir", "workdir") if k in by]
            return f"overlay on {target} type overlay (rw,relatime,{','.join(opts)})"
        return f"{self.source} on {target} type {self.type} ({','.join(self.options)})"


@dataclass
class Snapshot:
    """A backend's answer for an active snapshot: its N and its parents' Ns, nearest first.

    containerd: snapshots/storage/bolt.go Snapshot
    """

    id: str
    kind: str
    parent_ids: list[str]
