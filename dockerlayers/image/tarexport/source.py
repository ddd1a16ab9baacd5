"""Read an image archive or an OCI layout folder without trusting its names.

Nothing is extracted: a tar is indexed in place (member names cleaned, `..` and
duplicates rejected, only files, folders and links kept) and read by offset; symlinks
and hard links are resolved inside the archive as a chroot would. A compressed input is
first decompressed into a temp file under the daemon root. A layout folder is read
through paths checked to stay inside it.

moby: image/tarexport/load.go (chrootarchive.Untar into a temp dir, safePath)
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import posixpath
import shutil
import stat
import tempfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from dockerlayers.archive import TarFormatError, iter_tar
from dockerlayers.archive.errors import StreamError
from dockerlayers.archive.tarheader import (
    TYPE_DIR,
    TYPE_LINK,
    TYPE_REG,
    TYPE_REGA,
    TYPE_SYMLINK,
    TYPE_XGLOBAL,
)
from dockerlayers.image import jsonenc
from dockerlayers.image.errors import LoadError

MAX_SYMLINK_HOPS = 40
MAX_MEMBERS = 1 << 16

_GZIP = b"\x1f\x8b"
_BZIP2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"
_ZSTD = b"\x28\xb5\x2f\xfd"


def compression_of(head: bytes) -> str:
    """The compression a stream starts with: "gzip", "bzip2", "xz", "zstd" or "".

    moby: pkg/archive/archive.go DetectCompression
    """
    if head.startswith(_GZIP):
        return "gzip"
    if head.startswith(_BZIP2):
        return "bzip2"
    if head.startswith(_XZ):
        return "xz"
    if head.startswith(_ZSTD):
        return "zstd"
    return ""


def decompress_stream(f: BinaryIO) -> BinaryIO:
    """A reader of `f` decompressed if it is compressed (gzip, bzip2, xz). `f` must be
    seekable (it is rewound).

    moby: pkg/archive/archive.go DecompressStream
    """
    head = f.read(6)
    f.seek(-len(head), io.SEEK_CUR)
    kind = compression_of(head)
    if kind == "gzip":
        return _Decompressed(_Gunzip(f), f, kind)  # type: ignore[return-value]
    if kind == "bzip2":
        return _Decompressed(bz2.BZ2File(f), f, kind)  # type: ignore[return-value]
    if kind == "xz":
        return _Decompressed(lzma.LZMAFile(f), f, kind)  # type: ignore[return-value]
    if kind == "zstd":
        raise LoadError("unsupported compression format zstd")
    return f


#: compressed bytes read, and decompressed bytes made, per step of _Gunzip
_GZ_IN, _GZ_OUT = 1 << 20, 1 << 20


class _Gunzip(io.RawIOBase):
    """gzip members (one or more, zero padding after them allowed) decompressed by zlib in
    steps of a megabyte: what gzip.GzipFile reads, several times faster (it feeds zlib 8 KB
    at a time), with memory bounded by _GZ_OUT however well the input compresses. Its
    failures are GzipFile's: BadGzipFile (a bad header, a bad CRC or length: "CRC check
    failed"), EOFError (a truncated member), zlib.error (corrupt deflate data)."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._buf = b""
        self._pos = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        """Up to `n` bytes of what zlib made last (all of it, not copied, when it fits);
        everything to the end without `n`."""
        if n is None or n < 0:
            return b"".join(iter(lambda: self.read(_GZ_OUT), b""))
        while self._pos >= len(self._buf):
            if self._done:
                return b""
            self._step()
        buf, pos = self._buf, self._pos
        if n >= len(buf) - pos:
            self._pos = len(buf)
            return buf if pos == 0 else buf[pos:]
        self._pos = pos + n
        return buf[pos : pos + n]

    def _step(self) -> None:
        d = self._d
        if d.eof:  # another member, zero padding, or the end
            rest = d.unused_data.lstrip(b"\0")
            while len(rest) < 2:
                more = self._f.read(_GZ_IN)
                if not more:
                    if rest:
                        raise gzip.BadGzipFile("Not a gzipped file")
                    self._done, self._buf, self._pos = True, b"", 0
                    return
                rest = (rest + more) if rest else more.lstrip(b"\0")
            if not rest.startswith(_GZIP):
                raise gzip.BadGzipFile(f"Not a gzipped file ({rest[:2]!r})")
            d = self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = rest
        else:
            data = d.unconsumed_tail or self._f.read(_GZ_IN)
            if not data:
                raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        try:
            self._buf = d.decompress(data, _GZ_OUT)
        except zlib.error as e:
            text = str(e)
            if "data check" in text or "length check" in text:
                raise gzip.BadGzipFile("CRC check failed") from None
            if "header" in text or "unknown compression method" in text:
                raise gzip.BadGzipFile("Not a gzipped file") from None
            raise
        self._pos = 0


