"""The user-space union: a merged view of a stack of layer folders, like overlayfs.

Layers are host folders, the writable one (the "upper", a container's RW layer) on top.
Lookups go top-down; whiteouts hide lower entries; an opaque folder hides everything below
it. Writes copy the file up into the upper layer first (content, mode, owner, times, xattrs),
deletes leave a whiteout when a lower layer still has the name, and a folder removed and made
again is opaque. Both on-disk whiteout forms are read: the kernel's (a 0/0 character device,
`trusted.overlay.opaque=y`) and the file form (`.wh.<name>`, `.wh..wh..opq`, as aufs and
fuse-overlayfs keep them); new ones are written in the kernel's form where this process may
(root), else in the file form.

Each folder's merged listing is computed once and kept (and updated by our own writes), so a
lookup costs one dict hit per path component however deep the stack is.

moby: daemon/graphdriver/overlay2 (layout), the kernel's fs/overlayfs (semantics)
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterator

from dockerlayers import idtools, platform
from dockerlayers.archive.whiteouts import (
    OPAQUE_XATTR,
    WHITEOUT_META_PREFIX,
    WHITEOUT_OPAQUE_DIR,
    WHITEOUT_PREFIX,
    native_whiteouts_supported,
)
from dockerlayers.graphdriver.rootfs import RootFS, _err, _join, _split
from dockerlayers.ioutils import remove_all

_OVERLAY_XATTR_PREFIXES = ("trusted.overlay.", "user.overlay.")
#: Names looked up one by one in a folder before its merged listing is built.
_POINT_LOOKUPS = 8


def _is_char_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _entry_is_whiteout(entry: os.DirEntry) -> bool:
    """A 0/0 char device, told from a scandir entry (stat only for special files)."""
    if (
        entry.is_dir(follow_symlinks=False)
        or entry.is_file(follow_symlinks=False)
        or entry.is_symlink()
    ):
        return False
    return _is_char_whiteout(entry.stat(follow_symlinks=False))


def _has_opaque_xattr(host: str) -> bool:
    if not platform.has_xattr():
        return False
    try:
        return os.getxattr(host, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def layer_dir_is_opaque(host: str) -> bool:
    """True if the folder `host` inside a layer is marked opaque (either form)."""
    return os.path.lexists(os.path.join(host, WHITEOUT_OPAQUE_DIR)) or _has_opaque_xattr(host)


def copy_xattrs(src: str, dst: str) -> None:
    """Copy extended attributes except overlay's own (copy-up keeps capabilities etc.)."""
    if not platform.has_xattr():
        return
    try:
        names = os.listxattr(src, follow_symlinks=False)
    except OSError:
        return
    for name in names:
        if name.startswith(_OVERLAY_XATTR_PREFIXES) or idtools.is_override_xattr(name):
            continue
        try:
            os.setxattr(
                dst, name, os.getxattr(src, name, follow_symlinks=False), follow_symlinks=False
            )
        except OSError:
            pass


