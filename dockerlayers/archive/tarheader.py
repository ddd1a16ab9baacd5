"""Tar headers as Go's archive/tar encodes them: the format's constants and field
offsets, `TarHeader` (Go's `tar.Header`), and `encode_header`.

Headers are encoded the way Go's archive/tar encodes what moby hands it
(`Format = PAX`, mtime truncated to seconds, no atime/ctime): a plain USTAR header
whenever that can hold the entry, and a PAX extended header
(`<dir>/PaxHeaders.0/<file>`) only for what USTAR cannot hold (long or non-ASCII
names, big ids or sizes, xattrs as `SCHILY.xattr.<name>`). The same header therefore
always gives the same bytes.

Go: archive/tar format.go, common.go, writer.go (writeUSTARHeader, writePAXHeader)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

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
MAX_SPECIAL_FILE = 1 << 20  # Go: maxSpecialFileSize

_NAME_SIZE = 100
_PREFIX_SIZE = 155

# Field offsets in a 512-byte header block.
F_NAME = (0, 100)
F_MODE = (100, 108)
F_UID = (108, 116)
F_GID = (116, 124)
F_SIZE = (124, 136)
F_MTIME = (136, 148)
F_CHKSUM = (148, 156)
F_TYPE = 156
F_LINKNAME = (157, 257)
F_MAGIC = (257, 263)
F_VERSION = (263, 265)
F_UNAME = (265, 297)
F_GNAME = (297, 329)
F_DEVMAJOR = (329, 337)
F_DEVMINOR = (337, 345)
F_PREFIX = (345, 500)
F_GNU_ATIME = (345, 357)
F_GNU_CTIME = (357, 369)

MAGIC_USTAR = b"ustar\x00"
VERSION_USTAR = b"00"
MAGIC_GNU = b"ustar "
VERSION_GNU = b" \x00"


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
    blk[F_CHKSUM[0] : F_CHKSUM[1]] = b" " * 8
    chksum = sum(blk)
    blk[F_CHKSUM[0] : F_CHKSUM[0] + 7] = b"%06o\x00" % chksum
    blk[F_CHKSUM[0] + 7] = ord(" ")


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
    blk[F_TYPE] = hdr.typeflag[0]
    uname, gname = os.fsencode(hdr.uname), os.fsencode(hdr.gname)
    if to_ascii:
        name, linkname = _to_ascii(name), _to_ascii(linkname)
        uname, gname = _to_ascii(uname), _to_ascii(gname)
    _put_string(blk, F_NAME, name)
    _put_string(blk, F_LINKNAME, linkname)
    _put_octal(blk, F_MODE, hdr.mode)
    _put_octal(blk, F_UID, hdr.uid)
    _put_octal(blk, F_GID, hdr.gid)
    _put_octal(blk, F_SIZE, hdr.size)
    _put_octal(blk, F_MTIME, hdr.mtime)
    _put_string(blk, F_UNAME, uname)
    _put_string(blk, F_GNAME, gname)
    _put_octal(blk, F_DEVMAJOR, hdr.devmajor)
    _put_octal(blk, F_DEVMINOR, hdr.devminor)
    return blk


def _finish(blk: bytearray) -> bytes:
    blk[F_MAGIC[0] : F_MAGIC[1]] = MAGIC_USTAR
    blk[F_VERSION[0] : F_VERSION[1]] = VERSION_USTAR
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
        _put_string(blk, F_PREFIX, prefix)
        return _finish(blk)

    data = b"".join(_pax_record(k, pax[k]) for k in sorted(pax, key=str.encode))
    if len(data) > MAX_SPECIAL_FILE:
        raise ValueError("archive/tar: write too long (PAX header)")
    # Go: path.Join(dir, "PaxHeaders.0", file) after path.Split(realName).
    slash = name.rfind(b"/")
    dir_part, file_part = name[: slash + 1], name[slash + 1 :]
    pax_name = _clean_join(dir_part, b"PaxHeaders.0", file_part)
    pax_name = _to_ascii(pax_name)[:_NAME_SIZE].rstrip(b"/")
    xblk = bytearray(BLOCK_SIZE)
    xblk[F_TYPE] = TYPE_XHEADER[0]
    _put_string(xblk, F_NAME, pax_name)
    _put_octal(xblk, F_MODE, 0)
    _put_octal(xblk, F_UID, 0)
    _put_octal(xblk, F_GID, 0)
    _put_octal(xblk, F_SIZE, len(data))
    _put_octal(xblk, F_MTIME, 0)
    out = _finish(xblk) + data + _padding(len(data))
    return out + _finish(_template(hdr, name, linkname, to_ascii=True))


def _clean_join(*parts: bytes) -> bytes:
    """Go path.Join: join non-empty parts with `/` and clean the result."""
    joined = b"/".join(p for p in parts if p)
    return os.fsencode(posix_clean(os.fsdecode(joined))) if joined else b""


def posix_clean(p: str) -> str:
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
