"""Deterministic, Docker-compatible tar streams: headers, a writer, a reader, layer tars.

Headers are encoded the way Go's archive/tar encodes what moby hands it
(`Format = PAX`, mtime truncated to seconds, no atime/ctime, no user/group names): a
plain USTAR header whenever that can hold the entry, and a PAX extended header
(`<dir>/PaxHeaders.0/<file>`) only for what USTAR cannot hold (long or non-ASCII
names, big ids or sizes, xattrs as `SCHILY.xattr.<name>`). `close()` writes the two
zero blocks and nothing else, so an empty archive is exactly 1024 NUL bytes, whose
sha256 is the empty layer's DiffID. The same tree therefore always gives the same
bytes, and the same DiffID.

The reader is a strict parser with Go's rules (checksum, octal/base-256 numbers, PAX
and GNU long-name headers, USTAR prefix) that also reports where each entry's bytes
are, which tar-split and the safe applier need.

moby: pkg/archive/archive.go (FileInfoHeader, addTarFile, Tarballer.Do),
pkg/archive/archive_linux.go (overlayWhiteoutConverter.ConvertWrite),
pkg/archive/changes.go (ExportChanges); Go: archive/tar writer.go, reader.go
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from dockerlayers import platform
from dockerlayers.archive._xattr import lgetxattr
from dockerlayers.archive.changes import Change, ChangeKind
from dockerlayers.archive.errors import TarFormatError
from dockerlayers.archive.whiteouts import (
    WHITEOUT_META_PREFIX,
    WHITEOUT_OPAQUE_DIR,
    WHITEOUT_PREFIX,
    is_char_whiteout,
    is_opaque_dir,
)

BLOCK_SIZE = 512

# Type flags (Go archive/tar constants).
TYPE_REG = b"0"
TYPE_REGA = b"\x00"
TYPE_LINK = b"1"
TYPE_SYMLINK = b"2"
TYPE_CHAR = b"3"
TYPE_BLOCK = b"4"
TYPE_DIR = b"5"
TYPE_FIFO = b"6"
TYPE_CONT = b"7"
TYPE_XHEADER = b"x"
TYPE_XGLOBAL = b"g"
TYPE_GNU_LONGNAME = b"L"
TYPE_GNU_LONGLINK = b"K"
TYPE_GNU_SPARSE = b"S"

#: Types whose header carries no data even if its size field says otherwise.
HEADER_ONLY_TYPES = frozenset({TYPE_LINK, TYPE_SYMLINK, TYPE_CHAR, TYPE_BLOCK, TYPE_DIR, TYPE_FIFO})

PAX_SCHILY_XATTR = "SCHILY.xattr."
_MAX_SPECIAL_FILE = 1 << 20  # Go: maxSpecialFileSize

_NAME_SIZE = 100
_PREFIX_SIZE = 155

# The security.capability layout (linux/include/uapi/linux/capability.h).
_XATTR_CAPS_SZ2 = 20
_VFS_CAP_REVISION_2 = 2
_VFS_CAP_REVISION_3 = 3

# Field offsets in a 512-byte header block.
_F_NAME = (0, 100)
_F_MODE = (100, 108)
_F_UID = (108, 116)
_F_GID = (116, 124)
_F_SIZE = (124, 136)
_F_MTIME = (136, 148)
_F_CHKSUM = (148, 156)
_F_TYPE = 156
_F_LINKNAME = (157, 257)
_F_MAGIC = (257, 263)
_F_VERSION = (263, 265)
_F_UNAME = (265, 297)
_F_GNAME = (297, 329)
_F_DEVMAJOR = (329, 337)
_F_DEVMINOR = (337, 345)
_F_PREFIX = (345, 500)
_F_GNU_ATIME = (345, 357)
_F_GNU_CTIME = (357, 369)

_MAGIC_USTAR = b"ustar\x00"
_VERSION_USTAR = b"00"
_MAGIC_GNU = b"ustar "
_VERSION_GNU = b" \x00"


@dataclass
class TarHeader:
    """One tar entry's metadata, shaped like Go's `tar.Header` (names are str, fs-encoded).

    `xattrs` become `SCHILY.xattr.<name>` PAX records; values are raw bytes.
    """

    name: str
    typeflag: bytes = TYPE_REG
    mode: int = 0
    uid: int = 0
    gid: int = 0
    size: int = 0
    mtime: int = 0
    linkname: str = ""
    uname: str = ""
    gname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: dict[str, bytes] = field(default_factory=dict)


# ---------------------------------------------------------------------------- encoding


def _fits_octal(width: int, x: int) -> bool:
    """Go fitsInOctal: a NUL-terminated octal number in `width` bytes."""
    return x >= 0 and (width >= 22 or x < 1 << ((width - 1) * 3))


def _put_string(blk: bytearray, span: tuple[int, int], s: bytes) -> None:
    """Go formatter.formatString: copy, NUL-terminate when room, no slash at a cut."""
    start, end = span
    width = end - start
    blk[start : start + min(len(s), width)] = s[:width]
    if len(s) < width:
        blk[start + len(s)] = 0
    elif len(s) > width and blk[end - 1] == ord("/"):
        n = len(s[: width - 1].rstrip(b"/"))
        blk[start + n] = 0


def _put_octal(blk: bytearray, span: tuple[int, int], x: int) -> None:
    """Go formatter.formatOctal: zero-padded octal leaving room for a NUL (0 if too big)."""
    width = span[1] - span[0]
    if not _fits_octal(width, x):
        x = 0
    _put_string(blk, span, b"%0*o" % (width - 1, x))


def _set_checksum(blk: bytearray) -> None:
    blk[_F_CHKSUM[0] : _F_CHKSUM[1]] = b" " * 8
    chksum = sum(blk)
    blk[_F_CHKSUM[0] : _F_CHKSUM[0] + 7] = b"%06o\x00" % chksum
    blk[_F_CHKSUM[0] + 7] = ord(" ")


def _split_ustar_path(name: bytes) -> tuple[bytes, bytes] | None:
    """Go splitUSTARPath: split a long ASCII name into prefix/suffix, or None."""
    length = len(name)
    if length <= _NAME_SIZE or not name.isascii():
        return None
    if length > _PREFIX_SIZE + 1:
        length = _PREFIX_SIZE + 1
    elif name[length - 1 : length] == b"/":
        length -= 1
    i = name.rfind(b"/", 0, length)
    nlen = len(name) - i - 1
    if i <= 0 or nlen > _NAME_SIZE or nlen == 0 or i > _PREFIX_SIZE:
        return None
    return name[:i], name[i + 1 :]


def _to_ascii(s: bytes) -> bytes:
    return bytes(b for b in s if b < 0x80)


def _pax_record(key: str, value: bytes) -> bytes:
    """Go formatPAXRecord: `<len> <key>=<value>\\n` where len counts itself."""
    kv = key.encode() + b"=" + value + b"\n"
    size = len(kv) + 1
    size += len(str(size))
    record = b"%d " % size + kv
    if len(record) != size:
        record = b"%d " % len(record) + kv
    return record


def _template(hdr: TarHeader, name: bytes, linkname: bytes, to_ascii: bool) -> bytearray:
    """Go Writer.templateV7Plus: the fields common to USTAR and PAX headers."""
    blk = bytearray(BLOCK_SIZE)
    blk[_F_TYPE] = hdr.typeflag[0]
    uname, gname = os.fsencode(hdr.uname), os.fsencode(hdr.gname)
    if to_ascii:
        name, linkname = _to_ascii(name), _to_ascii(linkname)
        uname, gname = _to_ascii(uname), _to_ascii(gname)
    _put_string(blk, _F_NAME, name)
    _put_string(blk, _F_LINKNAME, linkname)
    _put_octal(blk, _F_MODE, hdr.mode)
    _put_octal(blk, _F_UID, hdr.uid)
    _put_octal(blk, _F_GID, hdr.gid)
    _put_octal(blk, _F_SIZE, hdr.size)
    _put_octal(blk, _F_MTIME, hdr.mtime)
    _put_string(blk, _F_UNAME, uname)
    _put_string(blk, _F_GNAME, gname)
    _put_octal(blk, _F_DEVMAJOR, hdr.devmajor)
    _put_octal(blk, _F_DEVMINOR, hdr.devminor)
    return blk


def _finish(blk: bytearray) -> bytes:
    blk[_F_MAGIC[0] : _F_MAGIC[1]] = _MAGIC_USTAR
    blk[_F_VERSION[0] : _F_VERSION[1]] = _VERSION_USTAR
    _set_checksum(blk)
    return bytes(blk)


def encode_header(hdr: TarHeader) -> bytes:
    """Encode `hdr` into header block(s) exactly as Go's tar.Writer.WriteHeader would.

    USTAR when every field fits; otherwise a PAX `x` header with the records that do
    not fit, followed by the main header. Sizes, uids and names that need PAX are
    written as zero / ASCII-only in the main header, like Go.

    moby: pkg/archive/archive.go FileInfoHeader (Format = tar.FormatPAX)
    """
    name = os.fsencode(hdr.name)
    linkname = os.fsencode(hdr.linkname)
    if hdr.typeflag in (TYPE_REG, TYPE_CHAR, TYPE_BLOCK, TYPE_FIFO) and name.endswith(b"/"):
        raise ValueError(f"archive/tar: filename may not have trailing slash: {hdr.name!r}")
    if not _fits_octal(8, hdr.mode) or not _fits_octal(8, hdr.devmajor):
        raise ValueError(f"archive/tar: header field too long for {hdr.name!r}")
    if not _fits_octal(8, hdr.devminor):
        raise ValueError(f"archive/tar: header field too long for {hdr.name!r}")
    pax: dict[str, bytes] = {}

    def check_string(value: bytes, width: int, key: str) -> None:
        if not value.isascii() or len(value) > width:
            if key == "path" and _split_ustar_path(value) is not None:
                return
            pax[key] = value

    check_string(name, _NAME_SIZE, "path")
    check_string(linkname, _NAME_SIZE, "linkpath")
    check_string(os.fsencode(hdr.uname), 32, "uname")
    check_string(os.fsencode(hdr.gname), 32, "gname")
    for key, value, width in (
        ("uid", hdr.uid, 8),
        ("gid", hdr.gid, 8),
        ("size", hdr.size, 12),
        ("mtime", hdr.mtime, 12),
    ):
        if not _fits_octal(width, value):
            pax[key] = str(value).encode()
    for k, v in hdr.xattrs.items():
        pax[PAX_SCHILY_XATTR + k] = v
    for key in ("path", "linkpath", "uname", "gname"):
        if key in pax and b"\x00" in pax[key]:
            raise ValueError(f"archive/tar: invalid PAX record {key}")

    if not pax:
        split = _split_ustar_path(name)
        prefix = b""
        if split is not None:
            prefix, name = split
        blk = _template(hdr, name, linkname, to_ascii=False)
        _put_string(blk, _F_PREFIX, prefix)
        return _finish(blk)

    data = b"".join(_pax_record(k, pax[k]) for k in sorted(pax, key=str.encode))
    if len(data) > _MAX_SPECIAL_FILE:
        raise ValueError("archive/tar: write too long (PAX header)")
    # Go: path.Join(dir, "PaxHeaders.0", file) after path.Split(realName).
    slash = name.rfind(b"/")
    dir_part, file_part = name[: slash + 1], name[slash + 1 :]
    pax_name = _clean_join(dir_part, b"PaxHeaders.0", file_part)
    pax_name = _to_ascii(pax_name)[:_NAME_SIZE].rstrip(b"/")
    xblk = bytearray(BLOCK_SIZE)
    xblk[_F_TYPE] = TYPE_XHEADER[0]
    _put_string(xblk, _F_NAME, pax_name)
    _put_octal(xblk, _F_MODE, 0)
    _put_octal(xblk, _F_UID, 0)
    _put_octal(xblk, _F_GID, 0)
    _put_octal(xblk, _F_SIZE, len(data))
    _put_octal(xblk, _F_MTIME, 0)
    out = _finish(xblk) + data + _padding(len(data))
    return out + _finish(_template(hdr, name, linkname, to_ascii=True))


def _clean_join(*parts: bytes) -> bytes:
    """Go path.Join: join non-empty parts with `/` and clean the result."""
    joined = b"/".join(p for p in parts if p)
    return os.fsencode(_posix_clean(os.fsdecode(joined))) if joined else b""


def _posix_clean(p: str) -> str:
    """Go path.Clean for slash paths (lexical: `..` and `.` resolved, no trailing slash)."""
    if p == "":
        return "."
    rooted = p.startswith("/")
    out: list[str] = []
    for comp in p.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(comp)
    cleaned = "/".join(out)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def _padding(n: int) -> bytes:
    return b"\x00" * (-n % BLOCK_SIZE)


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


@dataclass
class TarEntry:
    """A parsed tar entry with where its bytes are in the stream.

    `raw_start` is where this entry's header blocks (PAX/GNU ones included) begin;
    `data_offset` where its content begins and `data_size` how many content bytes
    follow (0 for header-only types whatever `size` says). `size` is the header's
    declared size, which moby sums as a layer's size.
    """

    name: str
    typeflag: bytes
    mode: int
    uid: int
    gid: int
    size: int
    mtime: float
    linkname: str
    devmajor: int
    devminor: int
    uname: str
    gname: str
    atime: float | None
    xattrs: dict[str, bytes]
    raw_start: int
    data_offset: int
    data_size: int
    name_bytes: bytes = b""
    #: a GNU sparse file: its data fragments (offset, length) in the real file of `size`
    #: bytes, stored one after the other from `data_offset + sparse_skip` (1.0 keeps its
    #: map in the first blocks of the data); None for any other entry
    sparse: list[tuple[int, int]] | None = None
    sparse_skip: int = 0


def _parse_string(b: bytes) -> bytes:
    i = b.find(b"\x00")
    return b if i < 0 else b[:i]


def _parse_numeric(b: bytes) -> int:
    """Go parser.parseNumeric: base-256 when the top bit is set, else octal."""
    if b and b[0] & 0x80:
        inv = 0xFF if b[0] & 0x40 else 0x00
        x = 0
        for i, c in enumerate(b):
            c ^= inv
            if i == 0:
                c &= 0x7F
            x = (x << 8) | c
        if inv == 0xFF:
            return ~x
        return x
    s = b.strip(b" \x00")
    if not s:
        return 0
    try:
        return int(s, 8)
    except ValueError:
        raise TarFormatError("archive/tar: invalid tar header") from None


_HIGH_BYTES = bytes(range(128, 256))


def _checksum_ok(blk: bytes) -> bool:
    """Go's checksum rule: the stored sum matches the unsigned or the signed byte sum of
    the header with the checksum field read as spaces (sums done in C, not per byte)."""
    field = blk[_F_CHKSUM[0] : _F_CHKSUM[1]]
    stored = _parse_numeric(field)
    unsigned = sum(blk) - sum(field) + 8 * 32
    if stored == unsigned:
        return True
    rest = blk[: _F_CHKSUM[0]] + blk[_F_CHKSUM[1] :]
    high = len(rest) - len(rest.translate(None, _HIGH_BYTES))  # bytes > 127 count -256 each
    return stored == unsigned - 256 * high


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_PAX_PATH_KEYS = ("path", "linkpath", "uname", "gname")


def _go_int(value: bytes) -> int:
    """Go strconv.ParseInt(value, 10, 64): an optional sign and ASCII digits, in int64
    range; anything else is the reader's ErrHeader."""
    digits = value[1:] if value[:1] in (b"+", b"-") else value
    if not digits or not digits.isdigit() or not digits.isascii():
        raise TarFormatError("archive/tar: invalid tar header")
    n = int(value)
    if not _INT64_MIN <= n <= _INT64_MAX:
        raise TarFormatError("archive/tar: invalid tar header")
    return n


