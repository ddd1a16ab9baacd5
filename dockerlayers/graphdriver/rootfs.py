"""RootFS: a container's filesystem seen from inside, with absolute in-container paths.

Every access to a container's files goes through a RootFS. Paths are resolved the way the
kernel resolves them inside the container's mount namespace: symlinks are followed with the
container root as `/`, so no path, absolute or `..`, ever leaves the root (like moby's
`FollowSymlinkInScope` / securejoin).

Subclasses implement a handful of primitives on *resolved* paths (no symlink components
except maybe the last): `DirRootFS` on a plain host directory (vfs layers, base layers, a
kernel overlay mount), `UnionRootFS` (graphdriver/union.py) on a stack of layer folders.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from typing import IO, Any

from dockerlayers import idtools, platform

_MAX_SYMLINKS = 40
#: The umask a container's processes run with (runc's default), not the host's.
UMASK = 0o022


#: Character devices a container may open: Docker's default device cgroup rules (null,
#: zero, full, random, urandom). The terminals (tty 5:0, ptmx 5:2, pts 136:*) are allowed
#: too but a container without `-t` has none: ENXIO. Everything else: EPERM.
#: moby: oci/defaults.go DefaultLinuxSpec Resources.Devices, oci/devices_linux.go
ALLOWED_DEVICES = {(1, 3), (1, 5), (1, 7), (1, 8), (1, 9)}
_TERMINALS = {(5, 0), (5, 1), (5, 2)}
_NULL = (1, 3)


class WouldBlock(OSError):
    """The read or open never returns in a container: a FIFO with no peer, reading all of
    an endless device (zero, urandom...). The process blocks (forever); the daemon and the
    CLI do not."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EAGAIN, "blocks forever", path)


def check_special(st: os.stat_result, path: str) -> None:
    """What opening a non-regular file does in a container (never a host device beyond
    the allowed ones)."""
    mode = st.st_mode
    if stat.S_ISFIFO(mode):
        raise WouldBlock(path)
    if stat.S_ISSOCK(mode):
        raise _err(errno.ENXIO, path)
    if stat.S_ISBLK(mode):
        raise _err(errno.EPERM, path)
    if stat.S_ISCHR(mode):
        dev = (os.major(st.st_rdev), os.minor(st.st_rdev))
        if dev in ALLOWED_DEVICES:
            return
        if dev in _TERMINALS or dev[0] == 136:
            raise _err(errno.ENXIO, path)
        raise _err(errno.EPERM, path)


def _err(code: int, path: str) -> OSError:
    return OSError(code, os.strerror(code), path)


def normpath(path: str) -> str:
    """Lexically normalise an in-container path to `/a/b` form (`..` cannot climb over `/`)."""
    parts: list[str] = []
    for comp in path.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if parts:
                parts.pop()
            continue
        parts.append(comp)
    return "/" + "/".join(parts)


def _split(path: str) -> tuple[str, str]:
    head, _, tail = path.rpartition("/")
    return (head or "/"), tail


def _join(parent: str, name: str) -> str:
    return parent + name if parent == "/" else parent + "/" + name


