"""What this Python's OS layer can do, probed once and lazily: features, not platforms.

Under Pyodide (the kernel of a JupyterLite site) there is one process, no threads, no
`os.geteuid`, `os.mknod`, `os.mkfifo` or xattrs, `flock` may be an empty mock (pyodide-kernel),
`os.utime(..., follow_symlinks=False)` raises NotImplementedError and `os.link` fails (the
Emscripten file system has no hard links). The library asks this module instead of calling
those directly, so the same code runs in both places.

Module attributes (`HAS_FLOCK`, `CAN_MKNOD`, `HAS_MKFIFO`, `HAS_XATTR`, `HAS_LINK`,
`CAN_THREAD`, `IS_ROOT`) are probed on first read and cached.
"""

from __future__ import annotations

import functools
import os
import stat
import threading
import time
from typing import Any


def is_root() -> bool:
    """Whether this process runs as root (False where there is no `os.geteuid`); asked
    each time, so a process that drops to another uid sees the change."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


#: the lock file `try_lock` is about to take: `has_flock` probes on it when it has not
#: probed yet (the root's own file system, and no temp folder to make and remove)
_probe_file: str | None = None


@functools.cache
def has_flock() -> bool:
    """Whether `fcntl.flock` really excludes: a second open file description of a locked file
    cannot take the lock (an empty mock lets it)."""
    try:
        import fcntl
    except ImportError:
        return False
    if not hasattr(fcntl, "flock"):
        return False
    if _probe_file is not None:
        return _flock_excludes(fcntl, _probe_file)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dockerlayers-probe-") as d:
        path = os.path.join(d, "lock")
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        return _flock_excludes(fcntl, path)


def _flock_excludes(fcntl: Any, path: str) -> bool:
    """Lock `path` through one open file description, then try through a second (both
    read-only: the probe changes nothing)."""
    a = os.open(path, os.O_RDONLY)
    b = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True  # another process holds it: only a real lock refuses
        except (OSError, NotImplementedError):
            return False
        try:
            fcntl.flock(b, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True  # the second one was refused: a real lock
        return False
    finally:
        os.close(b)
        os.close(a)


def can_mknod() -> bool:
    """Whether device nodes can be made (root and an `os.mknod`)."""
    return hasattr(os, "mknod") and is_root()


def has_mkfifo() -> bool:
    return hasattr(os, "mkfifo")


def has_xattr() -> bool:
    return all(hasattr(os, n) for n in ("getxattr", "setxattr", "listxattr", "removexattr"))


@functools.cache
def has_link() -> bool:
    """Whether the file system gives hard links (a trial `os.link` in a temp folder)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dockerlayers-probe-") as d:
        a, b = os.path.join(d, "a"), os.path.join(d, "b")
        with open(a, "wb"):
            pass
        try:
            os.link(a, b)
            return os.stat(a).st_nlink == 2
        except (OSError, NotImplementedError, AttributeError):
            return False


@functools.cache
def can_thread() -> bool:
    """Whether a thread can be started (WebAssembly builds without pthreads cannot)."""
    try:
        t = threading.Thread(target=lambda: None, daemon=True)
        t.start()
        t.join()
    except (RuntimeError, OSError):
        return False
    return True


@functools.cache
def _utime_nofollow_works() -> bool:
    return os.utime in os.supports_follow_symlinks


_symlink_mtimes: dict[tuple[int, int], int] = {}  # symlink inode -> mtime_ns set by the model


def lutime(path: str, times: tuple[float, float] | None = None, *, ns: Any = None) -> None:
    """`os.utime(path, ..., follow_symlinks=False)`; where the OS cannot set a symlink's own
    times, the model keeps its mtime (`mtime_ns` reads it back; the target is not touched)."""
    kw = {"ns": ns} if ns is not None else {}
    try:
        os.utime(path, times, follow_symlinks=False, **kw)
    except NotImplementedError:
        st = os.lstat(path)
        if not stat.S_ISLNK(st.st_mode):
            os.utime(path, times, **kw)
            return
        if ns is not None:
            mt = int(ns[1])
        elif times is not None:
            mt = int(round(times[1] * 1e9))
        else:
            mt = time.time_ns()
        _symlink_mtimes[(st.st_dev, st.st_ino)] = mt


def mtime_ns(st: os.stat_result) -> int:
    """`st_mtime_ns`, or the mtime `lutime` kept for a symlink the OS could not time."""
    if _symlink_mtimes and stat.S_ISLNK(st.st_mode):
        return _symlink_mtimes.get((st.st_dev, st.st_ino), st.st_mtime_ns)
    return st.st_mtime_ns


def link(src: str, dst: str) -> None:
    """A hard link `dst` to `src`; where the file system has none, a copy (content, mode,
    times) recorded as one more name of `src` (see `hard_link_key`)."""
    if has_link():
        os.link(src, dst, follow_symlinks=False)
        return
    if os.path.islink(src):
        os.symlink(os.readlink(src), dst)
    else:
        import shutil

        shutil.copy2(src, dst, follow_symlinks=False)
    _record_link(os.lstat(src), os.lstat(dst))


