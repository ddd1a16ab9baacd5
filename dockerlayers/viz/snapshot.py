"""Snapshots of the daemon's root folder, and what changed between two of them.

A snapshot records every entry under the root (kind, size, and a change signature), reads
the few small metadata files that name things (`mount-id`, `init-id`, `cache-id`, overlay2
`link`, ...), and summarises each read-only image layer's folder as one entry (an image
layer never changes once registered, so its files need not be walked every time).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.viz._model import daemon_of

#: Files and folders of the model itself, not of Docker's layout.
INTERNAL = frozenset({"dockerlayers.json", "dockerlayers.pid", "events.log", "runtime"})

_TEXT_NAMES = frozenset(
    {"mount-id", "init-id", "parent", "cache-id", "diff", "size", "link", "lower"}
)

CREATED, CHANGED, REMOVED = "+", "~", "-"


@dataclass(frozen=True)
class EntryState:
    """kind: d(ir) f(ile) l(ink) c (whiteout/char dev) o(ther) t (summarised layer tree)."""

    kind: str
    size: int
    sig: tuple[int, ...] = ()
    text: str | None = None
    files: int = 0


@dataclass
class Snapshot:
    """Every entry under the root, by path relative to it."""

    root: str
    driver: str
    entries: dict[str, EntryState] = field(default_factory=dict)
    #: containerd mode: the key of each overlayfs snapshot folder, by its N
    snapshot_keys: dict[str, str] = field(default_factory=dict)

    def texts(self) -> dict[str, str]:
        return {p: e.text for p, e in self.entries.items() if e.text is not None}


@dataclass(frozen=True)
class Change:
    mark: str  # "+", "~" or "-"
    path: str
    state: EntryState


_TREE_CACHE: dict[tuple[str, int, int], tuple[int, int]] = {}


def _count_tree(path: str) -> tuple[int, int]:
    st = os.stat(path)
    key = (path, st.st_ino, st.st_ctime_ns)
    hit = _TREE_CACHE.get(key)
    if hit is not None:
        return hit
    files = size = 0
    for dp, dns, fns in os.walk(path):
        files += len(fns) + len(dns)
        for n in fns:
            try:
                size += os.lstat(os.path.join(dp, n)).st_size
            except OSError:
                pass
    _TREE_CACHE[key] = (files, size)
    return files, size


def take_snapshot(client: Any) -> Snapshot:
    """Walk the daemon's root (image layer folders summarised, see the module doc)."""
    daemon = daemon_of(client)
    root = daemon.root
    frozen = set()
    for layer in daemon.layer_store.map().values():
        try:
            frozen.add(daemon.driver.layer_dir(layer.cache_id))
        except Exception:
            continue
    snap = Snapshot(root, daemon.driver.name)
    if getattr(daemon, "storage", "graphdriver") == "containerd":
        sn = daemon.layer_store.images.sn
        for info in sn.walk("moby"):
            snap.snapshot_keys[sn.snapshot_id("moby", info.name)] = info.name
    entries = snap.entries
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for e in it:
                rel = e.path[len(root) + 1 :]
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                mode = st.st_mode
                if stat.S_ISDIR(mode):
                    if e.path in frozen:
                        n, size = _count_tree(e.path)
                        entries[rel] = EntryState("t", size, (st.st_ino,), files=n)
                        continue
                    entries[rel] = EntryState("d", 0, (st.st_ino,))
                    stack.append(e.path)
                elif stat.S_ISREG(mode):
                    text = None
                    if e.name in _TEXT_NAMES and st.st_size <= 512:
                        try:
                            with open(e.path, encoding="utf-8", errors="replace") as f:
                                text = f.read().strip()
                        except OSError:
                            pass
                    entries[rel] = EntryState(
                        "f", st.st_size, (st.st_ino, st.st_mtime_ns, st.st_ctime_ns), text
                    )
                elif stat.S_ISLNK(mode):
                    entries[rel] = EntryState(
                        "l", st.st_size, (st.st_ino, st.st_ctime_ns), os.readlink(e.path)
                    )
                elif stat.S_ISCHR(mode) and st.st_rdev == 0:
                    entries[rel] = EntryState("c", 0, (st.st_ino, st.st_ctime_ns))
                else:
                    entries[rel] = EntryState("o", st.st_size, (st.st_ino, st.st_ctime_ns))
    return snap


def diff_snapshots(before: Snapshot, after: Snapshot) -> list[Change]:
    """Created, changed and removed entries, sorted by path. A folder counts as changed
    only when it was replaced (removed and made again)."""
    out = []
    b, a = before.entries, after.entries
    for p, s in a.items():
        old = b.get(p)
        if old is None:
            out.append(Change(CREATED, p, s))
        elif old.kind != s.kind or old.sig != s.sig or old.text != s.text or old.size != s.size:
            if s.kind == "d" and old.kind == "d" and old.sig == s.sig:
                continue
            out.append(Change(CHANGED, p, s))
    for p, s in b.items():
        if p not in a:
            out.append(Change(REMOVED, p, s))
    out.sort(key=lambda c: c.path)
    return out


def is_internal(path: str) -> bool:
    return path.split("/", 1)[0] in INTERNAL


def whiteout_note(path: str, kind: str) -> str | None:
    """What a whiteout on disk is, in words; None for any other entry. overlay2 (as root)
    writes a 0/0 character device named as the deleted file; aufs, vfs-made tars and the
    model's rootless form write `.wh.<name>` files; `.wh..wh..opq` marks an opaque folder.

    moby: daemon/graphdriver/overlay2/overlay.go, pkg/archive/whiteouts.go
    """
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if kind == "c":
        return f"whiteout: a 0/0 char device, deletes {name} from the layers below"
    if name == ".wh..wh..opq":
        return "opaque marker: hides what the layers below hold in this folder"
    if name.startswith(".wh.") and not name.startswith(".wh..wh."):
        return f"whiteout: a .wh. file, deletes {name[4:]} from the layers below"
    return None
