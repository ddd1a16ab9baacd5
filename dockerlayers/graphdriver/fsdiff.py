"""Change detection on merged views (RootFS), naive and upper-dir based.

`changes_rootfs` is moby's naive algorithm (ChangesDirs) on two merged views: compare every
path of the layer's view with its parent's. `upper_changes` gives the same answers for a
union whose lower layers are the parent, but reads only the upper folder (plus lookups in the
lower view), so a diff costs what the RW layer holds, not what the image holds.

moby: pkg/archive/changes.go (ChangesDirs, addChanges, statDifferent), daemon/graphdriver/fsdiff.go
"""

from __future__ import annotations

import os
import stat
import time
from typing import BinaryIO

from dockerlayers import idtools, platform
from dockerlayers.archive.changes import (
    Change,
    ChangeKind,
    changes_dirs,
    changes_size,
    stat_different,
    sum_changes_size,
)
from dockerlayers.archive.whiteouts import WHITEOUT_META_PREFIX, WHITEOUT_PREFIX
from dockerlayers.graphdriver.rootfs import RootFS, _join, _split


def _capability(fs: RootFS, path: str) -> bytes | None:
    host = fs.host_path(path)
    if host is None:
        return None
    try:
        return os.getxattr(host, "security.capability", follow_symlinks=False)
    except (OSError, AttributeError):  # AttributeError: no xattrs here (Pyodide)
        return None


def _add_parent_dirs(changes: dict[str, ChangeKind]) -> list[Change]:
    """Insert a Modify for every folder above a change that is not itself recorded
    (moby: "needed to properly save and restore filesystem permissions"), sorted by path."""
    result = dict(changes)
    for path in changes:
        parent = _split(path)[0]
        while parent != "/" and parent not in result:
            result[parent] = ChangeKind.MODIFY
            parent = _split(parent)[0]
    return [Change(p, k) for p, k in sorted(result.items())]


def changes_rootfs(new: RootFS, old: RootFS | None) -> list[Change]:
    """Naive changes of merged view `new` against merged view `old` (None: all Add).

    moby: pkg/archive/changes.go ChangesDirs
    """
    if new.path is not None and (old is None or old.path is not None):
        # two host folders (vfs, a kernel mount): moby's ChangesDirs on them, which reads
        # each entry once instead of resolving every path from the root (quadratic in depth)
        return changes_dirs(new.path, old.path if old is not None else None)
    found: dict[str, ChangeKind] = {}

    # own work lists, not recursion: a tree may be thousands of folders deep
    to_add: list[str] = []
    to_compare: list[str] = ["/"]

    def added(path: str) -> None:
        to_add.append(path)
        while to_add:
            p = to_add.pop()
            found[p] = ChangeKind.ADD
            if stat.S_ISDIR(new.lstat(p).st_mode):
                to_add.extend(_join(p, name) for name in new.listdir(p))

    while to_compare:
        path = to_compare.pop()
        new_names = new.listdir(path)
        old_names = set(old.listdir(path)) if old is not None else set()
        for name in new_names:
            child = _join(path, name)
            if name not in old_names:
                added(child)
                continue
            old_names.discard(name)
            nst, ost = new.lstat(child), old.lstat(child)  # type: ignore[union-attr]
            if stat_different(ost, nst) or _capability(new, child) != _capability(old, child):  # type: ignore[arg-type]
                found[child] = ChangeKind.MODIFY
            if stat.S_ISDIR(nst.st_mode):
                if stat.S_ISDIR(ost.st_mode):
                    to_compare.append(child)
                else:
                    for sub in new.listdir(child):
                        added(_join(child, sub))
        for name in old_names:
            found[_join(path, name)] = ChangeKind.DELETE

    return _add_parent_dirs(found)


