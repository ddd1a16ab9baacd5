"""Docker's A/C/D: what changed between two trees, or in an RW layer over its lowers.

Paths are absolute inside the container (`/etc/hosts`). Both algorithms return their
changes sorted by path (moby returns recursion/walk order and callers sort; `docker
diff` output is sorted). `docker diff` prints `str(change)`; the API returns
`change.to_api()`.

moby: pkg/archive/changes.go, changes_linux.go, changes_unix.go (28.1+: moby/go-archive)
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from enum import IntEnum

from dockerlayers import idtools, ioutils, platform
from dockerlayers._record import FrozenRecord
from dockerlayers.archive._xattr import lgetxattr
from dockerlayers.archive.whiteouts import (
    WHITEOUT_META_PREFIX,
    WHITEOUT_PREFIX,
    is_char_whiteout,
    is_opaque_dir,
)


class ChangeKind(IntEnum):
    """moby ChangeType: Modify = 0 (`C`), Add = 1 (`A`), Delete = 2 (`D`)."""

    MODIFY = 0
    ADD = 1
    DELETE = 2

    def __str__(self) -> str:
        return "CAD"[self.value]


class Change(FrozenRecord):
    """One changed path: `Change("/etc", ChangeKind.MODIFY)` prints as `C /etc`.

    moby: pkg/archive/changes.go Change
    """

    _fields = ("path", "kind")
    path: str
    kind: ChangeKind

    def __init__(self, path: str, kind: ChangeKind) -> None:
        self._set(path=path, kind=kind)

    def __str__(self) -> str:
        return f"{ChangeKind(self.kind)} {self.path}"

    def to_api(self) -> dict[str, object]:
        """The Engine API shape: `{"Path": "/etc", "Kind": 0}`."""
        return {"Path": self.path, "Kind": int(self.kind)}


def _sort_key(c: Change) -> bytes:
    return os.fsencode(c.path)


def same_fs_time(a_ns: int, b_ns: int) -> bool:
    """Equal, or the same second with either side a whole second (tar drops nanoseconds).

    moby: pkg/archive/changes.go sameFsTime
    """
    return a_ns == b_ns or (
        a_ns // 1_000_000_000 == b_ns // 1_000_000_000
        and (a_ns % 1_000_000_000 == 0 or b_ns % 1_000_000_000 == 0)
    )


def stat_different(old: os.stat_result, new: os.stat_result) -> bool:
    """Mode, owner or rdev differ; or, for non-directories only, mtime or size differ.

    Directory mtimes are ignored on Linux (moby issue 9874, PR 11422).

    moby: pkg/archive/changes_unix.go statDifferent
    """
    if (
        old.st_mode != new.st_mode
        or old.st_uid != new.st_uid
        or old.st_gid != new.st_gid
        or old.st_rdev != new.st_rdev
    ):
        return True
    if stat.S_ISDIR(old.st_mode):
        return False
    return (
        not same_fs_time(platform.mtime_ns(old), platform.mtime_ns(new))
        or old.st_size != new.st_size
    )


class _FileInfo:
    """moby FileInfo: one node of a scanned tree."""

    __slots__ = ("name", "parent", "st", "capability", "children", "added")

    def __init__(
        self,
        name: str,
        parent: _FileInfo | None,
        st: os.stat_result | None = None,
        capability: bytes | None = None,
    ) -> None:
        self.name = name
        self.parent = parent
        self.st = st
        self.capability = capability
        self.children: dict[str, _FileInfo] = {}
        self.added = False

    def path(self) -> str:
        names: list[str] = []
        node: _FileInfo | None = self
        while node is not None and node.parent is not None:
            names.append(node.name)
            node = node.parent
        return "/" + "/".join(reversed(names))

    def is_dir(self) -> bool:
        return self.parent is None or (self.st is not None and stat.S_ISDIR(self.st.st_mode))

    def add_changes(self, old: _FileInfo | None, changes: list[Change]) -> None:
        """Compare this tree with `old` (None: all added), appending to `changes`; an own
        stack, not recursion, so any depth works (the result is moby's).

        moby: pkg/archive/changes.go FileInfo.addChanges
        """
        # a frame: [node, its old node, len(changes) on entry, names left, old's children left]
        stack: list[list] = []

        def enter(node: _FileInfo, old_node: _FileInfo | None) -> None:
            start = len(changes)
            if old_node is None:
                changes.append(Change(node.path(), ChangeKind.ADD))
                node.added = True
            olds = dict(old_node.children) if old_node is not None and node.is_dir() else {}
            names = sorted(node.children, key=os.fsencode, reverse=True)
            stack.append([node, start, names, olds])

        enter(self, old)
        while stack:
            node, start, names, olds = stack[-1]
            if names:
                name = names.pop()
                new_child = node.children[name]
                old_child = olds.pop(name, None)
                if old_child is not None:
                    assert old_child.st is not None and new_child.st is not None
                    if (
                        stat_different(old_child.st, new_child.st)
                        or old_child.capability != new_child.capability
                    ):
                        changes.append(Change(new_child.path(), ChangeKind.MODIFY))
                        new_child.added = True
                enter(new_child, old_child)
                continue
            stack.pop()
            for name in sorted(olds, key=os.fsencode):
                changes.append(Change(olds[name].path(), ChangeKind.DELETE))
            if len(changes) > start and node.is_dir() and not node.added and node.parent:
                changes.insert(start, Change(node.path(), ChangeKind.MODIFY))


def _scandir_inodes(path: str) -> dict[str, int]:
    try:
        with os.scandir(path) as it:
            return {e.name: e.inode() for e in it}
    except (FileNotFoundError, NotADirectoryError):
        return {}


def _lstat_or_none(path: str) -> os.stat_result | None:
    try:
        return idtools.lstat(path)  # the container's owner, whoever runs the model
    except (FileNotFoundError, NotADirectoryError):
        return None


def _collect(old_dir: str, new_dir: str) -> tuple[_FileInfo, _FileInfo]:
    """Walk both trees in parallel; an entry with the same inode on the same device in
    both is pruned (it is the very same file or subtree).

    moby: pkg/archive/changes_linux.go collectFileInfoForChanges / walker.walk
    """
    old_root, new_root = _FileInfo("/", None), _FileInfo("/", None)

    def register(node_parent: _FileInfo, name: str, full: str, st: os.stat_result) -> _FileInfo:
        node = _FileInfo(name, node_parent, st, lgetxattr(full, "security.capability"))
        node_parent.children[name] = node
        return node

    # an own stack, not recursion: a tree may be thousands of folders deep
    todo: list[
        tuple[str, os.stat_result | None, os.stat_result | None, _FileInfo | None, _FileInfo | None]
    ] = [("", idtools.lstat(old_dir), idtools.lstat(new_dir), old_root, new_root)]
    while todo:
        rel, i1, i2, n1, n2 = todo.pop()
        is1 = i1 is not None and stat.S_ISDIR(i1.st_mode)
        is2 = i2 is not None and stat.S_ISDIR(i2.st_mode)
        if not is1 and not is2:
            continue
        same_dev = i1 is not None and i2 is not None and i1.st_dev == i2.st_dev
        names1 = _scandir_inodes(os.path.join(old_dir, rel)) if is1 else {}
        names2 = _scandir_inodes(os.path.join(new_dir, rel)) if is2 else {}
        names = set(names1) | set(names2)
        for name in sorted(names, key=os.fsencode, reverse=True):
            if name in names1 and name in names2 and same_dev and names1[name] == names2[name]:
                continue
            crel = os.path.join(rel, name) if rel else name
            c1 = c2 = None
            m1 = m2 = None
            if is1:
                p1 = os.path.join(old_dir, crel)
                c1 = _lstat_or_none(p1)
                if c1 is not None and n1 is not None:
                    m1 = register(n1, name, p1, c1)
            if is2:
                p2 = os.path.join(new_dir, crel)
                c2 = _lstat_or_none(p2)
                if c2 is not None and n2 is not None:
                    m2 = register(n2, name, p2, c2)
            todo.append((crel, c1, c2, m1, m2))
    return old_root, new_root


def changes_dirs(new_dir: str, old_dir: str | None) -> list[Change]:
    """Compare two whole trees (moby ChangesDirs, the naive diff of vfs and overlay2).

    A path only in `new_dir` is Add (and so is everything below an added directory);
    only in `old_dir` is Delete (only the top-most deleted path is reported); in both
    but different by `statDifferent` or by `security.capability` is Modify. A
    directory that is unchanged itself but has changes inside is reported as Modify
    (never `/`). A directory whose mtime alone changed is not reported. With
    `old_dir=None` everything is Add. Output is sorted by path.

    moby: pkg/archive/changes.go ChangesDirs
    """
    if old_dir is None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="empty") as empty:
            return changes_dirs(new_dir, empty)
    old_root, new_root = _collect(old_dir, new_dir)
    changes: list[Change] = []
    new_root.add_changes(old_root, changes)
    return sorted(changes, key=_sort_key)


def changes_aufs(layers: list[str], rw: str) -> list[Change]:
    """Changes of an RW directory over its lower layers, reading only `rw` (moby Changes).

    `.wh.<name>` is Delete of `<name>`; root-level `/.wh..wh.*` entries are skipped
    (moby's glob does not match nested paths, so what is inside such a directory is
    still walked, as in moby). Anything else is Add unless the path exists in any
    lower layer (then Modify, except two directories with equal size, mode and mtime,
    which are not reported). When an Add or Delete is recorded and its parent was not,
    a Modify of the parent comes first (PR 13590).

    The overlay forms are read as their AUFS equivalents: a 0/0 character device
    `d/x` counts as `d/.wh.x` (Delete of `/d/x`), and a directory with
    `trusted.overlay.opaque=y` counts as one holding `.wh..wh..opq`, which moby's
    algorithm reports as `D /d/.wh..opq`. Lower paths are looked up with lstat (moby
    uses stat, which follows symlinks out of the layer); the two differ only when the
    lower entry is a symlink. Output is sorted by path.

    moby: pkg/archive/changes.go Changes / collectChanges
    """
    changes: list[Change] = []
    changed_dirs: set[str] = set()

    def record(change: Change, walked: str, is_dir: bool) -> None:
        if is_dir:
            changed_dirs.add(walked)
        if change.kind in (ChangeKind.ADD, ChangeKind.DELETE):
            parent = os.path.dirname(change.path)
            if parent not in changed_dirs and parent != "/":
                changes.append(Change(parent, ChangeKind.MODIFY))
                changed_dirs.add(parent)
        changes.append(change)

    # depth first, each folder's names in order, a folder's content right after it (moby's
    # recursion order, which `record` depends on), with an own stack of names still to see
    stack: list[tuple[str, list[str]]] = []

    def open_dir(rel: str) -> None:
        here = os.path.join(rw, rel) if rel else rw
        try:
            names = sorted(os.listdir(here), key=os.fsencode, reverse=True)
        except (FileNotFoundError, NotADirectoryError):
            return
        stack.append((rel, names))

    open_dir("")
    while stack:
        rel, names = stack[-1]
        if not names:
            stack.pop()
            continue
        name = names.pop()
        crel = f"{rel}/{name}" if rel else name
        full = os.path.join(rw, crel)
        st = _lstat_or_none(full)
        if st is None:
            continue
        path = "/" + crel
        is_dir = stat.S_ISDIR(st.st_mode)
        if "/" not in crel and name.startswith(WHITEOUT_META_PREFIX):
            if is_dir:
                open_dir(crel)
            continue
        if name.startswith(WHITEOUT_PREFIX):
            deleted = os.path.join(os.path.dirname(path), name[len(WHITEOUT_PREFIX) :])
            record(Change(deleted, ChangeKind.DELETE), path, is_dir)
        elif is_char_whiteout(st):
            record(Change(path, ChangeKind.DELETE), path, is_dir)
        else:
            kind = ChangeKind.ADD
            skip = False
            for layer in layers:
                lst = _lstat_or_none(os.path.join(layer, crel))
                if lst is None:
                    continue
                if (
                    stat.S_ISDIR(lst.st_mode)
                    and is_dir
                    and st.st_size == lst.st_size
                    and st.st_mode == lst.st_mode
                    and same_fs_time(st.st_mtime_ns, lst.st_mtime_ns)
                ):
                    skip = True
                kind = ChangeKind.MODIFY
                break
            if not skip:
                record(Change(path, kind), path, is_dir)
        if is_dir:
            if is_opaque_dir(full):
                opq = f"{path}/{WHITEOUT_PREFIX}.opq"
                record(Change(opq, ChangeKind.DELETE), opq, False)
            open_dir(crel)

    return sorted(changes, key=_sort_key)


def changes_size(root: str, changes: list[Change]) -> int:
    """Bytes the Add/Modify changes hold in `root` (see `sum_changes_size`).

    moby: pkg/archive/changes.go ChangesSize
    """
    return sum_changes_size(
        lambda path: _lstat_or_none(os.path.join(root, path.lstrip("/"))), changes
    )


def sum_changes_size(lstat: Callable[[str], os.stat_result | None], changes: list[Change]) -> int:
    """Bytes the Add/Modify changes hold: lstat sizes of non-directories, each hard-linked
    inode once; deletes count 0. `lstat(path)` gives None for a path that is gone.

    moby: pkg/archive/changes.go ChangesSize
    """
    size = 0
    seen: set[tuple[int, int]] = set()
    for change in changes:
        if change.kind not in (ChangeKind.MODIFY, ChangeKind.ADD):
            continue
        st = lstat(change.path)
        if st is None or stat.S_ISDIR(st.st_mode):
            continue
        key = platform.hard_link_key(st)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        size += st.st_size
    return size


def directory_size(path: str) -> int:
    """Sum of lstat sizes of every non-directory with size > 0 below `path`, each inode once
    (a symlink counts its target's length); any depth (see `ioutils.directory_size`).

    moby: pkg/directory/directory_unix.go Size (internal/directory)
    """
    return ioutils.directory_size(path)