def mknod(path: str, mode: int, device: int = 0) -> None:
    """`os.mknod`, or EPERM where there is none (as for a non-root user)."""
    if not hasattr(os, "mknod"):
        raise PermissionError(1, "Operation not permitted", path)
    os.mknod(path, mode, device)


def mkfifo(path: str, mode: int = 0o666) -> None:
    """`os.mkfifo`, or EPERM where there is none."""
    if not hasattr(os, "mkfifo"):
        raise PermissionError(1, "Operation not permitted", path)
    os.mkfifo(path, mode)


_held: set[str] = set()  # roots this process holds where flock is missing or a mock
_held_lock = threading.Lock()


def try_lock(fd: int, path: str) -> bool:
    """Take the exclusive lock of the open lock file `fd` (at `path`) without waiting: `flock`
    where it excludes, else a table of the paths this process holds (where flock is a mock
    there is one process). False if it is held."""
    global _probe_file
    _probe_file = _probe_file or path
    if has_flock():
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
    key = os.path.realpath(path)
    with _held_lock:
        if key in _held:
            return False
        _held.add(key)
    return True


def unlock(fd: int, path: str) -> None:
    """Let go of a lock `try_lock` took (the caller closes `fd`)."""
    if has_flock():
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)
        return
    with _held_lock:
        _held.discard(os.path.realpath(path))


_FEATURES = {
    "HAS_FLOCK": has_flock,
    "CAN_MKNOD": can_mknod,
    "HAS_MKFIFO": has_mkfifo,
    "HAS_XATTR": has_xattr,
    "HAS_LINK": has_link,
    "CAN_THREAD": can_thread,
    "IS_ROOT": is_root,
}


def __getattr__(name: str) -> bool:
    probe = _FEATURES.get(name)
    if probe is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return probe()


# -- hard links the file system cannot keep ---------------------------------------------------
# Where os.link fails, `link` copies the file and records the copy's inode as one more name of
# the original's: the tar writers, the size walks and the layer copy ask `hard_link_key`
# instead of (st_nlink > 1, (st_dev, st_ino)), so layer tars (TYPE_LINK entries), sizes and
# image IDs are the same as with real links. Keyed by inode: Emscripten never reuses one.
_link_canon: dict[tuple[int, int], tuple[int, int]] = {}  # a copy's inode -> the group's
_link_count: dict[tuple[int, int], int] = {}  # the group's inode -> names made


def _record_link(src_st: os.stat_result, dst_st: os.stat_result) -> None:
    src = (src_st.st_dev, src_st.st_ino)
    canon = _link_canon.get(src, src)
    _link_canon[(dst_st.st_dev, dst_st.st_ino)] = canon
    _link_count[canon] = _link_count.get(canon, 1) + 1


def hard_link_key(st: os.stat_result) -> tuple[int, int] | None:
    """The inode a file shares with its other names, or None if it has no other name."""
    if st.st_nlink > 1:
        return (st.st_dev, st.st_ino)
    if not _link_count:
        return None
    key = (st.st_dev, st.st_ino)
    canon = _link_canon.get(key, key)
    return canon if canon in _link_count else None


def inode_key(st: os.stat_result) -> tuple[int, int]:
    """The file's inode as (st_dev, st_ino), shared by all its names: where `link` copied
    for want of hard links, the inode of the group's first name."""
    key = (st.st_dev, st.st_ino)
    return _link_canon.get(key, key) if _link_canon else key


def nlink(st: os.stat_result) -> int:
    """`st_nlink`, counting the names `link` recorded where the file system has no links."""
    if st.st_nlink > 1 or not _link_count:
        return st.st_nlink
    key = (st.st_dev, st.st_ino)
    return _link_count.get(_link_canon.get(key, key), st.st_nlink)


@functools.cache
def _blocks_are_512_units() -> bool:
    """Whether `st_blocks` counts 512-byte units, as POSIX says (Linux file systems do).
    Emscripten's MEMFS (Pyodide) counts `st_blksize` blocks there: a 5000-byte file shows 2."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "probe")
        with open(p, "wb") as f:
            f.write(b"x" * 5000)
        return os.lstat(p).st_blocks * 512 >= 5000


def allocated_bytes(st: os.stat_result) -> int:
    """The bytes a file takes on disk (`du`'s figure): `st_blocks` x 512, or where the file
    system counts whole blocks in `st_blocks`, those blocks (symlinks: none, as ext4's fast
    symlinks), so the figure is the one a 4 KiB-block file system gives."""
    if _blocks_are_512_units():
        return st.st_blocks * 512
    return 0 if stat.S_ISLNK(st.st_mode) else st.st_blocks * st.st_blksize