def _pax_time(value: bytes) -> float:
    """Go parsePAXTime: `<seconds>[.<digits>]`, seconds an int64 (so no `nan`, `inf` or
    exponents), the fraction cut to nanoseconds.

    Go: archive/tar strconv.go parsePAXTime
    """
    secs_s, dot, frac = value.partition(b".")
    secs = _go_int(secs_s)
    if not dot or not frac:
        return float(secs)
    if not frac.isdigit() or not frac.isascii():
        raise TarFormatError("archive/tar: invalid tar header")
    nsecs = int(frac[:9].ljust(9, b"0"))
    if secs_s.startswith(b"-"):
        nsecs = -nsecs
    return secs + nsecs / 1e9


_GNU_SPARSE_OFFSET = "GNU.sparse.offset"
_GNU_SPARSE_NUMBYTES = "GNU.sparse.numbytes"
_GNU_SPARSE_MAP = "GNU.sparse.map"


def _parse_pax(data: bytes) -> dict[str, bytes]:
    """Go parsePAX: `<len> <key>=<value>\\n` records (later keys win); the 0.0 sparse
    format's repeated `GNU.sparse.offset`/`numbytes` pairs are collected, in order, into
    one `GNU.sparse.map` record, as Go does."""
    out: dict[str, bytes] = {}
    sparse_map: list[bytes] = []
    while data:
        sp = data.find(b" ")
        if sp <= 0:
            raise TarFormatError("archive/tar: invalid PAX record")
        try:
            n = int(data[:sp])
        except ValueError:
            raise TarFormatError("archive/tar: invalid PAX record") from None
        if n <= sp or n > len(data) or data[n - 1 : n] != b"\n":
            raise TarFormatError("archive/tar: invalid PAX record")
        rec = data[sp + 1 : n - 1]
        data = data[n:]
        eq = rec.find(b"=")
        if eq <= 0:
            raise TarFormatError("archive/tar: invalid PAX record")
        key = rec[:eq].decode("utf-8", "surrogateescape")
        value = rec[eq + 1 :]
        if "\x00" in key or (key in _PAX_PATH_KEYS and b"\x00" in value):
            raise TarFormatError("archive/tar: invalid tar header")  # Go validPAXRecord
        if key in (_GNU_SPARSE_OFFSET, _GNU_SPARSE_NUMBYTES):
            want = _GNU_SPARSE_OFFSET if len(sparse_map) % 2 == 0 else _GNU_SPARSE_NUMBYTES
            if key != want or b"," in value:
                raise TarFormatError("archive/tar: invalid tar header")
            sparse_map.append(value)
            continue
        out[key] = value
    if sparse_map:
        out[_GNU_SPARSE_MAP] = b",".join(sparse_map)
    return out


