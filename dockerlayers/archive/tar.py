"""Deterministic, Docker-compatible layer tars: a writer, moby's tar appender, layer
directories and change sets as tars.

`TarWriter.close()` writes the two zero blocks and nothing else, so an empty archive is
exactly 1024 NUL bytes, whose sha256 is the empty layer's DiffID. The same tree therefore
always gives the same bytes, and the same DiffID. Headers are encoded in `tarheader`,
streams parsed in `tarreader`.

moby: pkg/archive/archive.go (FileInfoHeader, addTarFile, Tarballer.Do),
pkg/archive/archive_linux.go (overlayWhiteoutConverter.ConvertWrite),
pkg/archive/changes.go (ExportChanges); Go: archive/tar writer.go
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO

from dockerlayers import idtools, platform
from dockerlayers.archive._xattr import lgetxattr
from dockerlayers.archive.changes import Change, ChangeKind
from dockerlayers.archive.tarheader import (
    BLOCK_SIZE,
    HEADER_ONLY_TYPES,
    TYPE_BLOCK,
    TYPE_CHAR,
    TYPE_DIR,
    TYPE_FIFO,
    TYPE_LINK,
    TYPE_REG,
    TYPE_SYMLINK,
    TarHeader,
    encode_header,
)
from dockerlayers.archive.whiteouts import (
    WHITEOUT_META_PREFIX,
    WHITEOUT_OPAQUE_DIR,
    WHITEOUT_PREFIX,
    is_char_whiteout,
    is_opaque_dir,
)

# The security.capability layout (linux/include/uapi/linux/capability.h).
_XATTR_CAPS_SZ2 = 20
_VFS_CAP_REVISION_2 = 2
_VFS_CAP_REVISION_3 = 3


class TarWriter:
    """Write a tar stream like Go's tar.Writer: headers, contents, padding, two zero blocks.

    No record padding is added (Python's tarfile pads to 10240 bytes; Go does not), so
    an empty archive is exactly 1024 NUL bytes.

    moby: pkg/archive/archive.go tarAppender (TarWriter *tar.Writer)
    """

    def __init__(self, fileobj: BinaryIO) -> None:
        self._out = fileobj
        self._remaining = 0
        self._pad = 0
        self._closed = False

    def write_header(self, hdr: TarHeader) -> None:
        """Finish the previous entry (its data must be complete) and write `hdr`."""
        self._flush()
        self._out.write(encode_header(hdr))
        self._remaining = 0 if hdr.typeflag in HEADER_ONLY_TYPES else hdr.size
        self._pad = -self._remaining % BLOCK_SIZE

    def write(self, data: bytes) -> None:
        """Write part of the current entry's content."""
        if len(data) > self._remaining:
            raise ValueError("archive/tar: write too long")
        self._out.write(data)
        self._remaining -= len(data)

    def add(self, hdr: TarHeader, content: BinaryIO | bytes | None = None) -> None:
        """Write `hdr` and exactly `hdr.size` bytes of `content` (bytes or a file)."""
        self.write_header(hdr)
        if self._remaining == 0:
            return
        if content is None:
            raise ValueError(f"no content for {hdr.name!r} ({hdr.size} bytes)")
        if isinstance(content, bytes | bytearray):
            self.write(bytes(content))
        else:
            copy_exact(content, self, self._remaining)
        if self._remaining:
            raise ValueError(f"short content for {hdr.name!r}")

    def _flush(self) -> None:
        if self._remaining:
            raise ValueError(f"archive/tar: missed writing {self._remaining} bytes")
        if self._pad:
            self._out.write(b"\x00" * self._pad)
            self._pad = 0

    def close(self) -> None:
        """Pad the last entry and write the end-of-archive marker (two zero blocks)."""
        if self._closed:
            return
        self._flush()
        self._out.write(b"\x00" * (2 * BLOCK_SIZE))
        self._closed = True

    def __enter__(self) -> TarWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()


def copy_exact(src: BinaryIO, dst: TarWriter | BinaryIO, n: int, chunk: int = 1 << 20) -> None:
    """Copy exactly `n` bytes from `src` to `dst`; a short source is an error."""
    while n > 0:
        buf = src.read(min(chunk, n))
        if not buf:
            raise ValueError(f"unexpected EOF: {n} bytes missing")
        dst.write(buf)
        n -= len(buf)


def copy_with_hash(src: BinaryIO, dst: BinaryIO, chunk: int = 1 << 20) -> tuple[str, int]:
    """Copy `src` to `dst` while hashing; returns (`sha256:<hex>`, byte count).

    moby: layer/layer_store.go applyTar (TeeReader into a digester)
    """
    h = hashlib.sha256()
    n = 0
    while True:
        buf = src.read(chunk)
        if not buf:
            break
        h.update(buf)
        dst.write(buf)
        n += len(buf)
    return "sha256:" + h.hexdigest(), n


# ----------------------------------------------------------------------------- reading


# ---------------------------------------------------------------------- layer tars


def _security_capability(path: str) -> bytes | None:
    """moby ReadSecurityXattrToTarHeader: the capability xattr, v3 downgraded to v2."""
    cap = lgetxattr(path, "security.capability")
    if cap is None:
        return None
    if len(cap) > 3 and cap[3] == _VFS_CAP_REVISION_3:
        cap = cap[:3] + bytes([_VFS_CAP_REVISION_2]) + cap[4:_XATTR_CAPS_SZ2]
    return cap


def host_user_name(uid: int) -> str:
    """The `uname` Go's FileInfoHeader finds for `uid` in the engine host's user database.

    The model's engine host knows only root (a layer's bytes must not depend on the machine
    that runs the model): `root` for 0, `""` otherwise.
    """
    return "root" if uid == 0 else ""


def host_group_name(gid: int) -> str:
    """The `gname` for `gid`, as `host_user_name` (`root` for 0)."""
    return "root" if gid == 0 else ""


def file_info_header(path: str, name: str, st: os.stat_result) -> TarHeader | None:
    """A header for the file at `path` as moby builds it (None for sockets, skipped).

    mode = permission bits plus setuid/setgid/sticky plus Go's file-type bits (`0040755`
    for a directory, `0100644` for a file, `0120777` for a symlink, as moby's
    fillGo18FileTypeBits puts them back); directories get a trailing `/`; mtime truncated
    to whole seconds; no atime/ctime; user and group names as Go's FileInfoHeader looks
    them up on the engine's host (`root` for 0, none for other ids: see `host_user_name`);
    device numbers for devices; `security.capability` copied.

    moby: pkg/archive/archive.go FileInfoHeader, fillGo18FileTypeBits,
    ReadSecurityXattrToTarHeader; Go: archive/tar common.go FileInfoHeader, stat_unix.go
    """
    m = st.st_mode
    hdr = TarHeader(
        name=name,
        # permission bits and the type bits fillGo18FileTypeBits puts back: Go's c_IS*
        # constants are Linux's S_IF* values, so the mode is st_mode itself
        mode=m,
        uid=st.st_uid,
        gid=st.st_gid,
        uname=host_user_name(st.st_uid),
        gname=host_group_name(st.st_gid),
    )
    hdr.mtime = platform.mtime_ns(st) // 1_000_000_000
    if stat.S_ISREG(m):
        hdr.typeflag, hdr.size = TYPE_REG, st.st_size
    elif stat.S_ISDIR(m):
        hdr.typeflag = TYPE_DIR
        if not hdr.name.endswith("/"):
            hdr.name += "/"
    elif stat.S_ISLNK(m):
        hdr.typeflag, hdr.linkname = TYPE_SYMLINK, os.readlink(path)
    elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
        hdr.typeflag = TYPE_CHAR if stat.S_ISCHR(m) else TYPE_BLOCK
        hdr.devmajor, hdr.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(m):
        hdr.typeflag = TYPE_FIFO
    else:
        return None  # Go: "archive/tar: sockets not supported"; moby logs and skips.
    cap = _security_capability(path)
    if cap is not None:
        hdr.xattrs["security.capability"] = cap
    return hdr


class TarAppender:
    """moby's tarAppender: hardlink mapping by inode, whiteout conversion, content copy."""

    def __init__(self, tw: TarWriter, convert_whiteouts: bool) -> None:
        self.tw = tw
        self.seen: dict[tuple[int, int], str] = {}
        self.convert = convert_whiteouts

    def add(self, path: str, name: str) -> None:
        """moby: pkg/archive/archive.go tarAppender.addTarFile"""
        try:
            st = idtools.lstat(path)  # the container's owner, whoever runs the model
            hdr = file_info_header(path, name, st)
        except FileNotFoundError:
            return  # moby logs "Can't add file" and goes on
        if hdr is None:
            return
        # The kernel (5.8+) makes every whiteout a hard link of one 0/0 device: a whiteout
        # is converted by its mode, never turned into a link entry (moby does the same).
        whiteout = self.convert and is_char_whiteout(st)
        key = None if stat.S_ISDIR(st.st_mode) or whiteout else platform.hard_link_key(st)
        if key is not None:
            first = self.seen.get(key)
            if first is not None:
                hdr.typeflag, hdr.linkname, hdr.size = TYPE_LINK, first, 0
            else:
                self.seen[key] = hdr.name
        extra: TarHeader | None = None
        if self.convert:
            if is_char_whiteout(st) and hdr.typeflag == TYPE_CHAR:
                parent, _, base = hdr.name.rpartition("/")
                hdr.name = (parent + "/" if parent else "") + WHITEOUT_PREFIX + base
                hdr.typeflag, hdr.mode, hdr.size = TYPE_REG, 0o600, 0
            elif hdr.typeflag == TYPE_REG and hdr.name.rpartition("/")[2].startswith(
                WHITEOUT_PREFIX
            ):
                # the file form (no mknod): the header the 0/0 device's conversion writes,
                # without Go's file-type bits
                hdr.mode = stat.S_IMODE(st.st_mode)
            elif stat.S_ISDIR(st.st_mode) and is_opaque_dir(path):
                extra = TarHeader(
                    name=hdr.name + WHITEOUT_OPAQUE_DIR,
                    typeflag=TYPE_REG,
                    mode=hdr.mode & 0o777,
                    uid=hdr.uid,
                    gid=hdr.gid,
                    uname=hdr.uname,
                    gname=hdr.gname,
                )
        if hdr.typeflag != TYPE_REG or hdr.size == 0:
            self.tw.write_header(hdr)
            if extra is not None:
                self.tw.write_header(extra)
            return
        # Open before writing the header: a file we cannot read must not leave a
        # header without its content in the stream (moby would emit a broken tar).
        with open(path, "rb") as f:
            self.tw.write_header(hdr)
            copy_exact(f, self.tw, hdr.size)


def _overlay_order(name: str) -> bytes:
    """Sort key that puts a file-form whiteout where its 0/0 device would be: `.wh.x` as
    `x`, `.wh..wh..opq` first (right after its folder, as the opaque xattr's marker)."""
    if name == WHITEOUT_OPAQUE_DIR:
        return b""
    if name.startswith(WHITEOUT_PREFIX):
        return os.fsencode(name[len(WHITEOUT_PREFIX) :])
    return os.fsencode(name)


def _walk_sorted(
    root: str, key: Callable[[str], bytes] = os.fsencode
) -> Iterator[tuple[str, str, bool]]:
    """Depth-first, names sorted bytewise per directory, like Go's filepath.WalkDir (with
    an own stack: any depth). `key` may order names otherwise (see `_overlay_order`).

    Yields (absolute path, relative slash path, is_dir) for everything below `root`.
    """
    stack: list[tuple[str, list[str]]] = []

    def open_dir(rel: str) -> None:
        here = os.path.join(root, rel) if rel else root
        try:
            names = sorted(os.listdir(here), key=key, reverse=True)
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
        r = f"{rel}/{name}" if rel else name
        p = os.path.join(root, r)
        try:
            is_dir = stat.S_ISDIR(os.lstat(p).st_mode)
        except FileNotFoundError:
            continue
        yield p, r, is_dir
        if is_dir:
            open_dir(r)


def tar_directory(root: str, out: BinaryIO, *, whiteout_format: str = "aufs") -> None:
    """Write the layer directory `root` as a layer tar to `out` (root itself not included).

    Entries come in filepath.WalkDir order (depth-first, names sorted per directory).
    The second and later names of a hard-linked inode become `TypeLink` entries to the
    first. Whiteouts on disk in either form come out in the AUFS/tar interchange form:
    a 0/0 character device `d/x` becomes an empty regular `d/.wh.x` (mode 0600, owner
    of the device); a directory with `trusted.overlay.opaque=y` is followed right away
    by `d/.wh..wh..opq` (empty, the directory's permission bits and owner, mtime 0).
    `.wh.` files pass through; root-level `.wh..wh.*` aufs metadata (`.wh..wh.plnk`
    ...) is left out, except `.wh..wh..opq`.

    Conversion is always on, because a 0/0 device or the opaque xattr can only be a
    whiteout in a layer directory. With `whiteout_format` "overlay" (an overlay2 layer),
    a file-form whiteout (the model's form where it may not mknod, i.e. unprivileged)
    comes out where the device would have: `.wh.x` in the order of `x`, so the tar, and
    the DiffID, are the same whoever ran the model; "aufs" keeps aufs's own order.

    moby: pkg/archive/archive.go TarWithOptions / Tarballer.Do (overlay2 Diff:
    OverlayWhiteoutFormat; aufs Diff: ExcludePatterns `.wh..wh.*`, `!.wh..wh..opq`)
    """
    if whiteout_format not in ("aufs", "overlay"):
        raise ValueError(f"unknown whiteout format {whiteout_format!r}")
    tw = TarWriter(out)
    app = TarAppender(tw, convert_whiteouts=True)
    opaque_dirs: set[str] = set()
    skip_prefixes: list[str] = []
    key = _overlay_order if whiteout_format == "overlay" else os.fsencode
    for path, rel, is_dir in _walk_sorted(root, key):
        if skip_prefixes and any(rel.startswith(p) for p in skip_prefixes):
            continue
        if "/" not in rel and rel.startswith(WHITEOUT_META_PREFIX) and rel != WHITEOUT_OPAQUE_DIR:
            if is_dir:
                skip_prefixes.append(rel + "/")
            continue
        parent, _, base = rel.rpartition("/")
        if base == WHITEOUT_OPAQUE_DIR and parent in opaque_dirs:
            continue  # the xattr already produced this marker
        if is_dir and is_opaque_dir(path):
            opaque_dirs.add(rel)
        app.add(path, rel)
    tw.close()


def export_changes(
    root: str, changes: list[Change], out: BinaryIO, *, now: float | None = None
) -> None:
    """Write a layer tar holding `changes` of the tree at `root` (moby ExportChanges).

    Sorted by path. A Delete becomes an empty header `<dir>/.wh.<base>` (mode 0,
    owner 0:0, mtime = `now` rounded to the second, or the current time); anything
    else is the real file at `root + path` (a directory is its own header only).
    Hard links share one inode map, so the first path (in sorted order) is the regular
    file and the others link to it. Vanished files are skipped, as moby does.

    moby: pkg/archive/changes.go ExportChanges
    """
    tw = TarWriter(out)
    app = TarAppender(tw, convert_whiteouts=False)
    stamp = time.time() if now is None else now
    for change in sorted(changes, key=lambda c: os.fsencode(c.path)):
        if change.kind == ChangeKind.DELETE:
            parent, _, base = change.path.rpartition("/")
            name = f"{parent}/{WHITEOUT_PREFIX}{base}".lstrip("/")
            tw.write_header(TarHeader(name=name, mtime=int(stamp + 0.5)))
        else:
            app.add(os.path.join(root, change.path.lstrip("/")), change.path.lstrip("/"))
    tw.close()
