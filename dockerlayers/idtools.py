"""Ownership as the container sees it, whoever runs the model.

A container's files belong to the uids and gids of the container (root, or the user its
process runs as), never to whoever runs the model. Run as root, the model keeps them on
disk as they are (`lchown`), as dockerd does. Run unprivileged (uid 1000 on Binder) it
cannot chown, so it does what rootless Podman does with fuse-overlayfs: every file is the
host user's on disk, the host user stands for the container's root (a one-entry identity
mapping, 1000 -> 0), and any other owner is kept in an extended attribute,
`user.dockerlayers.override_stat` = `b"<uid>:<gid>[:0<mode>]"` (containers/storage keeps
`user.containers.override_stat` the same way). Symlinks and device nodes cannot carry user
xattrs, so theirs is kept on their folder, `user.dockerlayers.override_stat.<name>` (a side
table in the parent); where the OS has no xattrs at all (Pyodide) the model keeps the same
records in a table keyed by inode, as it keeps hard links there (platform.link). A mode
that would shut the host user out of its own file (a 0555 folder, a 0000 file) is widened
on disk to what the host user needs and kept in the same record, so the container's root
still works there as on the engine. Every reader of ownership (the RootFS views, layer
tars, changes) asks `owner`/`lstat` here, so the same operations give the same layer tars,
DiffIDs and image IDs as root and as any user. The xattrs themselves are never written to
a tar.

moby: pkg/idtools (IdentityMapping: the rootless remapping of the host user to 0);
containers/storage: drivers/overlay (`user.containers.override_stat`),
fuse-overlayfs (`user.fuseoverlayfs.override_stat`)
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

from dockerlayers import platform
from dockerlayers.archive._xattr import lgetxattr, lremovexattr, lsetxattr

#: The xattr holding a file's container owner when the model cannot chown.
OVERRIDE_XATTR = "user.dockerlayers.override_stat"
#: The prefix of the per-name entries a folder keeps for its symlinks and devices.
OVERRIDE_CHILD_PREFIX = OVERRIDE_XATTR + "."
_UNSUPPORTED = {errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.ENODATA}
_N = os.stat_result.n_sequence_fields
_SEQ = frozenset(os.stat_result.__match_args__)  # the named fields of the tuple part


def privileged() -> bool:
    """True when the model runs as root: ownership is real ownership (asked each time, so
    a process that drops to another uid sees the change; False without `os.geteuid`, as
    under Pyodide)."""
    return platform.is_root()


def _euid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else os.getuid()


def _egid() -> int:
    return os.getegid() if hasattr(os, "getegid") else os.getgid()


def _host_ids(st: os.stat_result) -> tuple[int, int]:
    """The container's view of an owner with no xattr: the host user stands for root."""
    uid = 0 if st.st_uid == _euid() else st.st_uid
    gid = 0 if st.st_gid == _egid() else st.st_gid
    return uid, gid


def is_override_xattr(name: str) -> bool:
    """True for the xattrs this module keeps (never copied into a layer tar)."""
    return name.startswith(OVERRIDE_XATTR)


def _xattr_holder(path: str, st: os.stat_result) -> tuple[str, str]:
    """(host path, xattr name) where the container owner of `path` is kept."""
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return path, OVERRIDE_XATTR
    parent, name = os.path.split(path)
    return parent, OVERRIDE_CHILD_PREFIX + name


# Where the OS has no xattrs at all (Pyodide: Emscripten's file system, where chown is a no-op
# too) the records are kept by the model, keyed by the holder's inode as the xattr would be
# (hard links the model emulates share their group's inode: platform.inode_key). One process
# there, and Emscripten never reuses an inode number, so the table is what the xattrs would
# hold: the same owners and modes, hence the same layer tars and IDs, as on CPython.
_records: dict[tuple[tuple[int, int], str], bytes] = {}


def get_record(holder: str, name: str) -> bytes | None:
    """The owner record `name` kept on the host file `holder` (None if there is none)."""
    if platform.has_xattr():
        try:
            return lgetxattr(holder, name)
        except OSError:
            return None
    try:
        return _records.get((platform.inode_key(os.lstat(holder)), name))
    except FileNotFoundError:
        return None


def set_record(holder: str, name: str, value: bytes | None) -> None:
    """Keep (or with None, drop) the owner record `name` on the host file `holder`."""
    if platform.has_xattr():
        if value is None:
            lremovexattr(holder, name)
        else:
            lsetxattr(holder, name, value)
        return
    key = (platform.inode_key(os.lstat(holder)), name)
    if value is None:
        _records.pop(key, None)
    else:
        _records[key] = value


def _stored(path: str, st: os.stat_result) -> tuple[int, int, int | None]:
    """(uid, gid, mode or None) the container sees, from the record or the host ids."""
    holder, name = _xattr_holder(path, st)
    raw = get_record(holder, name)
    if raw is None:
        return (*_host_ids(st), None)
    parts = raw.decode("ascii", "replace").split(":")
    try:
        mode = int(parts[2], 8) if len(parts) > 2 else None
        return int(parts[0]), int(parts[1]), mode
    except (ValueError, IndexError):
        return (*_host_ids(st), None)


def _write(path: str, st: os.stat_result, uid: int, gid: int, mode: int | None) -> None:
    """Record uid:gid[:mode] for `path`, or drop the record when the host file says it all."""
    holder, name = _xattr_holder(path, st)
    if (uid, gid) == _host_ids(st) and mode is None:
        set_record(holder, name, None)
        return
    value = f"{uid}:{gid}" + ("" if mode is None else f":0{mode:o}")
    set_record(holder, name, value.encode())