class UnionRootFS(RootFS):
    """A merged view over `layers` (host folders, topmost first).

    With `writable`, `layers[0]` is the upper layer and receives every change; otherwise the
    view is read-only (EROFS), like a mount of a committed layer.
    """

    def __init__(
        self,
        layers: list[str],
        *,
        writable: bool = True,
        native_whiteouts: bool | None = None,
        now: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(now=now)
        if not layers:
            raise ValueError("a union needs at least one layer")
        self.layers = [os.path.abspath(p) for p in layers]
        self.read_only = not writable
        if native_whiteouts is None:
            native_whiteouts = writable and native_whiteouts_supported(self.layers[0])
        self.native_whiteouts = native_whiteouts
        self._entries_cache: dict[str, dict[str, int]] = {}
        self._dirlayers_cache: dict[str, list[int]] = {}
        self._point_lookups: dict[str, int] = {}
        self._root_uid = platform.is_root()

    def __repr__(self) -> str:
        return f"UnionRootFS({len(self.layers)} layers, upper={self.layers[0]!r})"

    @property
    def upper(self) -> str:
        return self.layers[0]

    def _h(self, i: int, p: str) -> str:
        return self.layers[i] if p == "/" else self.layers[i] + p

    # -- the merged index ------------------------------------------------------------------
    def _dirlayers(self, d: str) -> list[int]:
        """Indices of the layers whose copy of folder `d` contributes to its listing."""
        cached = self._dirlayers_cache.get(d)
        if cached is not None:
            return cached
        # the nearest cached ancestor first, then down (an own stack: any depth)
        chain: list[str] = []
        up = d
        while up != "/" and up not in self._dirlayers_cache:
            chain.append(up)
            up = _split(up)[0]
        if up == "/" and "/" not in self._dirlayers_cache:
            self._dirlayers_one("/")
        for sub in reversed(chain):
            self._dirlayers_one(sub)
        return self._dirlayers_cache[d]

    def _dirlayers_one(self, d: str) -> list[int]:
        """`_dirlayers(d)` with its parent's already cached."""
        if d == "/":
            candidates = list(range(len(self.layers)))
        else:
            parent, name = _split(d)
            top = self._locate_in(parent, name)
            if top is None:
                raise _err(errno.ENOENT, d)
            candidates = [i for i in self._dirlayers_cache[parent] if i >= top]
        result: list[int] = []
        for i in candidates:
            host = self._h(i, d)
            try:
                st = os.lstat(host)
            except FileNotFoundError:
                if d != "/" and self._whiteout_at(i, d):
                    break
                continue
            if not stat.S_ISDIR(st.st_mode):
                if not result:
                    raise _err(errno.ENOTDIR, d)
                break
            result.append(i)
            if layer_dir_is_opaque(host):
                break
        self._dirlayers_cache[d] = result
        return result

    def _whiteout_at(self, i: int, p: str) -> bool:
        """Is `p` whited out in layer i (either form)?"""
        parent, name = _split(p)
        if os.path.lexists(self._h(i, _join(parent, WHITEOUT_PREFIX + name))):
            return True
        try:
            return _is_char_whiteout(os.lstat(self._h(i, p)))
        except OSError:
            return False

    def _entries(self, d: str) -> dict[str, int]:
        """Merged listing of folder `d`: name -> index of the layer holding the visible entry."""
        cached = self._entries_cache.get(d)
        if cached is not None:
            return cached
        seen: dict[str, int | None] = {}
        for i in self._dirlayers(d):
            try:
                it = os.scandir(self._h(i, d))
            except FileNotFoundError:
                continue
            with it:
                for entry in it:
                    name = entry.name
                    if name.startswith(WHITEOUT_PREFIX):
                        if name.startswith(WHITEOUT_META_PREFIX):
                            continue  # .wh..wh..opq and aufs metadata
                        seen.setdefault(name[len(WHITEOUT_PREFIX) :], None)
                        continue
                    if name in seen:
                        continue
                    if _entry_is_whiteout(entry):
                        seen[name] = None
                        continue
                    seen[name] = i
        result = {n: i for n, i in seen.items() if i is not None}
        self._entries_cache[d] = result
        return result

    def _locate(self, p: str) -> int | None:
        if p == "/":
            return 0
        parent, name = _split(p)
        try:
            return self._locate_in(parent, name)
        except FileNotFoundError:
            return None

    def _locate_in(self, parent: str, name: str) -> int | None:
        """Index of the layer showing `name` in folder `parent` (None: absent); raises
        like `_entries(parent)` when `parent` is not a folder of the view."""
        listing = self._entries_cache.get(parent)
        if listing is not None:
            return listing.get(name)
        # The first few names asked in a folder are looked up one by one (an lstat per
        # layer), so a diff or a single lookup in a big folder does not list it whole;
        # a folder asked more often gets its merged listing, one dict hit per name.
        n = self._point_lookups.get(parent, 0)
        if n < _POINT_LOOKUPS:
            self._point_lookups[parent] = n + 1
            return self._point_locate(parent, name)
        return self._entries(parent).get(name)

    def _point_locate(self, parent: str, name: str) -> int | None:
        """What `_entries(parent).get(name)` answers, from per-layer lstats of the one name."""
        if name.startswith(WHITEOUT_PREFIX):
            return None
        p = _join(parent, name)
        for i in self._dirlayers(parent):
            try:
                st = os.lstat(self._h(i, p))
            except FileNotFoundError:
                if os.path.lexists(self._h(i, _join(parent, WHITEOUT_PREFIX + name))):
                    return None
                continue
            return None if _is_char_whiteout(st) else i
        return None

    def _known_dir(self, p: str) -> bool:
        # A folder whose layers are cached is a folder (our writes drop or update the entry).
        return bool(self._dirlayers_cache.get(p))

    def _cached_entries(self, d: str) -> dict[str, int]:
        """The cached merged listing of `d` to update after a write, or a throwaway dict
        when it is not cached (the next lookup reads the layers, which hold the write)."""
        cached = self._entries_cache.get(d)
        return {} if cached is None else cached

    def _lower_has(self, p: str) -> bool:
        """Does a layer below the upper show something at `p` (so deleting it needs a whiteout)?"""
        parent, name = _split(p)
        for i in self._dirlayers(parent):
            if i == 0:
                continue
            host = self._h(i, p)
            if self._whiteout_at(i, p):
                return False
            if os.path.lexists(host):
                return True
        # The parent may be an upper-only folder (new or opaque): nothing below shows.
        return False

    def _forget(self, p: str) -> None:
        """Drop cached listings of `p` and everything under it."""
        prefix = p.rstrip("/") + "/"
        for cache in (self._entries_cache, self._dirlayers_cache, self._point_lookups):
            for key in [k for k in cache if k == p or k.startswith(prefix)]:
                del cache[key]

    def invalidate(self) -> None:
        """Forget every cached listing (a layer folder was changed behind this view)."""
        self._entries_cache.clear()
        self._dirlayers_cache.clear()
        self._point_lookups.clear()

    def layer_of(self, path: str) -> int | None:
        """Index (0 = top) of the layer whose copy of `path` the merged view shows."""
        try:
            p = self.resolve(path, follow=False)
        except OSError:
            return None
        return self._locate(p)

    # -- reading primitives ------------------------------------------------------------------
    def _lstat(self, p: str) -> os.stat_result:
        i = self._locate(p)
        if i is None:
            raise _err(errno.ENOENT, p)
        return idtools.lstat(self._h(i, p))

    def _readlink(self, p: str) -> str:
        i = self._locate(p)
        if i is None:
            raise _err(errno.ENOENT, p)
        return os.readlink(self._h(i, p))

    def _listdir(self, p: str) -> list[str]:
        return list(self._entries(p))

    def host_path(self, path: str) -> str | None:
        try:
            p = self.resolve(path, follow=False)
        except OSError:
            return None
        i = self._locate(p)
        return None if i is None else self._h(i, p)

    # -- copy-up -----------------------------------------------------------------------------
    def _copy_up_dir(self, d: str) -> None:
        """Make sure folder `d` exists in the upper layer (copying its attributes up), its
        missing ancestors first (an own list, not recursion: any depth)."""
        todo: list[tuple[str, int]] = []
        while d != "/":
            i = self._locate(d)
            if i is None:
                raise _err(errno.ENOENT, d)
            if i == 0:
                break
            todo.append((d, i))
            d = _split(d)[0]
        for d, i in reversed(todo):
            self._copy_up_one_dir(d, i)

    def _copy_up_one_dir(self, d: str, i: int) -> None:
        parent, name = _split(d)
        src, dst = self._h(i, d), self._h(0, d)
        st = os.lstat(src)
        with self._parent_times_kept(d):
            if os.path.lexists(dst):  # a whiteout file in the same place cannot exist here
                os.unlink(dst)
            os.mkdir(dst, 0o700)
        self._copy_attrs(src, dst, st)
        self._cached_entries(parent)[name] = 0
        layers = self._dirlayers_cache.get(d)
        if layers is not None and (not layers or layers[0] != 0):
            layers.insert(0, 0)

    @contextlib.contextmanager
    def _parent_times_kept(self, p: str) -> Iterator[None]:
        """A copy-up is not a change of the folder it lands in: its upper copy keeps its
        times (overlayfs restores them too), so a wall-clock mtime never reaches a layer
        tar (with the daemon's clock; without one, the OS's times stand).
        kernel: fs/overlayfs/copy_up.c (ovl_set_timestamps on the parent)"""
        if self._now is None:  # the OS's clock: its times are as real as any
            yield
            return
        parent = self._h(0, _split(p)[0])
        before = os.lstat(parent)
        try:
            yield
        finally:
            os.utime(parent, ns=(before.st_atime_ns, before.st_mtime_ns))

    def _copy_attrs(self, src: str, dst: str, st: os.stat_result) -> None:
        if self._root_uid:
            os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
        else:
            idtools.copy_owner(src, st, dst)
        if not stat.S_ISLNK(st.st_mode):
            os.chmod(dst, stat.S_IMODE(st.st_mode))
        copy_xattrs(src, dst)
        platform.lutime(dst, ns=(st.st_atime_ns, platform.mtime_ns(st)))

    def _copy_up(self, p: str) -> None:
        """Copy the entry at `p` into the upper layer (file content, link, or special file)."""
        i = self._locate(p)
        if i is None:
            raise _err(errno.ENOENT, p)
        if i == 0:
            return
        parent, name = _split(p)
        self._copy_up_dir(parent)
        src, dst = self._h(i, p), self._h(0, p)
        st = os.lstat(src)
        if stat.S_ISDIR(st.st_mode):
            self._copy_up_dir(p)
            return
        with self._parent_times_kept(p):
            self._clear_whiteout_file(p)
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(src), dst)
            elif stat.S_ISREG(st.st_mode):
                import shutil

                shutil.copyfile(src, dst, follow_symlinks=False)
            else:
                platform.mknod(dst, st.st_mode, st.st_rdev)
        self._copy_attrs(src, dst, st)
        self._cached_entries(parent)[name] = 0

    # -- whiteouts ---------------------------------------------------------------------------
    def _clear_whiteout_file(self, p: str) -> bool:
        """Remove a file-form whiteout for `p` from the upper layer; True if there was one."""
        parent, name = _split(p)
        wh = self._h(0, _join(parent, WHITEOUT_PREFIX + name))
        if os.path.lexists(wh):
            os.unlink(wh)
            return True
        return False

    def _upper_whiteout(self, p: str) -> bool:
        """True if the upper layer holds a whiteout for `p` (removing a char one in place)."""
        if self._clear_whiteout_file(p):
            return True
        host = self._h(0, p)
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            return False
        if _is_char_whiteout(st):
            os.unlink(host)
            return True
        return False

    def _make_whiteout(self, p: str) -> None:
        parent, name = _split(p)
        if self.native_whiteouts:
            path = self._h(0, p)
            platform.mknod(path, stat.S_IFCHR | 0o000, 0)
        else:
            path = self._h(0, _join(parent, WHITEOUT_PREFIX + name))
            with open(path, "wb"):
                pass
            os.chmod(path, 0o600)
        self._stamp(path)

    def _stamp(self, host: str) -> None:
        """Give a marker we made the clock's time (a virtual clock keeps layer tars, and so
        image IDs, reproducible)."""
        if self._now is not None:
            t = self._now()
            platform.lutime(host, (t, t))

    def _make_opaque(self, d: str) -> None:
        host = self._h(0, d)
        if self.native_whiteouts:
            os.setxattr(host, OPAQUE_XATTR, b"y")
        else:
            marker = os.path.join(host, WHITEOUT_OPAQUE_DIR)
            with open(marker, "wb"):
                pass
            os.chmod(marker, 0o600)
            self._stamp(marker)

    def _prepare_new(self, p: str) -> bool:
        """Get the upper layer ready for a new entry at `p`; True if it replaces a whiteout."""
        parent, _ = _split(p)
        self._copy_up_dir(parent)
        return self._upper_whiteout(p)

    def _added(self, p: str) -> None:
        parent, name = _split(p)
        self._forget(p)
        self._cached_entries(parent)[name] = 0

    # -- writing primitives ------------------------------------------------------------------
    def _open(self, p: str, flags: int, mode: int) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR):
            if self._locate(p) is None:
                self._prepare_new(p)
                fd = os.open(self._h(0, p), flags | os.O_NOFOLLOW, mode)
                self._added(p)
                return fd
            self._copy_up(p)
            return os.open(self._h(0, p), flags | os.O_NOFOLLOW, mode)
        i = self._locate(p)
        if i is None:
            raise _err(errno.ENOENT, p)
        return os.open(self._h(i, p), flags | os.O_NOFOLLOW, mode)

    def _host_path_for_write(self, p: str) -> str:
        return self._h(0, p)

    def _mkdir(self, p: str, mode: int) -> None:
        replaced = self._prepare_new(p)
        host = self._h(0, p)
        os.mkdir(host, 0o700)
        idtools.chmod(host, mode & ~0o022 & 0o7777)
        if replaced:
            self._make_opaque(p)
        self._added(p)
        self._dirlayers_cache[p] = [0]
        self._entries_cache[p] = {}

    def _unlink(self, p: str) -> None:
        self._remove_entry(p, is_dir=False)

    def _rmdir(self, p: str) -> None:
        self._remove_entry(p, is_dir=True)

    def _remove_entry(self, p: str, is_dir: bool) -> None:
        parent, name = _split(p)
        i = self._locate(p)
        if i is None:
            raise _err(errno.ENOENT, p)
        self._copy_up_dir(parent)
        needs_whiteout = self._lower_has(p)
        if i == 0:
            host = self._h(0, p)
            if is_dir:
                remove_all(host)  # holds nothing visible: only whiteouts of lower entries
            else:
                idtools.unlink(host)
        if needs_whiteout:
            self._make_whiteout(p)
        self._forget(p)
        self._cached_entries(parent).pop(name, None)

    def _check_rename(self, src: str, st: os.stat_result) -> None:
        """overlayfs without redirect_dir refuses to rename a folder that has a lower
        copy (merged or lower-only); `mv` then copies and deletes. Pure upper and opaque
        folders move.

        kernel: fs/overlayfs/dir.c ovl_rename (ovl_can_move)
        """
        if not stat.S_ISDIR(st.st_mode):
            return
        i = self._locate(src)
        if i != 0 or any(j != 0 for j in self._dirlayers(src)):
            raise _err(errno.EXDEV, src)

    def _rename(self, src: str, dst: str) -> None:
        i = self._locate(src)
        if i is None:
            raise _err(errno.ENOENT, src)
        st = os.lstat(self._h(i, src))
        self._check_rename(src, st)
        self._copy_up(src)
        src_opaque_needed = False
        if self._locate(dst) is not None:
            dst_st = self._lstat(dst)
            if stat.S_ISDIR(dst_st.st_mode):
                self._remove_entry(dst, is_dir=True)
                src_opaque_needed = stat.S_ISDIR(st.st_mode)
            else:
                self._remove_entry(dst, is_dir=False)
        replaced = self._prepare_new(dst)
        idtools.rename(self._h(0, src), self._h(0, dst))
        if stat.S_ISDIR(st.st_mode) and (replaced or src_opaque_needed):
            self._make_opaque(dst)
        src_parent, src_name = _split(src)
        if self._lower_has(src):
            self._make_whiteout(src)
        self._forget(src)
        self._cached_entries(src_parent).pop(src_name, None)
        self._added(dst)

    def _symlink(self, target: str, p: str) -> None:
        self._prepare_new(p)
        os.symlink(target, self._h(0, p))
        idtools.fresh(self._h(0, p))
        self._added(p)

    def _link(self, src: str, dst: str) -> None:
        self._copy_up(src)
        self._prepare_new(dst)
        platform.link(self._h(0, src), self._h(0, dst))
        self._added(dst)

    def _chmod(self, p: str, mode: int) -> None:
        self._copy_up(p)
        idtools.chmod(self._h(0, p), mode)

    def _chown(self, p: str, uid: int, gid: int) -> None:
        self._copy_up(p)
        idtools.copy_owner_ids(self._h(0, p), (uid, gid))  # no user xattrs: stays root

    def _utime(self, p: str, times: tuple[float, float] | None) -> None:
        self._copy_up(p)
        platform.lutime(self._h(0, p), times)
