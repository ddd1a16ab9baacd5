"""Reading tar streams: a strict parser with Go archive/tar's rules (checksum,
octal/base-256 numbers, PAX and GNU long-name headers, USTAR prefix, GNU sparse files)
that also reports where each entry's bytes are, which tar-split and the safe applier need.

Go: archive/tar reader.go (Reader.Next, readHeader, mergePAX, parsePAX), sparse handling
(readGNUSparsePAXHeaders, readOldGNUSparseMap)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from dockerlayers.archive.errors import TarFormatError
from dockerlayers.archive.tarheader import (
    BLOCK_SIZE,
    F_CHKSUM,
    F_DEVMAJOR,
    F_DEVMINOR,
    F_GID,
    F_GNAME,
    F_GNU_ATIME,
    F_LINKNAME,
    F_MAGIC,
    F_MODE,
    F_MTIME,
    F_NAME,
    F_PREFIX,
    F_SIZE,
    F_TYPE,
    F_UID,
    F_UNAME,
    F_VERSION,
    HEADER_ONLY_TYPES,
    MAGIC_GNU,
    MAGIC_USTAR,
    MAX_SPECIAL_FILE,
    PAX_SCHILY_XATTR,
    TYPE_DIR,
    TYPE_GNU_LONGLINK,
    TYPE_GNU_LONGNAME,
    TYPE_GNU_SPARSE,
    TYPE_REG,
    TYPE_REGA,
    TYPE_XGLOBAL,
    TYPE_XHEADER,
    VERSION_GNU,
    VERSION_USTAR,
)


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
    field = blk[F_CHKSUM[0] : F_CHKSUM[1]]
    stored = _parse_numeric(field)
    unsigned = sum(blk) - sum(field) + 8 * 32
    if stored == unsigned:
        return True
    rest = blk[: F_CHKSUM[0]] + blk[F_CHKSUM[1] :]
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
    """Block reads with position tracking and Go's EOF rules. A subclass may be handed to
    `iter_tar` in place of a file, to see every byte the parser reads (tar-split does)."""

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

    `fileobj` may be a `_Stream`: then the consumer may read an entry's content through it
    (between two `next`), and only what it left of the content is skipped.
    """
    s = fileobj if isinstance(fileobj, _Stream) else _Stream(fileobj)
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
                raise TarFormatError("unexpected EOF")  # Go: io.ErrUnexpectedEOF
            if blk == bytes(BLOCK_SIZE):
                blk2 = s.read_exact(BLOCK_SIZE)
                if len(blk2) == 0:
                    return
                if len(blk2) < BLOCK_SIZE:
                    raise TarFormatError("unexpected EOF")  # Go: io.ErrUnexpectedEOF
                if blk2 == bytes(BLOCK_SIZE):
                    return
                raise TarFormatError("archive/tar: invalid tar header")
            if not _checksum_ok(blk):
                raise TarFormatError("archive/tar: invalid tar header")
            typeflag = blk[F_TYPE : F_TYPE + 1]
            size = _parse_numeric(blk[F_SIZE[0] : F_SIZE[1]])
            if size < 0:
                raise TarFormatError("archive/tar: invalid tar header")
            if typeflag in (TYPE_XHEADER, TYPE_XGLOBAL, TYPE_GNU_LONGNAME, TYPE_GNU_LONGLINK):
                if size > MAX_SPECIAL_FILE:
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
                name = _parse_string(blk[F_NAME[0] : F_NAME[1]])
                yield _entry(blk, name, b"", typeflag, 0, _parse_pax(data), raw_start, s.pos, 0)
                break
            name = _parse_string(blk[F_NAME[0] : F_NAME[1]])
            linkname = _parse_string(blk[F_LINKNAME[0] : F_LINKNAME[1]])
            magic = blk[F_MAGIC[0] : F_MAGIC[1]]
            version = blk[F_VERSION[0] : F_VERSION[1]]
            if magic == MAGIC_USTAR and version == VERSION_USTAR:
                prefix = _parse_string(blk[F_PREFIX[0] : F_PREFIX[1]])
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
            end = s.pos + data_size - sparse_skip + (-data_size % BLOCK_SIZE)
            yield entry
            s.skip(end - s.pos)
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
            if len(buf) > MAX_SPECIAL_FILE:  # bounded: Go reads what the count asks for
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
    if blk[F_MAGIC[0] : F_VERSION[1]] != MAGIC_GNU + VERSION_GNU:
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

    mode, uid, gid = num(F_MODE), num(F_UID), num(F_GID)
    mtime: float = num(F_MTIME)
    atime: float | None = None
    magic = blk[F_MAGIC[0] : F_MAGIC[1]]
    is_ustar = magic in (MAGIC_USTAR, MAGIC_GNU)
    devmajor = num(F_DEVMAJOR) if is_ustar else 0
    devminor = num(F_DEVMINOR) if is_ustar else 0
    uname = _parse_string(blk[F_UNAME[0] : F_UNAME[1]]) if is_ustar else b""
    gname = _parse_string(blk[F_GNAME[0] : F_GNAME[1]]) if is_ustar else b""
    if magic == MAGIC_GNU and blk[F_GNU_ATIME[0]]:
        atime = num(F_GNU_ATIME) or None
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
