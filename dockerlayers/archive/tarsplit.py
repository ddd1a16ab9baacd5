"""tar-split: keep a layer tar's exact bytes without keeping its file contents twice.

When a layer is registered, moby records every byte of the tar that is not file content
(headers, PAX / GNU long-name blocks, padding, the end blocks and anything after them)
as "segment" entries, and each file's content as a "file" entry naming the path to read
it from later. `TarStream()` replays the list, reading contents from the layer's
directory, and gets the original stream back byte for byte, so the DiffID still
matches. The file is `tar-split.json.gz`: gzip'd JSON lines, in vbatts/tar-split's
shape:

    {"type":2,"payload":"<base64 of raw bytes>","position":0}
    {"type":1,"name":"etc/hosts","size":27,"payload":"<base64 CRC-64>","position":1}

File entries with content carry its CRC-64 (ISO) in `payload` (8 bytes, big-endian), as
tar-split writes them and checks them on reassembly (`crc64=False` leaves them out, for
callers that only need the layout). Names that are not valid UTF-8 go to `name_raw`.

moby: layer/layer_store.go (applyTar, assembleTarTo); vbatts/tar-split
tar/asm/disassemble.go NewInputTarStream, tar/asm/assemble.go, tar/storage/entry.go
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import BinaryIO

from dockerlayers.archive.crc64 import crc64_iso
from dockerlayers.archive.errors import DuplicatePathError, TarFormatError, TarSplitError
from dockerlayers.archive.tarheader import posix_clean
from dockerlayers.archive.tarreader import TarEntry, _Stream, iter_tar

FILE_TYPE = 1
SEGMENT_TYPE = 2


def _file_entry(e: TarEntry, seen: set[str]) -> dict:
    """A tar-split file entry (type 1) for tar entry `e`: its name (raw bytes as base64
    when not UTF-8) and size; a path seen before is refused, as tar-split does."""
    clean = posix_clean(e.name)
    if clean in seen:
        raise DuplicatePathError("duplicates of file paths not supported")
    seen.add(clean)
    entry: dict = {"type": FILE_TYPE}
    try:
        entry["name"] = e.name_bytes.decode("utf-8")
    except UnicodeDecodeError:
        entry["name_raw"] = base64.b64encode(e.name_bytes).decode()
    file_size = e.size if e.sparse is not None else e.data_size
    if file_size:
        entry["size"] = file_size
    return entry


def _segment(payload: bytes) -> dict:
    return {"type": SEGMENT_TYPE, "payload": base64.b64encode(payload).decode()}


def make_tar_split(fileobj: BinaryIO, *, crc64: bool = True) -> list[dict]:
    """All of `iter_make_tar_split` as a list (small tars; tests)."""
    return list(iter_make_tar_split(fileobj, crc64=crc64))


#: tar-split reads what follows the end-of-archive blocks in chunks of this size, so that
#: a stream padded with gigabytes of zeros never sits in memory at once.
PADDING_CHUNK = 1 << 20


def iter_make_tar_split(fileobj: BinaryIO, *, crc64: bool = True) -> Iterator[dict]:
    """Disassemble the seekable tar `fileobj` into tar-split entries, one at a time (read
    from its current position; left at the end of the stream).

    Like tar-split, a segment comes before every file entry (the previous entry's
    padding plus this entry's header blocks), every header gets a file entry (size 0
    for directories, links, ...; the file's real size for a sparse file), then one
    segment for the end-of-archive blocks, then what follows them in segments of at most
    1 MiB (`PADDING_CHUNK`), then one empty segment (tar-split's read that hit EOF).
    Memory stays bounded by one chunk whatever the padding.

    Bad input is a LayerTarError, like for `unpack_layer`: a malformed or truncated
    stream raises TarFormatError, a path named twice DuplicatePathError (tar-split's
    "duplicates of file paths not supported").

    moby: vbatts/tar-split tar/asm/disassemble.go NewInputTarStream (v0.11.2, the
    padding read in 1 MiB chunks)
    """
    start = fileobj.tell()
    entries = list(iter_tar(fileobj))
    end = fileobj.tell() - start

    def raw(a: int, b: int) -> bytes:
        fileobj.seek(start + a)
        data = fileobj.read(b - a)
        if len(data) != b - a:
            raise TarSplitError("unexpected EOF while reading the tar stream")
        return data

    position = 0

    def numbered(entry: dict) -> dict:
        nonlocal position
        entry["position"] = position
        position += 1
        return entry

    seen: set[str] = set()
    prev = 0
    for e in entries:
        yield numbered(_segment(raw(prev, e.data_offset)))
        entry = _file_entry(e, seen)
        payload = None
        if crc64 and e.data_size and e.sparse is None:
            fileobj.seek(start + e.data_offset)
            crc, left = 0, e.data_size
            while left:
                chunk = fileobj.read(min(left, 1 << 20))
                if not chunk:
                    raise TarSplitError("unexpected EOF while reading the tar stream")
                crc = crc64_iso(chunk, crc)
                left -= len(chunk)
            payload = base64.b64encode(crc.to_bytes(8, "big")).decode()
        entry["payload"] = payload
        yield numbered(entry)
        prev = e.data_offset + e.data_size
    yield numbered(_segment(raw(prev, end)))
    fileobj.seek(start + end)
    while chunk := fileobj.read(PADDING_CHUNK):
        yield numbered(_segment(chunk))
    yield numbered(_segment(b""))


#: bytes asked of the source at a time by SplitStream (what it has not handed on waits in
#: its buffer)
_READ = 1 << 20


class SplitStream(_Stream):
    """A layer tar read once, front to back, from a file object that need not seek (a
    download being inflated): the sha256 of every byte (the DiffID) is taken as it is read,
    and the tar-split entries are made on the way and handed to `sink` one by one, while
    the consumer of `entries()` (the applier) reads each entry's content. `finish()` reads
    what follows the end of the archive (tar-split keeps it) and returns the digest.

    The entries are exactly `iter_make_tar_split`'s for the same bytes (same segments,
    CRC-64 payloads, positions, errors), without a temp file or a second read.

    moby: layer/layer_store.go applyTar (a digester on the stream, tar-split's
    NewInputTarStream in front of ApplyDiff, then the rest read to EOF)
    """

    def __init__(self, src: BinaryIO, sink: Callable[[dict], None], *, crc64: bool = True):
        super().__init__(src)
        self._sink = sink
        self._crc64 = crc64
        self._digester = hashlib.sha256()
        self._buf = memoryview(b"")
        self._rec = bytearray()  # what the parser read since the last content's end
        self._rec_start = 0
        self._position = 0
        self._seen: set[str] = set()
        self._entries: Iterator[tuple[TarEntry, BinaryIO]] | None = None
        self._digest = ""

    # -- reading ------------------------------------------------------------------------
    def _take(self, n: int) -> bytes:
        """Up to `n` bytes (b"" at the end), every byte digested once, as it comes in."""
        if not self._buf:
            chunk = self.f.read(max(n, _READ))
            if not chunk:
                return b""
            self._digester.update(chunk)
            if len(chunk) <= n:
                self.pos += len(chunk)
                return chunk
            self._buf = memoryview(chunk)
        out = bytes(self._buf[:n])
        self._buf = self._buf[n:]
        self.pos += len(out)
        return out

    def read_exact(self, n: int) -> bytes:
        """The parser's reads (headers, padding): recorded for the segments."""
        parts = []
        while n:
            b = self._take(n)
            if not b:
                break
            parts.append(b)
            n -= len(b)
        data = b"".join(parts)
        self._rec += data
        return data

    def skip(self, n: int) -> None:
        """Padding after a content the consumer has read: recorded, like tar-split."""
        if len(self.read_exact(n)) < n:
            raise TarFormatError("unexpected EOF: tar entry content is truncated")

    # -- entries ------------------------------------------------------------------------
    def _emit(self, entry: dict) -> None:
        entry["position"] = self._position
        self._position += 1
        self._sink(entry)

    def entries(self) -> Iterator[tuple[TarEntry, BinaryIO]]:
        """Each entry with a reader of its content (read it, or part of it, before the
        next; what is left is read here). moby: tar-split disassemble.go"""
        if self._entries is None:
            self._entries = self._iter_entries()
        return self._entries

    def _iter_entries(self) -> Iterator[tuple[TarEntry, BinaryIO]]:
        for e in iter_tar(self):
            head = e.data_offset - self._rec_start
            self._emit(_segment(bytes(self._rec[:head])))
            self._rec = bytearray()  # beyond `head`: a 1.0 sparse map, content
            entry = _file_entry(e, self._seen)
            crc = bool(self._crc64 and e.data_size and e.sparse is None)
            content = _Content(self, e.data_size - e.sparse_skip, crc)
            yield e, content  # type: ignore[misc]
            content.drain()
            entry["payload"] = (
                base64.b64encode(content.crc.to_bytes(8, "big")).decode() if crc else None
            )
            self._emit(entry)
            self._rec_start = self.pos

    def finish(self) -> str:
        """Read the rest (entries the consumer left, the end blocks, what follows them in
        1 MiB segments, then tar-split's empty segment); returns `sha256:<hex>` of all."""
        if self._digest:
            return self._digest
        for _ in self.entries():
            pass
        self._emit(_segment(bytes(self._rec)))
        self._rec = bytearray()
        while True:
            parts, want = [], PADDING_CHUNK
            while want:
                b = self._take(want)
                if not b:
                    break
                parts.append(b)
                want -= len(b)
            if not parts:
                break
            self._emit(_segment(b"".join(parts)))
        self._emit(_segment(b""))
        self._digest = "sha256:" + self._digester.hexdigest()
        return self._digest


class _Content:
    """One entry's content, read from a SplitStream (not recorded; CRC-64 taken)."""

    def __init__(self, stream: SplitStream, size: int, crc: bool) -> None:
        self._s = stream
        self.left = size
        self._want_crc = crc
        self.crc = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self.left:
            n = self.left
        if not n:
            return b""
        b = self._s._take(n)
        if not b:
            raise TarFormatError("unexpected EOF: tar entry content is truncated")
        self.left -= len(b)
        if self._want_crc:
            self.crc = crc64_iso(b, self.crc)
        return b

    def drain(self) -> None:
        while self.left:
            self.read(_READ)


class TarSplitWriter:
    """A `tar-split.json.gz` written entry by entry (`add`), as gzip'd JSON lines.

    moby: layer/filestore.go fileMetadataTransaction.TarSplitWriter
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._f = gzip.open(path, "wb")  # noqa: SIM115 (closed by close / __exit__)

    def add(self, entry: dict) -> None:
        self._f.write(_go_json(entry).encode() + b"\n")

    def close(self) -> None:
        if self._f.closed:
            return
        self._f.close()
        # moby opens it 0644 under dockerd's umask 0022 (setDefaultUmask): 0644 here too,
        # also where the file system does not apply the umask (Emscripten's, under
        # Pyodide: 0666)
        os.chmod(self._path, 0o644)

    def __enter__(self) -> TarSplitWriter:
        return self

    def __exit__(
        self,
        et: type[BaseException] | None,
        ev: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _go_json(entry: dict) -> str:
    """One JSON line the way Go's encoding/json writes it (HTML-safe escapes)."""
    s = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        s = s.replace(ch, esc)
    return s


def write_tar_split(entries: Iterable[dict], path: str) -> None:
    """Write `entries` as gzip'd JSON lines (the layer's `tar-split.json.gz`).

    moby: layer/filestore.go fileMetadataTransaction.TarSplitWriter
    """
    with TarSplitWriter(path) as w:
        for entry in entries:
            w.add(entry)


def read_tar_split(path: str) -> list[dict]:
    """Read a `tar-split.json.gz` back into entries (checked for shape); see
    `iter_tar_split` for a stream of them in bounded memory.

    moby: layer/filestore.go fileMetadataStore.TarSplitReader
    """
    return list(iter_tar_split(path))


def iter_tar_split(path: str) -> Iterator[dict]:
    """The entries of a `tar-split.json.gz`, batch by batch (checked for shape).

    The JSON lines are parsed in batches, each batch as one JSON array: many times faster
    than a `json.loads` per line, and memory stays bounded by the batch, not the file.

    moby: layer/filestore.go fileMetadataStore.TarSplitReader
    """
    try:
        with gzip.open(path, "rb") as f:
            tail = b""
            while True:
                chunk = f.read(_BATCH)
                lines = (tail + chunk).split(b"\n")
                tail = lines.pop() if chunk else b""
                batch: list[dict] = []
                _parse_lines(path, lines, batch)
                yield from batch
                if not chunk:
                    break
    except (OSError, EOFError, ValueError) as e:
        if isinstance(e, TarSplitError):
            raise
        raise TarSplitError(f"{path}: cannot read tar-split data: {e}") from e


_BATCH = 4 << 20


def _parse_lines(path: str, lines: list[bytes], out: list[dict]) -> None:
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return
    try:
        batch = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        batch = None  # find the bad line (and say which) below
    if batch is None or len(batch) != len(lines):
        batch = []
        for line in lines:
            try:
                batch.append(json.loads(line))
            except ValueError as e:
                raise TarSplitError(f"{path}: invalid tar-split entry {line[:80]!r}") from e
    for entry, line in zip(batch, lines):
        if not isinstance(entry, dict) or entry.get("type") not in (FILE_TYPE, SEGMENT_TYPE):
            raise TarSplitError(f"{path}: invalid tar-split entry {line[:80]!r}")
    out.extend(batch)


def entry_name(entry: dict) -> str:
    """The path a file entry names (`name_raw` wins when present), fs-decoded."""
    raw = entry.get("name_raw")
    if raw:
        return os.fsdecode(base64.b64decode(raw))
    return entry.get("name", "")


_ONE_READ = 1 << 20


def tar_size(entries: Iterable[dict]) -> int:
    """The length of the tar stream that `entries` reassemble to."""
    total = 0
    for entry in entries:
        if entry.get("type") == SEGMENT_TYPE:
            payload = entry.get("payload")
            if payload:
                total += len(payload) * 3 // 4 - payload.count("=", -2)
        else:
            total += entry.get("size") or 0
    return total


def reassemble(
    entries: Iterable[dict], open_file: Callable[[str], BinaryIO], out: BinaryIO
) -> None:
    """Write the original tar stream to `out` (see `iter_reassembled`)."""
    for chunk in iter_reassembled(entries, open_file):
        out.write(chunk)


def iter_reassembled(
    entries: Iterable[dict], open_file: Callable[[str], BinaryIO | int]
) -> Iterator[bytes]:
    """The original tar stream, in chunks of up to about 1 MiB: segments as recorded,
    each file's content (exactly `size` bytes) from `open_file(name)`, a binary file or
    an OS file descriptor (the cheaper way: no file object per file; closed here). A file
    shorter or longer than recorded, or with a different CRC-64 when one was recorded, is
    an error. The caller verifies the digest of what was produced.

    moby: vbatts/tar-split tar/asm/assemble.go NewOutputTarStream
    """
    b64decode = binascii.a2b_base64
    pending: list[bytes] = []
    pending_size = 0
    for entry in entries:
        kind = entry.get("type")
        if kind == SEGMENT_TYPE:
            payload = entry.get("payload")
            if payload:
                data = b64decode(payload)
                pending.append(data)
                pending_size += len(data)
                if pending_size >= _ONE_READ:  # padding comes in many segments: flush
                    yield b"".join(pending)
                    pending, pending_size = [], 0
            continue
        if kind != FILE_TYPE:
            raise TarSplitError(f"unknown tar-split entry type {kind!r}")
        size = entry.get("size")
        if not size:
            continue
        size = int(size)
        name = entry_name(entry)
        crc_payload = entry.get("payload")
        opened = open_file(name)
        if size <= _ONE_READ and not crc_payload:
            # a small file: one read with a byte more tells short, exact and longer apart
            pending.append(_read_small(opened, name, size))
            pending_size += size
            if pending_size >= _ONE_READ:
                yield b"".join(pending)
                pending, pending_size = [], 0
            continue
        if pending:
            yield b"".join(pending)
            pending, pending_size = [], 0
        with os.fdopen(opened, "rb") if isinstance(opened, int) else opened as fh:
            crc = 0
            for chunk in _read_exact(fh, name, size, 0):
                if crc_payload:
                    crc = crc64_iso(chunk, crc)
                yield chunk
        if crc_payload and crc != int.from_bytes(b64decode(crc_payload), "big"):
            raise TarSplitError(f"file integrity checksum failed for {name!r}")
    if pending:
        yield b"".join(pending)


def _read_small(opened: BinaryIO | int, name: str, size: int) -> bytes:
    if isinstance(opened, int):
        try:
            data = os.read(opened, size + 1)  # a regular file reads short only at its end
        finally:
            os.close(opened)
    else:
        with opened as fh:
            data = fh.read(size + 1)
            if len(data) < size:  # a raw file may read short before its end
                data += b"".join(_read_exact(fh, name, size, len(data)))
    if len(data) < size:
        raise TarSplitError(f"file {name!r} is shorter than recorded: {len(data)} of {size} bytes")
    if len(data) > size:
        raise TarSplitError(f"file {name!r} is longer than recorded ({size} bytes)")
    return data


def _read_exact(fh: BinaryIO, name: str, size: int, done: int) -> Iterator[bytes]:
    """The rest of a file whose first `done` of `size` bytes were read; nothing after."""
    while done < size:
        chunk = fh.read(min(size - done, _ONE_READ))
        if not chunk:
            raise TarSplitError(f"file {name!r} is shorter than recorded: {done} of {size} bytes")
        done += len(chunk)
        yield chunk
    if fh.read(1):
        raise TarSplitError(f"file {name!r} is longer than recorded ({size} bytes)")
