"""Apply a layer tar to a directory, safely: all of it, or nothing at all.

The stream is parsed and validated completely before anything is touched (a
non-seekable input is first spooled to an unnamed temp file in `tmpdir` or in the
destination's parent). Validation runs the whole layer against a virtual view of
`dest` (what is on disk, overlaid with what earlier entries did), so that paths are
resolved exactly as they will be when applied. Then the plan is executed with an undo
journal: what is replaced or deleted is first moved aside (inside `dest`, same
filesystem), metadata that is changed is snapshotted, and if anything fails everything
is put back, directory times included.

Path rules (the chroot semantics of moby's chrootarchive, made explicit):

* Member names are cleaned like Go's `path.Clean`; a name that is absolute or climbs
  out with `..` is refused (`BreakoutError`). `.` / `./` is the root itself: a
  directory header there sets the root's metadata; anything else there is refused.
* The parent directories of a member are resolved component by component. A symlink
  met on the way (already in `dest`, or created earlier by this tar) is followed when
  its target is relative and stays inside the tree, evaluated from the symlink's own
  directory like the kernel would. A symlink with an absolute target, or one whose
  target climbs above the root, is refused (`BreakoutError`), as are loops (40 hops).
  The last component is never followed: what is there is replaced (directories merge).
* Missing parent directories are created (mode 0755, root-owned), unless the missing
  component is reached through a symlink.
* Symlinks themselves may point anywhere (`/etc/mtab -> /proc/mounts`, `../x`):
  moby's `invalid symlink` check runs inside chrootarchive's chroot, where it can
  never fire. Only writing through an escaping symlink is refused.
* A hard link's target must be a relative path inside the tree, resolved like a
  parent path, naming an existing non-directory (`invalid hardlink`). Hard links into
  aufs's `.wh..wh.plnk` are resolved from the files stored there, as moby does.
* Device nodes need CAP_MKNOD: without it, any device (and, in overlay mode, any
  whiteout) is refused up front. Ownership is restored only when running as root.

moby: pkg/archive/diff.go UnpackLayer / ApplyUncompressedLayer, pkg/archive/archive.go
createTarFile / Unpack, pkg/archive/archive_linux.go overlayWhiteoutConverter.ConvertRead
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from dockerlayers import idtools, platform
from dockerlayers.archive._xattr import lgetxattr, lremovexattr, lsetxattr
from dockerlayers.archive.errors import BreakoutError, LayerTarError
from dockerlayers.archive.tar import copy_exact
from dockerlayers.archive.tarheader import (
    TYPE_BLOCK,
    TYPE_CHAR,
    TYPE_DIR,
    TYPE_FIFO,
    TYPE_LINK,
    TYPE_REG,
    TYPE_SYMLINK,
    TYPE_XGLOBAL,
    posix_clean,
)
from dockerlayers.archive.tarreader import TarEntry, iter_tar
from dockerlayers.archive.whiteouts import (
    OPAQUE_XATTR,
    WHITEOUT_LINK_DIR,
    WHITEOUT_META_PREFIX,
    WHITEOUT_OPAQUE_DIR,
    WHITEOUT_PREFIX,
)
from dockerlayers.ioutils import remove_all

if TYPE_CHECKING:
    from dockerlayers.archive.tarsplit import SplitStream

WHITEOUT_FORMATS = ("naive", "aufs", "overlay")
IMPLIED_DIRECTORY_MODE = 0o755  # moby: pkg/archive/archive.go ImpliedDirectoryMode
_MAX_SYMLINK_HOPS = 40
_INVALID_WHITEOUTS = (WHITEOUT_PREFIX, WHITEOUT_PREFIX + ".", WHITEOUT_PREFIX + "..")
_UNDO_PREFIX = ".dockerlayers-undo-"


def _can_mknod() -> bool:
    """Whether this process may create device nodes (tests override this)."""
    return platform.can_mknod()


def unpack_layer(
    dest: str,
    tar: BinaryIO | str,
    *,
    whiteout_format: str = "naive",
    now: float | None = None,
    tmpdir: str | None = None,
) -> int:
    """Apply the uncompressed layer tar `tar` (a file object or a path) onto `dest`.

    Returns moby's layer size: the sum of the header sizes of all entries.

    `whiteout_format`:
      * ``"naive"`` (vfs): `.wh.<name>` removes `<name>`; `.wh..wh..opq` in D removes
        everything in D not unpacked from this same tar; no whiteout files are written.
      * ``"aufs"``: whiteout entries are written as plain files, as aufs (and the
        user-space overlay) keep them on disk.
      * ``"overlay"``: `.wh.<name>` becomes a 0/0 character device `<name>` owned like
        the entry (replacing whatever is at `<name>`; moby's mknod would fail with
        EEXIST); `.wh..wh..opq` sets `trusted.overlay.opaque=y` on its directory.
    Root-level aufs metadata (`.wh..wh.*`, except `.wh..wh..opq`) is skipped.

    Existing non-directories are replaced, directories merge and take the header's
    metadata, directory mtimes are set last. With `now`, directories whose content
    changed but that have no header of their own (and new implied directories,
    overlay whiteout devices) get `now` as atime/mtime instead of the wall clock.

    Raises LayerTarError (BreakoutError for escapes) with `dest` unchanged.

    moby: pkg/archive/diff.go UnpackLayer (naive), pkg/archive/archive.go Unpack
    (aufs / overlay, via the whiteout converter)
    """
    if whiteout_format not in WHITEOUT_FORMATS:
        raise ValueError(f"unknown whiteout format {whiteout_format!r}")
    dest = os.path.realpath(dest)
    try:
        if not stat.S_ISDIR(os.lstat(dest).st_mode):
            raise LayerTarError(f"{dest}: not a directory")
    except FileNotFoundError:
        raise LayerTarError(f"{dest}: no such directory") from None
    from dockerlayers.archive.tarsplit import SplitStream

    if isinstance(tar, SplitStream):
        return _unpack_stream(dest, tar, whiteout_format, now, tmpdir or os.path.dirname(dest))
    with _open_seekable(tar, tmpdir or os.path.dirname(dest)) as (f, base):
        entries: list[TarEntry] = list(iter_tar(f))
        size = sum(e.size for e in entries)
        planner = _Planner(dest, whiteout_format)
        for e in entries:
            planner.plan_entry(e)
        _Executor(dest, f, base, now).run(planner)
    return size


def _unpack_stream(
    dest: str, stream: SplitStream, whiteout_format: str, now: float | None, tmpdir: str
) -> int:
    """`unpack_layer` of a tar read once (a layer being registered as it downloads): each
    entry is validated against the view as it comes, then applied at once, its content
    read from the stream; the same rules and the same undo journal (a refused entry puts
    back what the entries before it did). The content of the aufs hard-link store
    (`.wh..wh.plnk/*`), which later links copy, is kept in temp files until the end.

    moby: layer/layer_store.go applyTar (ApplyDiff reads the tar-split stream)
    """
    planner = _Planner(dest, whiteout_format)
    ex = _Executor(dest, None, 0, now)  # type: ignore[arg-type]
    size = 0
    try:
        try:
            for e, content in stream.entries():
                size += e.size
                planner.plan_entry(e)
                ops, planner.ops = planner.ops, []
                ex.current = (e, content)
                for op in ops:
                    ex.run_op(op)
                if e.typeflag == TYPE_REG and any(v is e for v in planner.plnk.values()):
                    kept = tempfile.TemporaryFile(dir=tmpdir)  # noqa: SIM115 (closed below)
                    ex.kept[id(e)] = kept
                    shutil.copyfileobj(content, kept, 1 << 20)
            ex.current = None
            ex.set_dir_modes()
        except BaseException:
            ex._rollback()
            raise
        ex._commit()
    finally:
        for f in ex.kept.values():
            f.close()
    return size


@contextlib.contextmanager
def _open_seekable(tar: BinaryIO | str, spool_dir: str) -> Iterator[tuple[BinaryIO, int]]:
    """Yield (seekable file, offset where the tar starts), spooling if needed."""
    if isinstance(tar, str | os.PathLike):
        with open(tar, "rb") as f:
            yield f, 0
        return
    seekable = getattr(tar, "seekable", None)
    if seekable is not None and seekable():
        try:
            yield tar, tar.tell()
        finally:
            tar.seek(0, os.SEEK_END)  # consumed, as if read through
        return
    with tempfile.TemporaryFile(dir=spool_dir) as spool:
        shutil.copyfileobj(tar, spool, 1 << 20)
        spool.seek(0)
        yield spool, 0


def _join(a: str, b: str) -> str:
    return f"{a}/{b}" if a else b


def _dirname(rel: str) -> str:
    return rel.rpartition("/")[0]


@dataclass
class _VNode:
    """What the virtual view holds at a path: dir, file, symlink or absent.

    `fresh` (dirs): nothing on disk below it counts (new dir, or cleared by an
    opaque marker).
    """

    kind: str
    target: str = ""
    fresh: bool = False


_ABSENT = _VNode("absent")


@dataclass
class _Op:
    """One step of the plan, with resolved relative paths."""

    op: str
    rel: str
    entry: TarEntry | None = None
    src: str = ""  # hard link target (resolved rel)
    data: TarEntry | None = None  # entry whose content to write (aufs plnk links)


class _Planner:
    """Validate the layer against a virtual view of `dest` and produce the ops to run."""

    def __init__(self, dest: str, whiteout_format: str) -> None:
        self.dest = dest
        self.fmt = whiteout_format
        self.can_mknod = _can_mknod()
        self.nodes: dict[str, _VNode] = {}
        self.children: dict[str, set[str]] = {}
        self.unpacked: set[str] = set()
        self.plnk: dict[str, TarEntry] = {}
        self.ops: list[_Op] = []
        self._disk: dict[str, _VNode] = {}

    # -- the virtual view ------------------------------------------------------------

    def lookup(self, rel: str) -> _VNode:
        node = self.nodes.get(rel)
        if node is not None:
            return node
        parent = self.nodes.get(_dirname(rel))
        if parent is not None and parent.kind == "dir" and parent.fresh:
            return _ABSENT
        cached = self._disk.get(rel)
        if cached is None:
            cached = self._disk[rel] = self._lstat(rel)
        return cached

    def _lstat(self, rel: str) -> _VNode:
        """What is on disk at `rel` (the disk does not change while planning)."""
        path = os.path.join(self.dest, rel)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return _ABSENT
        if stat.S_ISDIR(st.st_mode):
            return _VNode("dir")
        if stat.S_ISLNK(st.st_mode):
            return _VNode("symlink", os.readlink(path))
        return _VNode("file")

    def _purge(self, rel: str) -> None:
        """Forget everything the view holds below `rel` (an own stack: any depth)."""
        todo = [rel]
        while todo:
            d = todo.pop()
            for name in self.children.pop(d, set()):
                child = _join(d, name)
                todo.append(child)
                self.nodes.pop(child, None)

    def set_node(self, rel: str, node: _VNode, *, keep_children: bool = False) -> None:
        if not keep_children:
            self._purge(rel)
        self.nodes[rel] = node
        if rel:
            parent, _, name = rel.rpartition("/")
            self.children.setdefault(parent, set()).add(name)

    def resolve_dir(self, rel: str, *, create: bool, what: str) -> str:
        """Resolve directory path `rel` (clean, relative), following safe symlinks.

        Returns the real relative path; creates (plans) missing directories when
        `create`, except where the missing name comes from a symlink's target (a
        dangling symlink is not a directory, like MkdirAll in moby's chroot).
        """
        stack = [(c, False) for c in rel.split("/") if c]
        cur = ""
        hops = 0
        while stack:
            comp, from_link = stack.pop(0)
            if comp == ".":
                continue
            if comp == "..":
                if cur == "":
                    raise BreakoutError(f"breakout: {what}: a symlink climbs out of the layer")
                cur = _dirname(cur)
                continue
            cand = _join(cur, comp)
            node = self.lookup(cand)
            if node.kind == "dir":
                cur = cand
            elif node.kind == "symlink":
                hops += 1
                if hops > _MAX_SYMLINK_HOPS:
                    raise LayerTarError(f"{what}: too many levels of symbolic links")
                if node.target.startswith("/"):
                    raise BreakoutError(
                        f"breakout: {what}: writes through symlink /{cand} -> "
                        f"{node.target!r}, which is absolute"
                    )
                stack = [(c, True) for c in node.target.split("/") if c] + stack
            elif node.kind == "absent":
                if not create or from_link:
                    raise LayerTarError(f"{what}: /{cand}: no such file or directory")
                self.ops.append(_Op("mkdir", cand))
                self.set_node(cand, _VNode("dir", fresh=True))
                cur = cand
            else:
                raise LayerTarError(f"{what}: /{cand}: not a directory")
        return cur

    # -- entries -------------------------------------------------------------------------

    def plan_entry(self, e: TarEntry) -> None:
        """moby: pkg/archive/diff.go UnpackLayer (loop body)"""
        if e.typeflag == TYPE_XGLOBAL:
            return  # "PAX Global Extended Headers found and ignored"
        name = e.name
        if "\x00" in name:
            raise LayerTarError(f"invalid tar entry name {name!r}")
        if name.startswith("/"):
            raise BreakoutError(f"breakout: {name!r} is an absolute path")
        clean = posix_clean(name)
        if clean == ".." or clean.startswith("../"):
            raise BreakoutError(f"{name!r} is outside of {self.dest!r}")
        rel = "" if clean == "." else clean
        _check_path_length(e, rel)

        if rel.startswith(WHITEOUT_META_PREFIX):
            # aufs metadata at the root; files in .wh..wh.plnk back aufs hard links.
            if rel.startswith(WHITEOUT_LINK_DIR) and e.typeflag == TYPE_REG:
                self.plnk[rel.rpartition("/")[2]] = e
            if rel != WHITEOUT_OPAQUE_DIR:
                return

        if rel == "":
            if e.typeflag != TYPE_DIR:
                raise LayerTarError(f"{name!r}: cannot replace the root of the layer")
            self.ops.append(_Op("merge", "", e))
            return

        parent_rel, _, base = rel.rpartition("/")
        if base in _INVALID_WHITEOUTS:
            raise LayerTarError(f"invalid whiteout entry {name!r}")
        parent = self.resolve_dir(parent_rel, create=True, what=repr(name))
        target = _join(parent, base)

        if base.startswith(WHITEOUT_PREFIX) and self.fmt != "aufs":
            self._plan_whiteout(e, parent, target, base)
            return

        existing = self.lookup(target)
        if e.typeflag == TYPE_DIR:
            if existing.kind == "dir":
                self.ops.append(_Op("merge", target, e))
                merged = _VNode("dir", fresh=existing.fresh)
                self.set_node(target, merged, keep_children=True)
            else:
                self._remove(target, existing)
                self.ops.append(_Op("create", target, e))
                self.set_node(target, _VNode("dir", fresh=True))
            self.unpacked.add(target)
            return

        op = _Op("create", target, e)
        node = _VNode("file")
        if e.typeflag == TYPE_SYMLINK:
            # Any target is fine: moby's `invalid symlink` check runs inside the chroot
            # (dest is "/"), where a lexical join can never climb above the root.
            node = _VNode("symlink", e.linkname)
        elif e.typeflag in (TYPE_CHAR, TYPE_BLOCK):
            if not self.can_mknod:
                raise LayerTarError(f"{name!r}: cannot create device node: operation not permitted")
        elif e.typeflag not in (TYPE_REG, TYPE_FIFO, TYPE_LINK):
            raise LayerTarError(f"unhandled tar header type {e.typeflag[0]}")

        self._remove(target, existing)
        if e.typeflag == TYPE_LINK:
            op, node = self._plan_hardlink(e, target)
        self.ops.append(op)
        self.set_node(target, node)
        self.unpacked.add(target)

    def _remove(self, rel: str, existing: _VNode) -> None:
        if existing.kind != "absent":
            self.ops.append(_Op("remove", rel))
            self.set_node(rel, _ABSENT)

    def _plan_hardlink(self, e: TarEntry, target: str) -> tuple[_Op, _VNode]:
        link = e.linkname
        bad = f"invalid hardlink {e.name!r} -> {link!r}"
        if link.startswith("/") or "\x00" in link:
            raise BreakoutError(bad)
        clean = posix_clean(link)
        if clean in ("..", ".") or clean.startswith("../"):
            raise BreakoutError(bad)
        if clean.startswith(WHITEOUT_LINK_DIR):
            src = self.plnk.get(clean.rpartition("/")[2])
            if src is None:
                raise LayerTarError("invalid aufs hardlink")
            return _Op("create", target, e, data=src), _VNode("file")
        lparent, _, lbase = clean.rpartition("/")
        try:
            rp = self.resolve_dir(lparent, create=False, what=bad)
        except BreakoutError:
            raise
        except LayerTarError as err:
            raise LayerTarError(f"{bad}: {err}") from None
        src = _join(rp, lbase)
        node = self.lookup(src)
        if node.kind == "absent":
            # moby's os.Link in the chroot: "link /<target> /<name>: <errno>"
            raise LayerTarError(f"link /{clean} /{posix_clean(e.name)}: no such file or directory")
        if node.kind == "dir":
            raise LayerTarError(f"link /{clean} /{posix_clean(e.name)}: operation not permitted")
        return _Op("link", target, e, src=src), _VNode(node.kind, node.target)

    def _plan_whiteout(self, e: TarEntry, parent: str, target: str, base: str) -> None:
        if self.fmt == "naive":
            if base == WHITEOUT_OPAQUE_DIR:
                self.ops.append(_Op("opaque_clear", parent))
                self._opaque_virtual(parent)
                self.set_node(parent, _VNode("dir", fresh=True), keep_children=True)
                return
            victim = _join(parent, base[len(WHITEOUT_PREFIX) :])
            self._remove(victim, self.lookup(victim))
            return
        # overlay: the marker itself is never written; an existing one is replaced.
        self._remove(target, self.lookup(target))
        if base == WHITEOUT_OPAQUE_DIR:
            self.ops.append(_Op("set_opaque", parent))
            return
        if not self.can_mknod:
            victim = "/" + _join(parent, base[len(WHITEOUT_PREFIX) :])
            raise LayerTarError(f"failed to mknod({victim!r}, S_IFCHR, 0): operation not permitted")
        victim = _join(parent, base[len(WHITEOUT_PREFIX) :])
        self._remove(victim, self.lookup(victim))
        self.ops.append(_Op("whiteout_dev", victim, e))
        self.set_node(victim, _VNode("file"))

    def _opaque_virtual(self, d: str) -> None:
        todo = [d]
        while todo:
            here = todo.pop()
            for name in list(self.children.get(here, ())):
                child = _join(here, name)
                node = self.nodes.get(child)
                if node is None:
                    continue
                if child not in self.unpacked:
                    self.set_node(child, _ABSENT)
                elif node.kind == "dir":
                    node.fresh = True
                    todo.append(child)


@dataclass
class _Meta:
    mode: int
    uid: int
    gid: int
    atime_ns: int
    mtime_ns: int
    xattrs: dict[str, bytes | None]


class _Executor:
    """Run a plan with an undo journal; on failure, put everything back."""

    def __init__(self, dest: str, f: BinaryIO, base: int, now: float | None) -> None:
        self.dest = dest
        self.f = f
        self.base = base
        self.now = now
        self.is_root = platform.is_root()
        self.journal: list[tuple] = []
        self.created: set[str] = set()
        self.snapped: set[str] = set()
        self.touched: set[str] = set()
        self.unpacked: set[str] = set()
        self.backup: str | None = None
        self.backup_rel = ""
        self.root_times: tuple[int, int] | None = None
        self.counter = 0
        self.dirs: list[tuple[str, TarEntry]] = []
        self.now_paths: list[str] = []
        #: a streamed tar: the entry being applied and its content reader, and the
        #: content of earlier entries that links copy (aufs plnk), by id of the entry
        self.current: tuple[TarEntry, BinaryIO] | None = None
        self.kept: dict[int, BinaryIO] = {}

    def abs(self, rel: str) -> str:
        return os.path.join(self.dest, rel) if rel else self.dest

    # -- journal helpers ---------------------------------------------------------------

    def _changing_in(self, parent: str) -> None:
        self.touched.add(parent)
        if parent in self.created or parent in self.snapped:
            return
        st = os.lstat(self.abs(parent))
        self.journal.append(("times", parent, st.st_atime_ns, st.st_mtime_ns))
        self.snapped.add(parent)

    def _snapshot(self, rel: str, keys: list[str]) -> None:
        if rel in self.created:
            return
        p = self.abs(rel)
        st = os.lstat(p)
        if not self.is_root:
            keys = [*keys, idtools.OVERRIDE_XATTR]
        # the owner record through idtools: an xattr, or the model's table where there are none
        xattrs = {
            k: idtools.get_record(p, k) if idtools.is_override_xattr(k) else lgetxattr(p, k)
            for k in keys
        }
        meta = _Meta(st.st_mode, st.st_uid, st.st_gid, st.st_atime_ns, st.st_mtime_ns, xattrs)
        self.journal.append(("meta", rel, meta))

    def _created(self, rel: str) -> None:
        self.journal.append(("created", rel))
        self.created.add(rel)

    # -- running -------------------------------------------------------------------------

    def run(self, planner: _Planner) -> None:
        try:
            for op in planner.ops:
                self.run_op(op)
            self.set_dir_modes()
        except BaseException:
            self._rollback()
            raise
        self._commit()

    def run_op(self, op: _Op) -> None:
        getattr(self, "_op_" + op.op)(op)

    def set_dir_modes(self) -> None:
        """Directory modes last, so a read-only directory can still be filled."""
        for rel, e in self.dirs:
            idtools.chmod(self.abs(rel), e.mode & 0o7777)

    def _content(self, src: TarEntry) -> BinaryIO:
        """A reader at the start of `src`'s content (after a 1.0 sparse map)."""
        if self.current is not None:
            if src is self.current[0]:
                return self.current[1]
            kept = self.kept[id(src)]
            kept.seek(0)
            return kept
        self.f.seek(self.base + src.data_offset + src.sparse_skip)
        return self.f

    def _commit(self) -> None:
        if self.backup is not None:
            remove_all(self.backup)
            if "" not in self.touched and self.root_times is not None:
                os.utime(self.dest, ns=self.root_times)
        timed = set()
        for rel, e in self.dirs:
            os.utime(self.abs(rel), (_atime(e), _bound(e.mtime)))
            timed.add(rel)
        if self.now is not None:
            for rel in sorted(self.touched | set(self.now_paths)):
                if rel not in timed and os.path.lexists(self.abs(rel)):
                    platform.lutime(self.abs(rel), (self.now, self.now))

    def _rollback(self) -> None:
        times: list[tuple[str, int, int]] = []
        for rec in reversed(self.journal):
            kind, rel = rec[0], rec[1]
            p = self.abs(rel)
            if kind == "created":
                _remove_path(p)
            elif kind == "restore":
                _remove_path(p)
                os.rename(rec[2], p)
            elif kind == "meta":
                meta: _Meta = rec[2]
                for k, v in meta.xattrs.items():
                    if idtools.is_override_xattr(k):
                        idtools.set_record(p, k, v)
                    elif v is None:
                        lremovexattr(p, k)
                    else:
                        lsetxattr(p, k, v)
                if self.is_root:
                    os.lchown(p, meta.uid, meta.gid)
                if not stat.S_ISLNK(meta.mode):
                    os.chmod(p, stat.S_IMODE(meta.mode))
                times.append((rel, meta.atime_ns, meta.mtime_ns))
            elif kind == "times":
                times.append((rel, rec[2], rec[3]))
        if self.backup is not None:
            remove_all(self.backup, ignore_errors=True)
        # the root's times when the undo folder was made, then the journal's (taken before
        # the root first changed, if it changed before that: a streamed tar)
        if self.root_times is not None:
            os.utime(self.dest, ns=self.root_times)
        for rel, at, mt in times:
            with contextlib.suppress(FileNotFoundError):
                platform.lutime(self.abs(rel), ns=(at, mt))

    # -- ops ------------------------------------------------------------------------------

    def _op_mkdir(self, op: _Op) -> None:
        self._changing_in(_dirname(op.rel))
        p = self.abs(op.rel)
        os.mkdir(p, 0o700)
        self._created(op.rel)
        if self.is_root:
            os.lchown(p, 0, 0)
        idtools.chmod(p, IMPLIED_DIRECTORY_MODE)
        self.now_paths.append(op.rel)

    def _op_remove(self, op: _Op) -> None:
        self._changing_in(_dirname(op.rel))
        p = self.abs(op.rel)
        if op.rel in self.created:
            _remove_path(p)
            return
        if self.backup is None:
            st = os.lstat(self.dest)
            self.root_times = (st.st_atime_ns, st.st_mtime_ns)
            self.backup = tempfile.mkdtemp(prefix=_UNDO_PREFIX, dir=self.dest)
            self.backup_rel = os.path.basename(self.backup)
        self.counter += 1
        aside = os.path.join(self.backup, str(self.counter))
        os.rename(p, aside)
        self.journal.append(("restore", op.rel, aside))

    def _op_merge(self, op: _Op) -> None:
        e = op.entry
        assert e is not None
        self._snapshot(op.rel, list(e.xattrs))
        self._apply_meta(self.abs(op.rel), e, is_symlink=False, chmod=False)
        self.dirs.append((op.rel, e))
        self.unpacked.add(op.rel)

    def _op_create(self, op: _Op) -> None:
        e = op.entry
        assert e is not None
        src = op.data or e
        self._changing_in(_dirname(op.rel))
        p = self.abs(op.rel)
        t = src.typeflag if op.data is not None else e.typeflag
        if t == TYPE_DIR:
            os.mkdir(p, 0o700)
            self._created(op.rel)
            self.dirs.append((op.rel, e))
        elif t in (TYPE_REG, TYPE_LINK):  # TYPE_LINK here: aufs plnk, written as a file
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            self._created(op.rel)
            with os.fdopen(fd, "wb") as out:
                f = self._content(src)
                if src.sparse is None:
                    copy_exact(f, out, src.data_size)
                else:
                    _write_sparse(f, out, src.sparse, src.size)
        elif t == TYPE_SYMLINK:
            os.symlink(e.linkname, p)
            self._created(op.rel)
        elif t in (TYPE_CHAR, TYPE_BLOCK):
            kind = stat.S_IFCHR if t == TYPE_CHAR else stat.S_IFBLK
            platform.mknod(p, 0o600 | kind, os.makedev(e.devmajor, e.devminor))
            self._created(op.rel)
        elif t == TYPE_FIFO:
            platform.mkfifo(p, 0o600)
            self._created(op.rel)
        else:  # pragma: no cover - the planner refuses other types
            raise LayerTarError(f"unhandled tar header type {t[0]}")
        if t != TYPE_DIR:
            self._apply_meta(p, src, is_symlink=t == TYPE_SYMLINK)
            self._set_times(p, src, follow=t != TYPE_SYMLINK)
        else:
            self._apply_meta(p, e, is_symlink=False, chmod=False)
        self.unpacked.add(op.rel)

    def _op_link(self, op: _Op) -> None:
        e = op.entry
        assert e is not None
        self._changing_in(_dirname(op.rel))
        src = self.abs(op.src)
        src_is_link = stat.S_ISLNK(os.lstat(src).st_mode)
        self._snapshot(op.src, list(e.xattrs))
        platform.link(src, self.abs(op.rel))
        self._created(op.rel)
        p = self.abs(op.rel)
        self._apply_meta(p, e, is_symlink=src_is_link)
        if not src_is_link:
            self._set_times(p, e, follow=True)
        self.unpacked.add(op.rel)

    def _op_opaque_clear(self, op: _Op) -> None:
        """moby: UnpackLayer's `.wh..wh..opq` walk: remove what this tar did not unpack."""

        todo = [op.rel]  # an own stack: any depth
        while todo:
            d = todo.pop()
            for name in sorted(os.listdir(self.abs(d)), key=os.fsencode):
                child = _join(d, name)
                if d == "" and name == self.backup_rel:
                    continue
                if child in self.unpacked:
                    if stat.S_ISDIR(os.lstat(self.abs(child)).st_mode):
                        todo.append(child)
                else:
                    self._op_remove(_Op("remove", child))

    def _op_set_opaque(self, op: _Op) -> None:
        p = self.abs(op.rel)
        self._snapshot(op.rel, [OPAQUE_XATTR])
        try:
            lsetxattr(p, OPAQUE_XATTR, b"y")
        except OSError as err:
            raise LayerTarError(f"setxattr({p!r}, {OPAQUE_XATTR}=y): {err.strerror}") from err

    def _op_whiteout_dev(self, op: _Op) -> None:
        e = op.entry
        assert e is not None
        self._changing_in(_dirname(op.rel))
        p = self.abs(op.rel)
        try:
            platform.mknod(p, stat.S_IFCHR, 0)
        except OSError as err:
            raise LayerTarError(f"failed to mknod({p!r}, S_IFCHR, 0): {err.strerror}") from err
        self._created(op.rel)
        if self.is_root:
            os.lchown(p, e.uid, e.gid)
        self.now_paths.append(op.rel)

    # -- metadata -------------------------------------------------------------------------

    def _apply_meta(self, p: str, e: TarEntry, *, is_symlink: bool, chmod: bool = True) -> None:
        """Owner, xattrs, then mode (chown clears setuid bits), like createTarFile.

        Ids go to the kernel as Go's Lchown hands them: cut to 32 bits, so a PAX uid of -5
        is 4294967291 and 2**40 is 0 (what the real engine stores). An xattr the
        filesystem refuses with ENOTSUP or EPERM (a macOS `com.apple.*` record, a
        `trusted.*` one without the capability) is skipped, as moby only warns.
        """
        if self.is_root:
            os.lchown(p, _kernel_id(e.uid), _kernel_id(e.gid))
        else:  # unprivileged: the owner is kept as the container sees it (idtools)
            idtools.copy_owner_ids(p, (_kernel_id(e.uid), _kernel_id(e.gid)))
        for k, v in e.xattrs.items():
            if idtools.is_override_xattr(k):
                continue  # ours to keep, never taken from a tar
            try:
                lsetxattr(p, k, v)
            except OSError as err:
                if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
        if chmod and not is_symlink:
            idtools.chmod(p, e.mode & 0o7777)

    def _set_times(self, p: str, e: TarEntry, *, follow: bool) -> None:
        times = (_atime(e), _bound(e.mtime))
        if follow:
            os.utime(p, times)
        else:
            platform.lutime(p, times)