def owner(path: str, st: os.stat_result) -> tuple[int, int]:
    """The (uid, gid) the container sees for the host file `path` (`st` its lstat)."""
    if privileged():
        return st.st_uid, st.st_gid
    uid, gid, _ = _stored(path, st)
    return uid, gid


def view(path: str, st: os.stat_result) -> os.stat_result:
    """`st` with the container's uid, gid and permission bits in place of the host's."""
    if privileged():
        return st
    uid, gid, mode = _stored(path, st)
    full = st.st_mode if mode is None else stat.S_IFMT(st.st_mode) | mode
    if (uid, gid, full) == (st.st_uid, st.st_gid, st.st_mode):
        return st
    # only the fields past the tuple part (Python 3.13+ refuses a duplicate of a tuple field)
    extra = {k: getattr(st, k) for k in dir(st) if k.startswith("st_") and k not in _SEQ}
    return os.stat_result((full, *tuple(st)[1:4], uid, gid, *tuple(st)[6:_N]), extra)


def lstat(path: str) -> os.stat_result:
    """os.lstat of a host file, owned (and moded) as the container sees it."""
    st = os.lstat(path)
    return view(path, st)


def lchown(path: str, uid: int, gid: int) -> None:
    """Make the container see `path` owned by uid:gid (never following a symlink).

    Root chowns for real; an unprivileged model records the owner in the xattr (and
    removes it for 0:0, which the host user's own files stand for). A file system
    without user xattrs cannot keep an owner other than root: ENOTSUP is raised here;
    `copy_owner_ids` (what the RootFS views use) keeps root instead (docs/differences.md).
    """
    if privileged():
        os.lchown(path, uid, gid)
        return
    st = os.lstat(path)
    _write(path, st, uid, gid, _stored(path, st)[2])
    if not stat.S_ISDIR(st.st_mode) and not stat.S_ISLNK(st.st_mode):
        # as the kernel's chown: setuid goes, setgid too where group-exec is set (root
        # included, since Linux 2.2.13). linux: fs/open.c chown_common, should_remove_suid
        mode = stat.S_IMODE(view(path, os.lstat(path)).st_mode)
        kill = stat.S_ISUID if mode & stat.S_ISUID else 0
        if mode & stat.S_ISGID and mode & stat.S_IXGRP:
            kill |= stat.S_ISGID
        if kill:
            chmod(path, mode & ~kill)


#: what the host user keeps for itself on a file or folder, whatever the container's mode
_HOST_NEEDS = {stat.S_IFDIR: 0o700, stat.S_IFREG: 0o600}


def chmod(path: str, mode: int) -> None:
    """Make the container see permission bits `mode` on `path` (a file or folder).

    Root chmods for real. Unprivileged, the host file keeps the bits its owner needs to
    go on working in it (folders u+rwx, files u+rw: a 0555 folder must still take new
    files from the container's root) and the container's mode goes in the xattr when it
    differs, as fuse-overlayfs keeps it.
    """
    mode &= 0o7777
    if privileged():
        os.chmod(path, mode)
        return
    st = os.lstat(path)
    host = mode | _HOST_NEEDS.get(stat.S_IFMT(st.st_mode), 0)
    os.chmod(path, host)
    uid, gid, _ = _stored(path, st)
    try:
        # setuid/setgid are kept in the record too: the host kernel drops them from the
        # file when its unprivileged owner writes it, where the container's root keeps them
        keep = host == mode and not mode & (stat.S_ISUID | stat.S_ISGID)
        _write(path, os.lstat(path), uid, gid, None if keep else mode)
    except OSError as e:
        if e.errno not in _UNSUPPORTED:
            raise


def forget(path: str, st: os.stat_result) -> None:
    """Drop the folder's entry for a symlink or device at `path` that is going away (so a
    new entry of the same name does not inherit its owner). Files and folders carry
    their own xattr and need nothing."""
    if privileged() or stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return
    holder, name = _xattr_holder(path, st)
    set_record(holder, name, None)


def copy_owner(src: str, src_st: os.stat_result, dst: str) -> None:
    """Give `dst` the container owner (and mode) of `src` (copy-up, vfs copies); the
    host mode is copied by the caller."""
    if privileged():
        return
    uid, gid, mode = _stored(src, src_st)
    try:
        _write(dst, os.lstat(dst), uid, gid, mode)
    except OSError as e:
        if e.errno not in _UNSUPPORTED:
            raise


def unlink(path: str) -> None:
    """os.unlink, dropping a symlink's or device's owner entry from its folder."""
    if not privileged():
        with contextlib.suppress(FileNotFoundError):
            forget(path, os.lstat(path))
    os.unlink(path)


def rename(src: str, dst: str) -> None:
    """os.rename, carrying a symlink's or device's owner entry to its new name."""
    if privileged():
        os.rename(src, dst)
        return
    st = os.lstat(src)
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        os.rename(src, dst)
        return
    own = owner(src, st)
    forget(src, st)
    if os.path.lexists(dst):
        with contextlib.suppress(FileNotFoundError):
            forget(dst, os.lstat(dst))
    os.rename(src, dst)
    copy_owner_ids(dst, own)


def copy_owner_ids(path: str, ids: tuple[int, int]) -> None:
    """`lchown`, where a file system without user xattrs keeps root (no error)."""
    try:
        lchown(path, *ids)
    except OSError as e:
        if privileged() or e.errno not in _UNSUPPORTED:
            raise


def fresh(path: str) -> None:
    """A symlink or device just made at `path` belongs to whoever made it (its folder may
    still hold the entry of an earlier one of the same name)."""
    if not privileged():
        with contextlib.suppress(FileNotFoundError):
            forget(path, os.lstat(path))