class _Decompressed(io.RawIOBase):
    """A decompressing reader whose failures carry Go's words (StreamError): a bad gzip
    checksum or length is `gzip: invalid checksum`, a bad trailing member `gzip: invalid
    header`, a corrupt deflate stream `flate: corrupt input before offset N` (N: the
    compressed bytes read so far, near Go's figure), a stream that ends early `unexpected
    EOF` — never zlib.error or EOFError.

    Go: compress/gzip gunzip.go (ErrChecksum, ErrHeader), compress/flate CorruptInputError
    """

    def __init__(self, inner: BinaryIO, raw: BinaryIO, kind: str) -> None:
        self._inner, self._raw, self._kind = inner, raw, kind
        self._start = raw.tell()

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        """What the decompressor gives (no copy on the way), its errors in Go's words;
        everything to the end without `n`."""
        if n is None or n < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        try:
            return self._inner.read(n)
        except EOFError:
            raise StreamError("unexpected EOF") from None
        except gzip.BadGzipFile as e:
            text = str(e)
            if "CRC" in text or "length" in text:
                raise StreamError("", status="gzip: invalid checksum") from None
            raise StreamError("", status="gzip: invalid header") from None
        except zlib.error:
            offset = max(0, self._raw.tell() - self._start)
            raise StreamError("", status=f"flate: corrupt input before offset {offset}") from None
        except (OSError, lzma.LZMAError) as e:  # bzip2 / xz: their own words
            raise StreamError("", status=f"{self._kind}: {e}") from None

    def close(self) -> None:
        self._inner.close()
        super().close()


def clean_member_name(name: str) -> str:
    """A member name as a clean relative path; absolute or escaping names are refused."""
    if "\x00" in name:
        raise LoadError(f"invalid archive member name {name!r}")
    if name.startswith("/"):
        raise LoadError(f"invalid archive member name {name!r}: absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise LoadError(f"invalid archive member name {name!r}: path escapes the archive")
    return "/".join(parts)


class _Member:
    __slots__ = ("kind", "offset", "size", "target")

    def __init__(self, kind: str, offset: int, size: int, target: str) -> None:
        self.kind, self.offset, self.size, self.target = kind, offset, size, target


class _Section(io.RawIOBase):
    """A read-only window [offset, offset+size) of a seekable file."""

    def __init__(self, f: BinaryIO, offset: int, size: int) -> None:
        self._f, self._start, self._size, self._pos = f, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, min(self._size, base + pos))
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, b) -> int:  # type: ignore[override]
        n = min(len(b), self._size - self._pos)
        if n <= 0:
            return 0
        self._f.seek(self._start + self._pos)
        data = self._f.read(n)
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)


class Source:
    """What the loaders read: files by slash-separated relative path."""

    def open(self, path: str) -> BinaryIO:
        raise NotImplementedError

    def size(self, path: str) -> int:
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        try:
            self.size(path)
            return True
        except LoadError:
            return False

    def lexists(self, path: str) -> bool:
        """Whether `path` itself is there (a link counts, even a dangling one)."""
        raise NotImplementedError

    def top_dirs(self) -> list[str]:
        raise NotImplementedError

    def read(self, path: str, limit: int = jsonenc.MAX_JSON_SIZE) -> bytes:
        size = self.size(path)
        if size > limit:
            raise LoadError(f"{path}: file too large ({size} bytes, limit {limit})")
        with self.open(path) as f:
            return f.read()

    def read_json(self, path: str) -> object:
        data = self.read(path)
        try:
            return jsonenc.unmarshal(data, path)
        except ValueError as e:
            raise LoadError(str(e)) from None