_MAX_TIME = ((1 << 63) - 1) / 1e9  # moby pkg/system maxTime: time.Unix(0, 1<<63-1), 2262


def _bound(t: float) -> float:
    """A time before the epoch or after 2262 becomes the epoch (the real engine stores a
    PAX mtime of -100.5 or 99999999999999 as 1970-01-01).

    moby: pkg/system/chtimes.go Chtimes (unixMinTime, unixMaxTime)
    """
    return t if 0.0 <= t <= _MAX_TIME else 0.0


#: Linux PATH_MAX, the terminating NUL included, and NAME_MAX: the kernel refuses a path
#: as long or a name longer (ENAMETOOLONG).
PATH_MAX = 4096
NAME_MAX = 255


def _check_path_length(e: TarEntry, rel: str) -> None:
    """Refuse, before anything is written, an entry whose path in the layer is too long for
    the kernel (or has a name over 255 bytes), with the error moby's applier meets: it runs
    chrooted in the layer, so the path is `/<name>`, and the call that fails is the one
    that creates the entry
    (`mkdir /a/a/...: file name too long` for a tree 5,000 folders deep, which the real
    engine refuses so).

    moby: pkg/archive/archive.go createTarFile (os.Mkdir, os.OpenFile, os.Symlink, os.Link)
    """
    path = "/" + rel
    raw = os.fsencode(path)
    if len(raw) < PATH_MAX and all(len(c) <= NAME_MAX for c in raw.split(b"/")):
        return
    # a missing parent too long to lstat is not created (the error is not ENOENT), so the
    # entry's own creation is what fails
    t = e.typeflag
    if t == TYPE_DIR:
        raise LayerTarError(f"mkdir {path}: file name too long")
    if t == TYPE_SYMLINK:
        raise LayerTarError(f"symlink {e.linkname} {path}: file name too long")
    if t == TYPE_LINK:
        raise LayerTarError(f"link /{posix_clean(e.linkname)} {path}: file name too long")
    if t in (TYPE_CHAR, TYPE_BLOCK, TYPE_FIFO):
        raise LayerTarError("file name too long")
    raise LayerTarError(f"open {path}: file name too long")


def _write_sparse(f: BinaryIO, out: BinaryIO, fragments: list[tuple[int, int]], size: int) -> None:
    """Write a GNU sparse file's real content: each data fragment at its offset, holes
    left as holes, the file `size` bytes long (what Go's sparse reader gives moby's
    io.Copy: Docker stores the whole file, not the map).

    Go: archive/tar reader.go sparseFileReader
    """
    for offset, length in fragments:
        out.seek(offset)
        copy_exact(f, out, length)
    out.truncate(size)


def _kernel_id(n: int) -> int:
    """An id as the lchown syscall receives Go's int: its low 32 bits (-1: unchanged)."""
    return n & 0xFFFFFFFF


def _atime(e: TarEntry) -> float:
    """moby: createTarFile's latestTime(hdr.AccessTime, hdr.ModTime)"""
    t = e.atime if e.atime is not None and e.atime > e.mtime else e.mtime
    return _bound(t)


def _remove_path(p: str) -> None:
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        remove_all(p)
    else:
        os.unlink(p)
