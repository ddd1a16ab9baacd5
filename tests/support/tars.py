"""Raw tar building and tree snapshots: the archive suites and the hostile-input corpora."""

from __future__ import annotations

import hashlib
import io
import os
import stat

from dockerlayers.archive.tar import TarWriter
from dockerlayers.archive.tarheader import BLOCK_SIZE, TarHeader, encode_header


def snapshot(root: str, *, times: bool = True) -> dict[str, tuple]:
    """Everything observable about a tree (root included): type, mode, owner, size,
    content digest or link target, rdev, xattrs, mtimes, and hard-link grouping."""
    out: dict[str, tuple] = {}
    inodes: dict[tuple[int, int], str] = {}
    paths = [root]
    for dirpath, dirnames, filenames in os.walk(root):
        paths.extend(os.path.join(dirpath, n) for n in dirnames + filenames)
    for p in sorted(paths):
        rel = os.path.relpath(p, root)
        st = os.lstat(p)
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                body: object = hashlib.sha256(f.read()).hexdigest()
        elif stat.S_ISLNK(st.st_mode):
            body = os.readlink(p)
        else:
            body = None
        try:
            xattrs = tuple(
                sorted(
                    (k, os.getxattr(p, k, follow_symlinks=False))
                    for k in os.listxattr(p, follow_symlinks=False)
                )
            )
        except OSError:
            xattrs = ()
        link = None
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            link = inodes.setdefault((st.st_dev, st.st_ino), rel)
        out[rel] = (
            st.st_mode,
            st.st_uid,
            st.st_gid,
            st.st_size if not stat.S_ISDIR(st.st_mode) else None,
            body,
            st.st_rdev,
            xattrs,
            st.st_mtime_ns if times else None,
            link,
        )
    return out


def tree_hash(root: str) -> str:
    return hashlib.sha256(repr(sorted(snapshot(root).items())).encode()).hexdigest()


def build_tar(*entries: tuple[TarHeader, bytes] | bytes, end: bool = True) -> bytes:
    """A tar from (header, content) pairs and raw byte chunks, in order."""
    buf = io.BytesIO()
    for item in entries:
        if isinstance(item, bytes):
            buf.write(item)
            continue
        hdr, content = item
        buf.write(encode_header(hdr))
        buf.write(content)
        buf.write(b"\0" * (-len(content) % BLOCK_SIZE))
    if end:
        buf.write(b"\0" * 1024)
    return buf.getvalue()


def f(name: str, content: bytes = b"", mode: int = 0o644, **kw: object) -> tuple[TarHeader, bytes]:
    return TarHeader(name=name, size=len(content), mode=mode, mtime=1_600_000_000, **kw), content


def d(name: str, mode: int = 0o755, **kw: object) -> tuple[TarHeader, bytes]:
    return TarHeader(name=name, typeflag=b"5", mode=mode, mtime=1_600_000_000, **kw), b""


def sym(name: str, target: str) -> tuple[TarHeader, bytes]:
    return TarHeader(name=name, typeflag=b"2", linkname=target, mode=0o777, mtime=1), b""


def hard(name: str, target: str) -> tuple[TarHeader, bytes]:
    return TarHeader(name=name, typeflag=b"1", linkname=target, mode=0o644, mtime=1), b""


def gnu_longname(name: bytes) -> bytes:
    """A GNU `L` block pair carrying `name` for the next header."""
    data = name + b"\0"
    blk = bytearray(encode_header(TarHeader(name="././@LongLink", typeflag=b"L", size=len(data))))
    return bytes(blk) + data + b"\0" * (-len(data) % BLOCK_SIZE)


def write_tar(headers: list[tuple[TarHeader, bytes]]) -> bytes:
    buf = io.BytesIO()
    with TarWriter(buf) as tw:
        for hdr, content in headers:
            tw.add(hdr, content)
    return buf.getvalue()