def upper_changes(upper: str, lower: RootFS) -> list[Change]:
    """Changes of a union layer from its upper folder alone, against the lower merged view.

    Gives the answers of `changes_rootfs(union, lower)`, reading only what the upper layer
    holds: entries there are Add (absent below) or Modify (stat differs); whiteouts are
    Delete (when the lower view has the name); an opaque folder deletes what it hides.
    """
    from dockerlayers.graphdriver.union import _is_char_whiteout, layer_dir_is_opaque

    found: dict[str, ChangeKind] = {}

    # own work lists, not recursion: a tree may be thousands of folders deep
    def all_added(path: str, host: str) -> None:
        todo = [(path, host)]
        while todo:
            p, h = todo.pop()
            found[p] = ChangeKind.ADD
            if os.path.isdir(h) and not os.path.islink(h):
                todo.extend((_join(p, n), os.path.join(h, n)) for n in _visible_names(h))

    to_walk: list[tuple[str, str]] = [("/", upper)]
    while to_walk:
        path, host = to_walk.pop()
        upper_names: set[str] = set()
        with os.scandir(host) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            name = entry.name
            if name.startswith(WHITEOUT_META_PREFIX):
                continue
            if name.startswith(WHITEOUT_PREFIX):
                target = _join(path, name[len(WHITEOUT_PREFIX) :])
                if lower.lexists(target):
                    found[target] = ChangeKind.DELETE
                continue
            child = _join(path, name)
            st = entry.stat(follow_symlinks=False)
            if _is_char_whiteout(st):
                if lower.lexists(child):
                    found[child] = ChangeKind.DELETE
                continue
            upper_names.add(name)
            try:
                ost = lower.lstat(child)
            except OSError:
                all_added(child, entry.path)
                continue
            cap_new = _xattr(entry.path, "security.capability")
            if stat_different(ost, st) or cap_new != _capability(lower, child):
                found[child] = ChangeKind.MODIFY
            if stat.S_ISDIR(st.st_mode):
                if stat.S_ISDIR(ost.st_mode):
                    if layer_dir_is_opaque(entry.path):
                        for old_name in lower.listdir(child):
                            if old_name not in _visible_names(entry.path):
                                found[_join(child, old_name)] = ChangeKind.DELETE
                    to_walk.append((child, entry.path))
                else:
                    for sub in _visible_names(entry.path):
                        all_added(_join(child, sub), os.path.join(entry.path, sub))
        if path == "/" and layer_dir_is_opaque(host):
            for old_name in lower.listdir("/"):
                if old_name not in upper_names:
                    found[_join("/", old_name)] = ChangeKind.DELETE

    return _add_parent_dirs(found)


def _visible_names(host: str) -> list[str]:
    """Names in a layer folder that are real entries (not whiteouts or markers)."""
    from dockerlayers.graphdriver.union import _entry_is_whiteout

    names = []
    with os.scandir(host) as it:
        for entry in it:
            if entry.name.startswith(WHITEOUT_PREFIX):
                continue
            if _entry_is_whiteout(entry):
                continue
            names.append(entry.name)
    return sorted(names)


def _xattr(host: str, name: str) -> bytes | None:
    try:
        return os.getxattr(host, name, follow_symlinks=False)
    except (OSError, AttributeError):  # AttributeError: no xattrs here (Pyodide)
        return None


def changes_size_rootfs(fs: RootFS, changes: list[Change]) -> int:
    """Bytes of the Add/Modify non-folders in `fs`, each inode once; deletes count 0.

    moby: pkg/archive/changes.go ChangesSize
    """

    if fs.path is not None:
        return changes_size(fs.path, changes)

    def lstat(path: str) -> os.stat_result | None:
        try:
            return fs.lstat(path)
        except OSError:
            return None

    return sum_changes_size(lstat, changes)


def export_changes_rootfs(
    fs: RootFS, changes: list[Change], out: BinaryIO, *, now: float | None = None
) -> None:
    """Write `changes` as a layer tar read from the merged view `fs` (Delete -> `.wh.`).

    A view backed by one host folder is exported by the archive package directly; a
    user-space union is read file by file from the layer folder that backs each path.

    moby: pkg/archive/changes.go ExportChanges
    """
    # the tar writer loads here: a diff's list of changes needs none of it
    from dockerlayers.archive.tar import TarWriter, copy_exact, export_changes, file_info_header
    from dockerlayers.archive.tarheader import TYPE_LINK, TYPE_REG, TarHeader

    if fs.path is not None:
        export_changes(fs.path, changes, out, now=now)
        return
    tw = TarWriter(out)
    seen: dict[tuple[int, int], str] = {}
    stamp = time.time() if now is None else now
    for change in sorted(changes, key=lambda c: os.fsencode(c.path)):
        name = change.path.lstrip("/")
        if change.kind == ChangeKind.DELETE:
            parent, base = _split(change.path)
            wh = _join(parent, WHITEOUT_PREFIX + base).lstrip("/")
            tw.write_header(TarHeader(name=wh, mtime=int(stamp + 0.5)))
            continue
        host = fs.host_path(change.path)
        if host is None:
            continue  # vanished meanwhile: moby logs and goes on
        try:
            st = idtools.lstat(host)  # the container's owner, whoever runs the model
        except FileNotFoundError:
            continue
        hdr = file_info_header(host, name, st)
        if hdr is None:
            continue
        key = None if stat.S_ISDIR(st.st_mode) else platform.hard_link_key(st)
        if key is not None:
            first = seen.get(key)
            if first is not None:
                hdr.typeflag, hdr.linkname, hdr.size = TYPE_LINK, first, 0
            else:
                seen[key] = hdr.name
        tw.write_header(hdr)
        if hdr.typeflag == TYPE_REG and hdr.size > 0:
            with open(host, "rb") as f:
                copy_exact(f, tw, hdr.size)
    tw.close()
