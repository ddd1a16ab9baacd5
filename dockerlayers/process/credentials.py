"""A container's filesystem as a process running as some uid/gid sees it: the kernel's
permission checks, and ownership of what the process makes.

`AsUser` wraps a RootFS. Before each call it makes the checks the kernel makes
(fs/namei.c generic_permission, may_create, may_delete; fs/attr.c setattr_prepare):

- searching a folder on the way needs `x` on it; reading a file `r`, writing it `w`;
- making or removing a name needs `w` and `x` on its folder; in a sticky folder (`/tmp`)
  only the owner of the name, the owner of the folder, or root may remove or rename it;
- the owner class is used if the uid owns the file, else the group class if one of the
  process's groups owns it, else "other" (the first class that matches decides);
- root (uid 0) passes every `r`/`w` check and `x` on folders; `x` on a file needs one
  `x` bit somewhere;
- chmod and utime with explicit times: owner or root (EPERM); chown: root, or the owner
  changing only the group to one of its groups (EPERM);
- what the process creates belongs to its uid and gid (the folder's gid when the folder is
  setgid, which new folders inherit).

Refusals are OSError(EACCES "Permission denied") or OSError(EPERM), as the kernel's.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Iterator
from typing import IO, Any

from dockerlayers.graphdriver.rootfs import StatQueries

R, W, X = 4, 2, 1


def _err(code: int, path: str) -> OSError:
    return OSError(code, os.strerror(code), path)


def permitted(st: os.stat_result, uid: int, groups: list[int], want: int) -> bool:
    """Does uid (with `groups`) get every bit of `want` (R|W|X) on the inode `st`?

    kernel: fs/namei.c generic_permission / acl_permission_check
    """
    mode = st.st_mode
    if uid == 0:
        if want & X and not stat.S_ISDIR(mode):
            return bool(mode & 0o111)
        return True
    if st.st_uid == uid:
        bits = (mode >> 6) & 7
    elif st.st_gid in groups:
        bits = (mode >> 3) & 7
    else:
        bits = mode & 7
    return bits & want == want


class AsUser(StatQueries):
    """`fs` (a RootFS) as the process `uid`:`gid` (with `groups`) sees it."""

    def __init__(self, fs: Any, uid: int, gid: int, groups: list[int] | None = None) -> None:
        self.fs = fs.fs if isinstance(fs, AsUser) else fs
        self.uid, self.gid = uid, gid
        self.groups = sorted({gid, *(groups or [])})

    def __repr__(self) -> str:
        return f"AsUser({self.fs!r}, uid={self.uid}, gid={self.gid})"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fs, name)

    # -- checks ----------------------------------------------------------------------------
    def _may(self, st: os.stat_result, want: int, path: str) -> None:
        if not permitted(st, self.uid, self.groups, want):
            raise _err(errno.EACCES, path)

    def _search(self, path: str, follow: bool = True) -> str:
        """Resolve `path`, checking `x` on every folder walked through; the resolved path."""
        fs = self.fs
        real = fs.resolve(path, follow=follow)
        parent = posixpath.dirname(real) if real != "/" else "/"
        acc = "/"
        self._may(fs.stat("/"), X, path)
        for comp in [c for c in parent.split("/") if c]:
            acc = posixpath.join(acc, comp)
            self._may(fs.stat(acc), X, path)
        return real

    def _may_create(self, path: str, follow: bool = False) -> tuple[str, str]:
        """The resolved path and its folder, checking `w`+`x` on the folder."""
        real = self._search(path, follow)
        parent = posixpath.dirname(real) or "/"
        self._may(self.fs.stat(parent), W | X, path)
        return real, parent

    def _may_delete(self, path: str) -> str:
        """kernel: fs/namei.c may_delete (the name must exist, then w+x on the folder,
        then the sticky rule)."""
        real = self._search(path, follow=False)
        self.fs.lstat(real)  # ENOENT before EACCES, as the lookup comes first
        real, parent = self._may_create(path)
        if self.uid != 0:
            pst = self.fs.stat(parent)
            if pst.st_mode & stat.S_ISVTX:
                st = self.fs.lstat(real)
                if self.uid not in (st.st_uid, pst.st_uid):
                    raise _err(errno.EPERM, path)
        return real

    def _own(self, real: str, parent: str) -> None:
        """Give a new entry the process's owner (the folder's group if it is setgid)."""
        pst = self.fs.stat(parent)
        gid = pst.st_gid if pst.st_mode & stat.S_ISGID else self.gid
        st = self.fs.lstat(real)
        if (st.st_uid, st.st_gid) != (self.uid, gid):
            self.fs.chown(real, self.uid, gid)
        if stat.S_ISDIR(st.st_mode) and pst.st_mode & stat.S_ISGID:
            self.fs.chmod(real, stat.S_IMODE(st.st_mode) | stat.S_ISGID)

    def _owner_or_root(self, path: str) -> os.stat_result:
        self._search(path)
        st = self.fs.stat(path)
        if self.uid not in (0, st.st_uid):
            raise _err(errno.EPERM, path)
        return st

    # -- reading -----------------------------------------------------------------------------
    def lstat(self, path: str) -> os.stat_result:
        self._search(path, follow=False)
        return self.fs.lstat(path)

    def stat(self, path: str) -> os.stat_result:
        self._search(path)
        return self.fs.stat(path)

    def readlink(self, path: str) -> str:
        self._search(path, follow=False)
        return self.fs.readlink(path)

    def listdir(self, path: str = "/") -> list[str]:
        real = self._search(path)
        st = self.fs.stat(real)
        if stat.S_ISDIR(st.st_mode):
            self._may(st, R, path)
        return self.fs.listdir(real)

    def walk(self, top: str = "/") -> Iterator[tuple[str, list[str], list[str]]]:
        for d, dirs, files in self.fs.walk(top):
            try:
                self._may(self.fs.stat(d), R | X, d)
            except OSError:
                dirs[:] = []
                continue
            yield d, dirs, files

    def open(self, path: str, mode: str = "r", encoding: str | None = None) -> IO[Any]:
        writing = any(c in mode for c in "wax+")
        reading = "r" in mode or "+" in mode
        real = self._search(path)
        try:
            st = self.fs.stat(real)
        except FileNotFoundError:
            st = None
        if st is None:
            if "r" in mode:
                raise _err(errno.ENOENT, path)
            real, parent = self._may_create(path, follow=True)
            f = self.fs.open(real, mode, encoding)
            self._own(real, parent)
            return f
        want = (R if reading else 0) | (W if writing else 0)
        if not (stat.S_ISDIR(st.st_mode) and writing):  # a folder for writing: EISDIR first
            self._may(st, want, path)
        return self.fs.open(real, mode, encoding)

    def read_bytes(self, path: str) -> bytes:
        with self.open(path, "rb") as f:
            return f.read()

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding)

    # -- writing -----------------------------------------------------------------------------
    def write_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        existed = self.exists(path)
        with self.open(path, "wb") as f:
            f.write(data)
        if not existed:
            self.fs.chmod(path, mode)

    def write_text(self, path: str, text: str, mode: int = 0o644) -> None:
        self.write_bytes(path, text.encode(), mode)

    def mkdir(
        self, path: str, mode: int = 0o755, parents: bool = False, exist_ok: bool = False
    ) -> None:
        if parents:
            acc = ""
            for comp in [c for c in posixpath.normpath("/" + path).split("/") if c]:
                acc += "/" + comp
                if not self.isdir(acc):
                    self.mkdir(acc, mode, parents=False, exist_ok=True)
            return
        if self.fs.lexists(path) and exist_ok and self.isdir(path):
            return
        if self.fs.lexists(path):
            self._search(path, follow=False)
            raise _err(errno.EEXIST, path)
        real, parent = self._may_create(path)
        self.fs.mkdir(real, mode)
        self._own(real, parent)

    def remove(self, path: str) -> None:
        real = self._may_delete(path)
        self.fs.remove(real)

    unlink = remove

    def rmdir(self, path: str) -> None:
        real = self._may_delete(path)
        self.fs.rmdir(real)

    def rmtree(self, path: str) -> None:
        st = self.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            self.remove(path)
            return
        for name in self.listdir(path):
            self.rmtree(posixpath.join(path, name))
        self.rmdir(path)

    def rename(self, src: str, dst: str) -> None:
        """kernel: fs/namei.c do_renameat2 / vfs_rename (lookups, loops, same file, then
        the permission checks; a folder moving to another folder needs `w` on itself)."""
        s = self._search(src, follow=False)
        d = self._search(dst, follow=False)  # both folders are walked before any lookup
        sst = self.fs.lstat(s)
        if s == d:
            return
        if s == "/" or (d + "/").startswith(s + "/"):
            raise _err(errno.EINVAL, src)
        if (s + "/").startswith(d + "/"):
            raise _err(errno.ENOTEMPTY, dst)
        self._may_delete(src)
        if self.fs.lexists(d):
            self._may_delete(dst)
        else:
            self._may_create(dst)
        if stat.S_ISDIR(sst.st_mode) and posixpath.dirname(s) != posixpath.dirname(d):
            self._may(sst, W, src)
        self.fs.rename(s, d)

    def symlink(self, target: str, path: str) -> None:
        if self.fs.lexists(path):
            self._search(path, follow=False)
            raise _err(errno.EEXIST, path)
        real, parent = self._may_create(path)
        self.fs.symlink(target, real)
        self._own(real, parent)

    def link(self, src: str, dst: str) -> None:
        """kernel: fs/namei.c do_linkat, may_linkat (fs.protected_hardlinks=1, the default:
        the owner, or someone who may read and write a regular file)."""
        s = self._search(src, follow=False)
        sst = self.fs.lstat(s)  # the old name is looked up first
        d = self._search(dst, follow=False)
        if self.fs.lexists(d):
            raise _err(errno.EEXIST, dst)
        if self.uid not in (0, sst.st_uid) and not (  # may_linkat
            stat.S_ISREG(sst.st_mode)
            and not sst.st_mode & stat.S_ISUID
            and (sst.st_mode & (stat.S_ISGID | stat.S_IXGRP)) != (stat.S_ISGID | stat.S_IXGRP)
            and permitted(sst, self.uid, self.groups, R | W)
        ):
            raise _err(errno.EPERM, src)
        self._may_create(dst)  # vfs_link: may_create, then no folders
        if stat.S_ISDIR(sst.st_mode):
            raise _err(errno.EPERM, src)
        self.fs.link(s, d)

    def chmod(self, path: str, mode: int) -> None:
        st = self._owner_or_root(path)
        if self.uid != 0 and not stat.S_ISDIR(st.st_mode) and st.st_gid not in self.groups:
            mode &= ~stat.S_ISGID  # the kernel drops setgid it may not give
        self.fs.chmod(path, mode)

    def chown(self, path: str, uid: int, gid: int) -> None:
        self._search(path, follow=False)
        st = self.fs.lstat(path)
        if self.uid != 0 and (
            uid != st.st_uid or self.uid != st.st_uid or gid not in (st.st_gid, *self.groups)
        ):
            raise _err(errno.EPERM, path)
        self.fs.chown(path, uid, gid)

    def utime(self, path: str, times: tuple[float, float] | None = None) -> None:
        self._search(path)
        st = self.fs.stat(path)
        if self.uid not in (0, st.st_uid):
            if times is not None:
                raise _err(errno.EPERM, path)
            self._may(st, W, path)
        self.fs.utime(path, times)