class TarSource(Source):
    """An uncompressed tar (a seekable file), indexed once."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._members: dict[str, _Member] = {}
        try:
            for e in iter_tar(f):
                if e.typeflag == TYPE_XGLOBAL:
                    continue
                if len(self._members) >= MAX_MEMBERS:
                    raise LoadError("archive has too many members")
                name = clean_member_name(e.name)
                if not name:
                    continue  # "./" itself
                if name in self._members:
                    raise LoadError(f"duplicate archive member {name!r}")
                if e.typeflag in (TYPE_REG, TYPE_REGA):
                    m = _Member("file", e.data_offset, e.data_size, "")
                elif e.typeflag == TYPE_DIR:
                    m = _Member("dir", 0, 0, "")
                elif e.typeflag == TYPE_SYMLINK:
                    m = _Member("symlink", 0, 0, e.linkname)
                elif e.typeflag == TYPE_LINK:
                    target = clean_member_name(e.linkname)
                    if self._members.get(target, _Member("", 0, 0, "")).kind != "file":
                        raise LoadError(f"invalid hard link {name!r} -> {e.linkname!r}")
                    m = self._members[target]
                else:
                    raise LoadError(f"unsupported archive member {name!r} (type {e.typeflag!r})")
                self._members[name] = m
        except TarFormatError as e:
            raise LoadError(f"invalid tar archive: {e}") from None
        # implied parent folders
        for name in list(self._members):
            parent = posixpath.dirname(name)
            while parent and parent not in self._members:
                self._members[parent] = _Member("dir", 0, 0, "")
                parent = posixpath.dirname(parent)

    def _resolve(self, path: str) -> _Member:
        """Follow symlinks component by component, inside the archive."""
        hops = 0
        parts = clean_member_name(path).split("/")
        done: list[str] = []
        while parts:
            done.append(parts.pop(0))
            current = "/".join(done)
            m = self._members.get(current)
            if m is None:
                raise LoadError(f"{path}: no such file in archive")
            if m.kind == "symlink":
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise LoadError(f"{path}: too many levels of symbolic links")
                base = "/".join(done[:-1])
                joined = posixpath.normpath(
                    "/" + (m.target if m.target.startswith("/") else f"{base}/{m.target}")
                )
                parts = [p for p in joined.split("/") if p] + parts
                done = []
                continue
        m = self._members.get("/".join(done)) if done else None
        if m is None:
            raise LoadError(f"{path}: no such file in archive")
        return m

    def size(self, path: str) -> int:
        m = self._resolve(path)
        if m.kind != "file":
            raise LoadError(f"{path}: not a regular file")
        return m.size

    def is_dir(self, path: str) -> bool:
        try:
            return self._resolve(path).kind == "dir"
        except LoadError:
            return False

    def open(self, path: str) -> BinaryIO:
        m = self._resolve(path)
        if m.kind != "file":
            raise LoadError(f"{path}: not a regular file")
        return io.BufferedReader(_Section(self._f, m.offset, m.size))  # type: ignore[return-value]

    def lexists(self, path: str) -> bool:
        return clean_member_name(path) in self._members

    def top_dirs(self) -> list[str]:
        return sorted(n for n, m in self._members.items() if "/" not in n and m.kind == "dir")


class DirSource(Source):
    """An OCI layout (or unpacked archive) folder; paths may not leave it."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    def _path(self, path: str) -> str:
        rel = clean_member_name(path)
        full = os.path.realpath(os.path.join(self.root, rel))
        if full != self.root and not full.startswith(self.root + os.sep):
            raise LoadError(f"{path}: path escapes the layout folder")
        return full

    def size(self, path: str) -> int:
        try:
            st = os.stat(self._path(path))
        except FileNotFoundError:
            raise LoadError(f"{path}: no such file") from None
        if not stat.S_ISREG(st.st_mode):
            raise LoadError(f"{path}: not a regular file")
        return st.st_size

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(self._path(path))

    def open(self, path: str) -> BinaryIO:
        self.size(path)
        return open(self._path(path), "rb")

    def lexists(self, path: str) -> bool:
        return os.path.lexists(os.path.join(self.root, clean_member_name(path)))

    def top_dirs(self) -> list[str]:
        return sorted(
            n
            for n in os.listdir(self.root)
            if os.path.isdir(self._path(n)) and not os.path.islink(os.path.join(self.root, n))
        )


@contextlib.contextmanager
def open_source(data: BinaryIO | bytes | str, tmp_dir: str) -> Iterator[Source]:
    """A Source over a folder path, a tar path, bytes, or a file object; compressed
    archives are decompressed into a temp file under `tmp_dir` (removed afterwards)."""
    if isinstance(data, str) and os.path.isdir(data):
        yield DirSource(data)
        return
    with contextlib.ExitStack() as stack:
        if isinstance(data, bytes):
            f: BinaryIO = io.BytesIO(data)
        elif isinstance(data, str):
            f = stack.enter_context(open(data, "rb"))
        else:
            f = data
        if not _seekable(f):
            spool = stack.enter_context(tempfile.TemporaryFile(dir=tmp_dir))
            shutil.copyfileobj(f, spool)
            spool.seek(0)
            f = spool  # type: ignore[assignment]
        inner = decompress_stream(f)
        if inner is not f:
            spool = stack.enter_context(tempfile.TemporaryFile(dir=tmp_dir))
            try:
                shutil.copyfileobj(inner, spool)
            except (OSError, EOFError, lzma.LZMAError, StreamError) as e:
                raise LoadError(f"invalid compressed archive: {e}") from None
            spool.seek(0)
            f = spool  # type: ignore[assignment]
        yield TarSource(f)


def _seekable(f: BinaryIO) -> bool:
    try:
        return f.seekable()
    except (AttributeError, OSError):
        return False