_WRITE_FLAGS = {
    "r": os.O_RDONLY,
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


def _mode_flags(mode: str) -> int:
    base = mode.replace("b", "").replace("t", "")
    plus = "+" in base
    kind = base.replace("+", "")
    if kind not in _WRITE_FLAGS or len(kind) != 1:
        raise ValueError(f"invalid mode: {mode!r}")
    flags = _WRITE_FLAGS[kind]
    if plus:
        flags = (flags & ~(os.O_WRONLY | os.O_RDONLY)) | os.O_RDWR
    return flags


class _FileProxy:
    """A file object that runs a callback once when closed (to set the clock's mtime)."""

    def __init__(self, raw: IO[Any], on_close: Callable[[], None]) -> None:
        self._raw = raw
        self._on_close: Callable[[], None] | None = on_close

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            callback, self._on_close = self._on_close, None
            if callback is not None:
                callback()

    def __enter__(self) -> _FileProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._raw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class StatQueries:
    """`exists`, `lexists`, `isdir`, `isfile`, `islink` from a view's own `stat`/`lstat`
    (os.path's answers: any OSError is False), for every view of a container's files."""

    def stat(self, path: str) -> os.stat_result:
        raise NotImplementedError

    def lstat(self, path: str) -> os.stat_result:
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
            return True
        except OSError:
            return False

    def lexists(self, path: str) -> bool:
        try:
            self.lstat(path)
            return True
        except OSError:
            return False

    def isdir(self, path: str) -> bool:
        try:
            return stat.S_ISDIR(self.stat(path).st_mode)
        except OSError:
            return False

    def isfile(self, path: str) -> bool:
        try:
            return stat.S_ISREG(self.stat(path).st_mode)
        except OSError:
            return False

    def islink(self, path: str) -> bool:
        try:
            return stat.S_ISLNK(self.lstat(path).st_mode)
        except OSError:
            return False


class RootFS(StatQueries):
    """The merged view of a container's (or a layer's) files.

    `path` is the host folder holding the merged view when one exists (a vfs layer, a base
    layer, a kernel overlay mount), else None (the user-space union has no single folder).
    `now` gives the time used for the mtimes this RootFS sets (the daemon's clock, so a
    virtual clock makes layer tars and image IDs reproducible); None = the OS decides.
    """

    path: str | None = None
    read_only: bool = False

    def __init__(self, *, now: Callable[[], float] | None = None) -> None:
        self._now = now

    # -- primitives, on resolved paths -------------------------------------------------
    def _lstat(self, p: str) -> os.stat_result:
        raise NotImplementedError

    def _readlink(self, p: str) -> str:
        raise NotImplementedError

    def _listdir(self, p: str) -> list[str]:
        raise NotImplementedError

    def _open(self, p: str, flags: int, mode: int) -> int:
        """Open and return an OS file descriptor."""
        raise NotImplementedError

    def _host_path_for_write(self, p: str) -> str:
        """Host path whose mtime follows writes to `p` (after `_open` for writing)."""
        raise NotImplementedError

    def _mkdir(self, p: str, mode: int) -> None:
        raise NotImplementedError

    def _unlink(self, p: str) -> None:
        raise NotImplementedError

    def _rmdir(self, p: str) -> None:
        raise NotImplementedError

    def _rename(self, src: str, dst: str) -> None:
        raise NotImplementedError

    def _check_rename(self, src: str, st: os.stat_result) -> None:
        """Refuse a rename the file system cannot do (a union: EXDEV for merged folders).
        Called after the type checks and before the target-not-empty check, the kernel's
        order."""

    def _symlink(self, target: str, p: str) -> None:
        raise NotImplementedError

    def _link(self, src: str, dst: str) -> None:
        raise NotImplementedError

    def _chmod(self, p: str, mode: int) -> None:
        raise NotImplementedError

    def _chown(self, p: str, uid: int, gid: int) -> None:
        raise NotImplementedError

    def _utime(self, p: str, times: tuple[float, float] | None) -> None:
        raise NotImplementedError

    def host_path(self, path: str) -> str | None:
        """The host file that currently backs `path` (for reading), or None if absent."""
        raise NotImplementedError

    # -- resolution ----------------------------------------------------------------------
    def _known_dir(self, p: str) -> bool:
        """True when `p` (resolved) is known to be a folder without asking the disk."""
        return False

    def resolve(self, path: str, follow: bool = True) -> str:
        """Resolve `path` inside the root: every symlink in the middle (and at the end if
        `follow`) is followed with the container root as `/`. The result may not exist
        (its parent does). Raises FileNotFoundError / NotADirectoryError / ELOOP.
        """
        return self._resolve(path, follow)[0]

    def _resolve(self, path: str, follow: bool) -> tuple[str, os.stat_result | None]:
        """`resolve`, plus the lstat of the result when it exists (None when it does not,
        or when the path ends in `..` or names the root)."""
        pending = [c for c in path.split("/") if c not in ("", ".")]
        pending.reverse()  # a stack: next component at the end
        parts: list[str] = []
        links = 0
        known_dir = self._known_dir
        while pending:
            comp = pending.pop()
            if comp == "..":
                if parts:
                    parts.pop()
                continue
            cur = "/" + "/".join(parts) + "/" + comp if parts else "/" + comp
            last = not pending
            if not last and known_dir(cur):
                parts.append(comp)
                continue
            try:
                st = self._lstat(cur)
            except FileNotFoundError:
                if last:
                    return cur, None
                raise _err(errno.ENOENT, path) from None
            if stat.S_ISLNK(st.st_mode) and (follow or not last):
                links += 1
                if links > _MAX_SYMLINKS:
                    raise _err(errno.ELOOP, path)
                target = self._readlink(cur)
                if target.startswith("/"):
                    parts = []
                comps = [c for c in target.split("/") if c not in ("", ".")]
                pending.extend(reversed(comps))
                continue
            if last:
                return cur, st
            if not stat.S_ISDIR(st.st_mode):
                raise _err(errno.ENOTDIR, path)
            parts.append(comp)
        return "/" + "/".join(parts), None

    def _existing(self, path: str, follow: bool = True) -> tuple[str, os.stat_result]:
        p, st = self._resolve(path, follow)
        if st is not None:
            return p, st
        try:
            return p, self._lstat(p)
        except FileNotFoundError:
            raise _err(errno.ENOENT, path) from None

    def _check_writable(self, path: str) -> None:
        if self.read_only:
            raise _err(errno.EROFS, path)

    def _touch(self, *paths: str) -> None:
        """Set the clock's time as mtime on changed entries (and their parent folders)."""
        if self._now is None:
            return
        t = self._now()
        for p in paths:
            try:
                self._utime(p, (t, t))
            except OSError:
                pass

    # -- reading -------------------------------------------------------------------------
    def lstat(self, path: str) -> os.stat_result:
        return self._existing(path, follow=False)[1]

    def stat(self, path: str) -> os.stat_result:
        return self._existing(path, follow=True)[1]

    def readlink(self, path: str) -> str:
        p, st = self._existing(path, follow=False)
        if not stat.S_ISLNK(st.st_mode):
            raise _err(errno.EINVAL, path)
        return self._readlink(p)

    def listdir(self, path: str = "/") -> list[str]:
        p, st = self._existing(path)
        if not stat.S_ISDIR(st.st_mode):
            raise _err(errno.ENOTDIR, path)
        return sorted(self._listdir(p))

    def walk(self, top: str = "/") -> Iterator[tuple[str, list[str], list[str]]]:
        """Like os.walk (top-down, symlinks to folders not followed), in-container paths;
        the caller may prune `dirs` in place. An own stack: any depth."""
        try:
            start = self.resolve(top)
        except OSError:
            return
        todo = [start]
        while todo:
            top_p = todo.pop()
            try:
                names = self.listdir(top_p)
            except OSError:
                continue
            dirs, files = [], []
            for name in names:
                try:
                    st = self._lstat(_join(top_p, name))
                except OSError:
                    continue
                (dirs if stat.S_ISDIR(st.st_mode) else files).append(name)
            yield top_p, dirs, files
            todo.extend(_join(top_p, name) for name in reversed(dirs))

    def open(self, path: str, mode: str = "r", encoding: str | None = None) -> IO[Any]:
        """Open a file like the builtin `open`; writes land where the driver puts them."""
        flags = _mode_flags(mode)
        writing = flags & (os.O_WRONLY | os.O_RDWR)
        if writing:
            self._check_writable(path)
        p = self.resolve(path, follow=True)
        created = False
        try:
            st = self._lstat(p)
            if stat.S_ISDIR(st.st_mode):
                raise _err(errno.EISDIR, path)
        except FileNotFoundError:
            if not flags & os.O_CREAT:
                raise _err(errno.ENOENT, path) from None
            created = True
        else:
            if flags & os.O_EXCL:
                raise _err(errno.EEXIST, path)
            if not stat.S_ISREG(st.st_mode):
                check_special(st, path)
        fd = self._open(p, flags, 0o666 & ~UMASK)
        if created:
            self._chmod(p, 0o666 & ~UMASK)
        binary = "b" in mode
        raw = os.fdopen(
            fd,
            mode if binary else mode.replace("t", ""),
            encoding=None if binary else (encoding or "utf-8"),
        )
        if writing and self._now is not None and (created or stat.S_ISREG(st.st_mode)):
            parent = _split(p)[0]
            host = self._host_path_for_write(p)

            def _done() -> None:
                t = self._now()  # type: ignore[misc]
                os.utime(host, (t, t))
                if created:  # O_CREAT on an existing file leaves its folder alone
                    self._touch(parent)

            return _FileProxy(raw, _done)  # type: ignore[return-value]
        return raw

    def read_bytes(self, path: str) -> bytes:
        """The whole file; reading all of an endless device never ends (WouldBlock)."""
        with self.open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if stat.S_ISCHR(st.st_mode):
                if (os.major(st.st_rdev), os.minor(st.st_rdev)) != _NULL:
                    raise WouldBlock(path)
                return b""
            return f.read()

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding)

    # -- writing -------------------------------------------------------------------------
    def write_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Write a whole file; a new file gets `mode`."""
        existed = self.exists(path)
        with self.open(path, "wb") as f:
            f.write(data)
        if not existed:
            self.chmod(path, mode)

    def write_text(self, path: str, text: str, mode: int = 0o644) -> None:
        self.write_bytes(path, text.encode(), mode)

    def mkdir(
        self, path: str, mode: int = 0o755, parents: bool = False, exist_ok: bool = False
    ) -> None:
        self._check_writable(path)
        if parents:
            head = normpath(path)
            acc = ""
            for comp in head.split("/")[1:]:
                acc += "/" + comp
                if not self.isdir(acc):
                    self.mkdir(acc, mode, parents=False, exist_ok=True)
            return
        p = self.resolve(path, follow=False)
        try:
            st = self._lstat(p)
        except FileNotFoundError:
            self._mkdir(p, mode)
            self._touch(p, _split(p)[0])
            return
        if exist_ok and stat.S_ISDIR(st.st_mode):
            return
        if exist_ok and stat.S_ISLNK(st.st_mode) and self.isdir(path):
            return
        raise _err(errno.EEXIST, path)

    def remove(self, path: str) -> None:
        """Remove a file, symlink or other non-directory (like os.remove)."""
        self._check_writable(path)
        p, st = self._existing(path, follow=False)
        if stat.S_ISDIR(st.st_mode):
            raise _err(errno.EISDIR, path)
        self._unlink(p)
        self._touch(_split(p)[0])

    unlink = remove

    def rmdir(self, path: str) -> None:
        self._check_writable(path)
        p, st = self._existing(path, follow=False)
        if not stat.S_ISDIR(st.st_mode):
            raise _err(errno.ENOTDIR, path)
        if p == "/":
            raise _err(errno.EBUSY, path)
        if self._listdir(p):
            raise _err(errno.ENOTEMPTY, path)
        self._rmdir(p)
        self._touch(_split(p)[0])

    def rmtree(self, path: str) -> None:
        """Remove a folder and everything in it (like `rm -rf`), through this view (an own
        stack: any depth)."""
        p, st = self._existing(path, follow=False)
        if not stat.S_ISDIR(st.st_mode):
            self.remove(p)
            return
        stack: list[tuple[str, list[str]]] = [(p, list(self._listdir(p)))]
        while stack:
            d, names = stack[-1]
            if not names:
                stack.pop()
                self.rmdir(d)
                continue
            child = _join(d, names.pop())
            if stat.S_ISDIR(self._lstat(child).st_mode):
                stack.append((child, list(self._listdir(child))))
            else:
                self.remove(child)

    def rename(self, src: str, dst: str) -> None:
        self._check_writable(src)
        s, sst = self._existing(src, follow=False)
        d = self.resolve(dst, follow=False)
        if s == d:
            return
        if s == "/" or d == "/" or (d + "/").startswith(s + "/"):
            raise _err(errno.EINVAL, src)
        if (s + "/").startswith(d + "/"):
            raise _err(errno.ENOTEMPTY, dst)  # onto its own ancestor (the kernel's trap)
        if self.path is not None:
            # one host folder (or a kernel mount): the kernel checks, in its own order
            self._rename(s, d)
            self._touch(_split(s)[0], _split(d)[0])
            return
        try:
            dst_st = self._lstat(d)
        except FileNotFoundError:
            dst_st = None
        if dst_st is not None:
            if stat.S_ISDIR(sst.st_mode) and not stat.S_ISDIR(dst_st.st_mode):
                raise _err(errno.ENOTDIR, dst)
            if not stat.S_ISDIR(sst.st_mode) and stat.S_ISDIR(dst_st.st_mode):
                raise _err(errno.EISDIR, dst)
            if (sst.st_dev, sst.st_ino) == (dst_st.st_dev, dst_st.st_ino):
                return  # two names of one file: rename(2) does nothing
        self._check_rename(s, sst)
        if dst_st is not None and stat.S_ISDIR(dst_st.st_mode) and self._listdir(d):
            raise _err(errno.ENOTEMPTY, dst)
        self._rename(s, d)
        self._touch(_split(s)[0], _split(d)[0])

    def symlink(self, target: str, path: str) -> None:
        self._check_writable(path)
        p = self.resolve(path, follow=False)
        if self._lexists(p):
            raise _err(errno.EEXIST, path)
        self._symlink(target, p)
        self._touch(p, _split(p)[0])  # the link's own mtime too: it is in the layer tar

    def link(self, src: str, dst: str) -> None:
        """Make a hard link `dst` to the existing file `src`."""
        self._check_writable(dst)
        s, sst = self._existing(src, follow=False)
        if stat.S_ISDIR(sst.st_mode):
            raise _err(errno.EPERM, src)
        d = self.resolve(dst, follow=False)
        if self._lexists(d):
            raise _err(errno.EEXIST, dst)
        self._link(s, d)
        self._touch(_split(d)[0])

    def chmod(self, path: str, mode: int) -> None:
        self._check_writable(path)
        p, _ = self._existing(path, follow=True)
        self._chmod(p, mode)

    def chown(self, path: str, uid: int, gid: int) -> None:
        self._check_writable(path)
        p, _ = self._existing(path, follow=False)
        self._chown(p, uid, gid)

    def utime(self, path: str, times: tuple[float, float] | None = None) -> None:
        self._check_writable(path)
        p, _ = self._existing(path, follow=True)
        if times is None and self._now is not None:
            t = self._now()
            times = (t, t)
        self._utime(p, times)

    def _lexists(self, p: str) -> bool:
        try:
            self._lstat(p)
            return True
        except OSError:
            return False


class DirRootFS(RootFS):
    """A RootFS over one plain host folder: a vfs layer, a base layer, a kernel overlay mount."""

    def __init__(
        self, path: str, *, read_only: bool = False, now: Callable[[], float] | None = None
    ) -> None:
        super().__init__(now=now)
        self.path = os.path.abspath(path)
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"DirRootFS({self.path!r})"

    def _h(self, p: str) -> str:
        return self.path if p == "/" else self.path + p

    def host_path(self, path: str) -> str | None:
        try:
            p = self.resolve(path, follow=False)
            self._lstat(p)
        except OSError:
            return None
        return self._h(p)

    def _host_path_for_write(self, p: str) -> str:
        return self._h(p)

    def _lstat(self, p: str) -> os.stat_result:
        return idtools.lstat(self._h(p))

    def _readlink(self, p: str) -> str:
        return os.readlink(self._h(p))

    def _listdir(self, p: str) -> list[str]:
        return os.listdir(self._h(p))

    def _open(self, p: str, flags: int, mode: int) -> int:
        return os.open(self._h(p), flags | os.O_NOFOLLOW, mode)

    def _mkdir(self, p: str, mode: int) -> None:
        os.mkdir(self._h(p), 0o700)
        idtools.chmod(self._h(p), mode & ~UMASK & 0o7777)

    def _unlink(self, p: str) -> None:
        idtools.unlink(self._h(p))

    def _rmdir(self, p: str) -> None:
        os.rmdir(self._h(p))

    def _rename(self, src: str, dst: str) -> None:
        idtools.rename(self._h(src), self._h(dst))

    def _symlink(self, target: str, p: str) -> None:
        os.symlink(target, self._h(p))
        idtools.fresh(self._h(p))

    def _link(self, src: str, dst: str) -> None:
        platform.link(self._h(src), self._h(dst))

    def _chmod(self, p: str, mode: int) -> None:
        idtools.chmod(self._h(p), mode)

    def _chown(self, p: str, uid: int, gid: int) -> None:
        idtools.copy_owner_ids(self._h(p), (uid, gid))  # no user xattrs: stays root

    def _utime(self, p: str, times: tuple[float, float] | None) -> None:
        platform.lutime(self._h(p), times)