class _Stream:
    """Block reads with position tracking and Go's EOF rules."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.pos = 0

    def read_exact(self, n: int) -> bytes:
        chunks = []
        want = n
        while want:
            b = self.f.read(want)
            if not b:
                break
            chunks.append(b)
            want -= len(b)
        data = b"".join(chunks)
        self.pos += len(data)
        return data

    def skip(self, n: int) -> None:
        seek = getattr(self.f, "seek", None)
        if seek is not None and getattr(self.f, "seekable", lambda: False)():
            cur = self.f.tell()
            end = self.f.seek(0, os.SEEK_END)
            if end - cur < n:
                self.f.seek(end)
                self.pos += end - cur
                raise TarFormatError("unexpected EOF: tar entry content is truncated")
            self.f.seek(cur + n)
            self.pos += n
            return
        while n:
            b = self.read_exact(min(n, 1 << 20))
            if not b:
                raise TarFormatError("unexpected EOF: tar entry content is truncated")
            n -= len(b)


def iter_tar(fileobj: BinaryIO) -> Iterator[TarEntry]:
    """Parse a tar stream header by header, with Go archive/tar's rules.

    Ends at two zero blocks, or at a clean EOF on a block boundary (Go accepts both);
    anything after the end marker is not read. Global PAX headers (`g`) are yielded
    (size 0) like Go does. Content is skipped (seeked over when the file can seek) and
    its presence checked; offsets are relative to where the stream was at the start.

    Raises TarFormatError for bad checksums, bad numbers, or a stream that ends
    inside a header or inside an entry's content.
    """
    s = _Stream(fileobj)
    while True:
        raw_start = s.pos
        pax: dict[str, bytes] = {}
        long_name: bytes | None = None
        long_link: bytes | None = None
        while True:
            blk = s.read_exact(BLOCK_SIZE)
            if len(blk) == 0:
                if pax or long_name is not None or long_link is not None:
                    raise TarFormatError("unexpected EOF after a tar extended header")
                return
            if len(blk) < BLOCK_SIZE:
                raise TarFormatError("unexpected EOF: tar header is truncated")
            if blk == bytes(BLOCK_SIZE):
                blk2 = s.read_exact(BLOCK_SIZE)
                if len(blk2) == 0:
                    return
                if len(blk2) < BLOCK_SIZE:
                    raise TarFormatError("unexpected EOF: tar header is truncated")
                if blk2 == bytes(BLOCK_SIZE):
                    return
                raise TarFormatError("archive/tar: invalid tar header")
            if not _checksum_ok(blk):
                raise TarFormatError("archive/tar: invalid tar header")
            typeflag = blk[_F_TYPE : _F_TYPE + 1]
            size = _parse_numeric(blk[_F_SIZE[0] : _F_SIZE[1]])
            if size < 0:
                raise TarFormatError("archive/tar: invalid tar header")
            if typeflag in (TYPE_XHEADER, TYPE_XGLOBAL, TYPE_GNU_LONGNAME, TYPE_GNU_LONGLINK):
                if size > _MAX_SPECIAL_FILE:
                    raise TarFormatError("archive/tar: extended header too long")
                data = s.read_exact(size)
                pad = s.read_exact(-size % BLOCK_SIZE)
                if len(data) < size or len(pad) < -size % BLOCK_SIZE:
                    raise TarFormatError("unexpected EOF: tar extended header is truncated")
                if typeflag == TYPE_XHEADER:
                    pax = _parse_pax(data)
                    continue
                if typeflag == TYPE_GNU_LONGNAME:
                    long_name = _parse_string(data)
                    continue
                if typeflag == TYPE_GNU_LONGLINK:
                    long_link = _parse_string(data)
                    continue
                # Global header: yielded, with size 0, like Go.
                name = _parse_string(blk[_F_NAME[0] : _F_NAME[1]])
                yield _entry(blk, name, b"", typeflag, 0, _parse_pax(data), raw_start, s.pos, 0)
                break
            name = _parse_string(blk[_F_NAME[0] : _F_NAME[1]])
            linkname = _parse_string(blk[_F_LINKNAME[0] : _F_LINKNAME[1]])
            magic = blk[_F_MAGIC[0] : _F_MAGIC[1]]
            version = blk[_F_VERSION[0] : _F_VERSION[1]]
            if magic == _MAGIC_USTAR and version == _VERSION_USTAR:
                prefix = _parse_string(blk[_F_PREFIX[0] : _F_PREFIX[1]])
                if blk[508:512] == b"tar\x00":  # STAR: prefix is shorter
                    prefix = _parse_string(blk[345:476])
                if prefix:
                    name = prefix + b"/" + name
            if pax.get("path"):
                name = pax["path"]
            if pax.get("linkpath"):
                linkname = pax["linkpath"]
            if long_name is not None:  # Go: the GNU long name wins over a PAX path
                name = long_name
            if long_link is not None:
                linkname = long_link
            if pax.get("size"):
                size = _go_int(pax["size"])
                if size < 0:
                    raise TarFormatError("archive/tar: invalid tar header")
            if typeflag == TYPE_REGA:
                typeflag = TYPE_DIR if name.endswith(b"/") else TYPE_REG
            data_size = 0 if typeflag in HEADER_ONLY_TYPES else size
            sparse: list[tuple[int, int]] | None = None
            sparse_skip = 0
            if typeflag == TYPE_GNU_SPARSE:
                size, sparse = _old_gnu_sparse(blk, s)
            else:
                got = _pax_sparse(pax, name, size)
                if got is not None:
                    name, size, sparse, one_zero = got
                    if one_zero:
                        sparse, sparse_skip = _sparse_map_1x0(s, data_size)
            data_offset = s.pos
            if sparse is not None:
                _check_sparse(typeflag, sparse, size, data_size - sparse_skip)
                data_offset -= sparse_skip
            entry = _entry(
                blk, name, linkname, typeflag, size, pax, raw_start, data_offset, data_size
            )
            entry.sparse, entry.sparse_skip = sparse, sparse_skip
            yield entry
            s.skip(data_size - sparse_skip + (-data_size % BLOCK_SIZE))
            break


_HEADER_ERROR = "archive/tar: invalid tar header"


def _pax_sparse(
    pax: dict[str, bytes], name: bytes, size: int
) -> tuple[bytes, int, list[tuple[int, int]] | None, bool] | None:
    """The GNU sparse PAX records (formats 0.0, 0.1, 1.0): (real name, real size, the map
    for 0.x or None for 1.0 whose map is in the data, is 1.0); None if not sparse.

    Go: archive/tar reader.go readGNUSparsePAXHeaders, readGNUSparseMap0x1
    """
    major, minor = pax.get("GNU.sparse.major"), pax.get("GNU.sparse.minor")
    if major == b"0" and minor in (b"0", b"1"):
        one_zero = False
    elif major == b"1" and minor == b"0":
        one_zero = True
    elif major or minor:
        return None  # an unknown version: a plain file
    elif pax.get(_GNU_SPARSE_MAP):
        one_zero = False
    else:
        return None
    if pax.get("GNU.sparse.name"):
        name = pax["GNU.sparse.name"]
    real = pax.get("GNU.sparse.size") or pax.get("GNU.sparse.realsize")
    if real:
        size = _go_int(real)
    if one_zero:
        return name, size, None, True
    count = _go_int(pax.get("GNU.sparse.numblocks", b""))
    if count < 0:
        raise TarFormatError(_HEADER_ERROR)
    fields = pax.get(_GNU_SPARSE_MAP, b"").split(b",")
    if fields == [b""]:
        fields = []
    if len(fields) != 2 * count:
        raise TarFormatError(_HEADER_ERROR)
    nums = [_go_int(x) for x in fields]
    return name, size, list(zip(nums[0::2], nums[1::2])), False


def _sparse_map_1x0(s: _Stream, data_size: int) -> tuple[list[tuple[int, int]], int]:
    """Read the 1.0 map from the first blocks of the data: a count, then offset and length
    per fragment, one decimal number a line; only the blocks needed are read. Returns the
    map and the bytes it took.

    Go: archive/tar reader.go readGNUSparseMap1x0
    """
    buf = b""
    newlines = 0
    taken = 0

    def feed(n: int) -> None:
        nonlocal buf, newlines, taken
        while newlines < n:
            if taken + BLOCK_SIZE > data_size:
                raise TarFormatError("unexpected EOF")
            blk = s.read_exact(BLOCK_SIZE)
            if len(blk) < BLOCK_SIZE:
                raise TarFormatError("unexpected EOF")
            taken += BLOCK_SIZE
            buf += blk
            newlines += blk.count(b"\n")
            if len(buf) > _MAX_SPECIAL_FILE:  # bounded: Go reads what the count asks for
                raise TarFormatError(_HEADER_ERROR)

    feed(1)
    tokens = buf.split(b"\n")
    count = _go_int(tokens[0])
    if count < 0:
        raise TarFormatError(_HEADER_ERROR)
    feed(1 + 2 * count)
    tokens = buf.split(b"\n")
    nums = [_go_int(t) for t in tokens[1 : 1 + 2 * count]]
    return list(zip(nums[0::2], nums[1::2])), taken


_OLD_GNU_SPARSE = 386  # 4 entries of (offset, length), 12 bytes each
_OLD_GNU_IS_EXTENDED = 482
_OLD_GNU_REALSIZE = (483, 495)


def _old_gnu_sparse(blk: bytes, s: _Stream) -> tuple[int, list[tuple[int, int]]]:
    """The old GNU sparse header ('S'): the real size, the map in the header and in the
    extension blocks that follow it (21 entries each).

    Go: archive/tar reader.go readOldGNUSparseMap
    """
    if blk[_F_MAGIC[0] : _F_VERSION[1]] != _MAGIC_GNU + _VERSION_GNU:
        raise TarFormatError(_HEADER_ERROR)
    size = _parse_numeric(blk[_OLD_GNU_REALSIZE[0] : _OLD_GNU_REALSIZE[1]])
    sparse: list[tuple[int, int]] = []
    area, count, extended = blk[_OLD_GNU_SPARSE:_OLD_GNU_IS_EXTENDED], 4, blk[_OLD_GNU_IS_EXTENDED]
    while True:
        for i in range(count):
            rec = area[i * 24 : i * 24 + 24]
            if rec[0] == 0:
                break
            sparse.append((_parse_numeric(rec[:12]), _parse_numeric(rec[12:])))
        if not extended:
            return size, sparse
        ext = s.read_exact(BLOCK_SIZE)
        if len(ext) < BLOCK_SIZE:
            raise TarFormatError("unexpected EOF")
        area, count, extended = ext[:504], 21, ext[504]


def _check_sparse(typeflag: bytes, sparse: list[tuple[int, int]], size: int, stored: int) -> None:
    """Go validateSparseEntries (in order, inside the file, no overlap), and the data
    stored must be exactly what the fragments take (Go's errMissData, errUnrefData)."""
    if typeflag in HEADER_ONLY_TYPES or size < 0:
        raise TarFormatError(_HEADER_ERROR)
    end = 0
    for offset, length in sparse:
        if offset < 0 or length < 0 or offset + length > size or end > offset:
            raise TarFormatError(_HEADER_ERROR)
        end = offset + length
    taken = sum(length for _, length in sparse)
    if taken > stored:
        raise TarFormatError("archive/tar: sparse file references non-existent data")
    if taken < stored:
        raise TarFormatError("archive/tar: sparse file contains unreferenced data")


def _entry(
    blk: bytes,
    name: bytes,
    linkname: bytes,
    typeflag: bytes,
    size: int,
    pax: dict[str, bytes],
    raw_start: int,
    data_offset: int,
    data_size: int,
) -> TarEntry:
    def num(span: tuple[int, int]) -> int:
        return _parse_numeric(blk[span[0] : span[1]])

    mode, uid, gid = num(_F_MODE), num(_F_UID), num(_F_GID)
    mtime: float = num(_F_MTIME)
    atime: float | None = None
    magic = blk[_F_MAGIC[0] : _F_MAGIC[1]]
    is_ustar = magic in (_MAGIC_USTAR, _MAGIC_GNU)
    devmajor = num(_F_DEVMAJOR) if is_ustar else 0
    devminor = num(_F_DEVMINOR) if is_ustar else 0
    uname = _parse_string(blk[_F_UNAME[0] : _F_UNAME[1]]) if is_ustar else b""
    gname = _parse_string(blk[_F_GNAME[0] : _F_GNAME[1]]) if is_ustar else b""
    if magic == _MAGIC_GNU and blk[_F_GNU_ATIME[0]]:
        atime = num(_F_GNU_ATIME) or None
    # Go mergePAX: an empty value keeps the header's; a bad number is ErrHeader
    if pax.get("uid"):
        uid = _go_int(pax["uid"])
    if pax.get("gid"):
        gid = _go_int(pax["gid"])
    if pax.get("mtime"):
        mtime = _pax_time(pax["mtime"])
    if pax.get("atime"):
        atime = _pax_time(pax["atime"])
    if pax.get("uname"):
        uname = pax["uname"]
    if pax.get("gname"):
        gname = pax["gname"]
    xattrs = {
        k[len(PAX_SCHILY_XATTR) :]: v for k, v in pax.items() if k.startswith(PAX_SCHILY_XATTR)
    }
    return TarEntry(
        name=os.fsdecode(name),
        typeflag=typeflag,
        mode=mode,
        uid=uid,
        gid=gid,
        size=size,
        mtime=mtime,
        linkname=os.fsdecode(linkname),
        devmajor=devmajor,
        devminor=devminor,
        uname=os.fsdecode(uname),
        gname=os.fsdecode(gname),
        atime=atime,
        xattrs=xattrs,
        raw_start=raw_start,
        data_offset=data_offset,
        data_size=data_size,
        name_bytes=name,
    )


# ---------------------------------------------------------------------- layer tars


def _security_capability(path: str) -> bytes | None:
    """moby ReadSecurityXattrToTarHeader: the capability xattr, v3 downgraded to v2."""
    cap = lgetxattr(path, "security.capability")
    if cap is None:
        return None
    if len(cap) > 3 and cap[3] == _VFS_CAP_REVISION_3:
        cap = cap[:3] + bytes([_VFS_CAP_REVISION_2]) + cap[4:_XATTR_CAPS_SZ2]
    return cap


def file_info_header(path: str, name: str, st: os.stat_result) -> TarHeader | None:
    """A header for the file at `path` as moby builds it (None for sockets, skipped).

    mode = permission bits plus setuid/setgid/sticky; directories get a trailing `/`;
    mtime truncated to whole seconds; no atime/ctime, no user/group names; device
    numbers for devices; `security.capability` copied.

    moby: pkg/archive/archive.go FileInfoHeader, ReadSecurityXattrToTarHeader
    """
    m = st.st_mode
    hdr = TarHeader(name=name, mode=stat.S_IMODE(m), uid=st.st_uid, gid=st.st_gid)
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
            st = os.lstat(path)
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
            elif stat.S_ISDIR(st.st_mode) and is_opaque_dir(path):
                extra = TarHeader(
                    name=hdr.name + WHITEOUT_OPAQUE_DIR,
                    typeflag=TYPE_REG,
                    mode=hdr.mode & 0o777,
                    uid=hdr.uid,
                    gid=hdr.gid,
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


def _walk_sorted(root: str) -> Iterator[tuple[str, str, bool]]:
    """Depth-first, names sorted bytewise per directory, like Go's filepath.WalkDir (with
    an own stack: any depth).

    Yields (absolute path, relative slash path, is_dir) for everything below `root`.
    """
    stack: list[tuple[str, list[str]]] = []

    def open_dir(rel: str) -> None:
        here = os.path.join(root, rel) if rel else root
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

    `whiteout_format` ("aufs" or "overlay") is accepted for symmetry with
    `unpack_layer` but both give the same output: conversion is always on, because a
    0/0 device or the opaque xattr can only be a whiteout in a layer directory.

    moby: pkg/archive/archive.go TarWithOptions / Tarballer.Do (overlay2 Diff:
    OverlayWhiteoutFormat; aufs Diff: ExcludePatterns `.wh..wh.*`, `!.wh..wh..opq`)
    """
    if whiteout_format not in ("aufs", "overlay"):
        raise ValueError(f"unknown whiteout format {whiteout_format!r}")
    tw = TarWriter(out)
    app = TarAppender(tw, convert_whiteouts=True)
    opaque_dirs: set[str] = set()
    skip_prefixes: list[str] = []
    for path, rel, is_dir in _walk_sorted(root):
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
