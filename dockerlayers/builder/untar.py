"""ADD of a local tar: unpacked into the image as moby's chrooted untar does it.

moby unpacks an ADDed archive in a child process chrooted into the destination folder, so
every path of the tar — names, hard-link targets, symlinks met on the way — resolves with
the destination as `/`: `../x` lands in `dest/x`, a symlink to `/etc` points at
`dest/etc`, and a hard link to a missing file fails with `link /target /name: no such file
or directory`. The archive is read with Go's tar rules (the same reader as layer tars), so a
tar the daemon refuses is refused here too, and any failure is worded as the daemon words
it: `failed to copy files: Error processing tar file(exit status 1): ...`.

Devices and FIFOs are skipped: the model's filesystems cannot make them (Docker creates
them); `docs/differences.md` says so.

moby: pkg/chrootarchive/archive.go untarHandler, pkg/archive/archive.go Unpack,
createTarFile, pkg/archive/compression DecompressStream
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import posixpath
import shutil
import tempfile
from typing import Any, BinaryIO

from dockerlayers.archive import TarEntry, TarFormatError, iter_tar
from dockerlayers.errors import APIError

_MAX_SYMLINKS = 255  # Linux's limit on links followed in one lookup (ELOOP)


class UntarError(APIError):
    """What the chrooted child reported; the build prints it as the daemon does."""

    def __init__(self, output: str) -> None:
        super().__init__(
            f"failed to copy files: Error processing tar file(exit status 1): {output}", 500
        )


def decompress(host: str) -> BinaryIO:
    """The archive at `host`, uncompressed (gzip, bzip2, xz by their magic numbers), as a
    seekable temporary file."""
    with open(host, "rb") as f:
        magic = f.read(6)
    opener: Any = open
    if magic[:3] == b"\x1f\x8b\x08":
        opener = gzip.open
    elif magic[:3] == b"BZh":
        opener = bz2.open
    elif magic == b"\xfd7zXZ\x00":
        opener = lzma.open
    out = tempfile.TemporaryFile()  # noqa: SIM115 (returned open, closed by the caller)
    try:
        with opener(host, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
    except (OSError, EOFError, lzma.LZMAError) as e:
        out.close()
        raise UntarError(str(e) or "unexpected EOF") from None
    out.seek(0)
    return out


class ChrootView:
    """Paths inside `dest` of a container filesystem, resolved as if `dest` were `/`."""

    def __init__(self, fs: Any, dest: str) -> None:
        self.fs, self.dest = fs, posixpath.normpath(dest)

    def outer(self, inner: str) -> str:
        """The filesystem path of an already resolved inner path."""
        inner = posixpath.normpath("/" + inner)
        return self.dest if inner == "/" else posixpath.join(self.dest, inner.lstrip("/"))

    def resolve(self, inner: str, follow_last: bool = False) -> str:
        """`inner` with every symlink on the way followed inside the view (the last one
        only with `follow_last`); `..` stops at the view's `/`."""
        parts = [p for p in posixpath.normpath("/" + inner).split("/") if p]
        done: list[str] = []
        links = 0
        while parts:
            name = parts.pop(0)
            if name == "..":
                if done:
                    done.pop()
                continue
            if name == ".":
                continue
            path = self.outer("/".join([*done, name]))
            if (parts or follow_last) and self.fs.lexists(path) and self.fs.islink(path):
                links += 1
                if links > _MAX_SYMLINKS:
                    raise UntarError(f"open {self.show(inner)}: too many levels of symbolic links")
                target = self.fs.readlink(path)
                if target.startswith("/"):
                    done = []
                parts = [p for p in target.split("/") if p] + parts
                continue
            done.append(name)
        return "/" + "/".join(done)

    @staticmethod
    def show(inner: str) -> str:
        return posixpath.normpath("/" + inner)


def untar(
    fs: Any, host: str, dest: str, owner: tuple[int, int], chown: Any, mkdir_all: Any
) -> None:
    """Unpack the archive at `host` into `dest` of `fs` (the ADD of a local tar).

    `owner` is for the folders made to hold `dest`; members keep their own owners.
    """
    mkdir_all(fs, dest, owner)
    view = ChrootView(fs, dest)
    dir_times: list[tuple[str, int]] = []
    with decompress(host) as tar:
        try:
            entries = list(iter_tar(tar))
        except TarFormatError as e:
            raise UntarError(_tar_text(e)) from None
        for e in entries:
            _unpack_entry(fs, view, tar, e, dir_times, chown)
    for path, mtime in reversed(dir_times):
        fs.utime(path, (mtime, mtime))


def _tar_text(e: Exception) -> str:
    text = str(e)
    return "unexpected EOF" if "EOF" in text or "truncated" in text else text


def _unpack_entry(fs, view: ChrootView, tar: BinaryIO, e: TarEntry, dir_times, chown) -> None:
    kind = e.typeflag
    if kind in (b"g", b"x"):
        return
    name = posixpath.normpath("/" + e.name).lstrip("/")
    if not name:
        return
    # Unpack makes a missing parent (Lstat: a symlink there counts as present), then
    # opens the path through whatever the symlinks on the way point at
    unfollowed = view.resolve(posixpath.dirname(name))
    if not fs.lexists(view.outer(unfollowed)):
        _mkdirs(fs, view, unfollowed)
    parent = view.resolve(posixpath.dirname(name), follow_last=True)
    target = view.outer(posixpath.join(parent, posixpath.basename(name)))
    inner = "/" + name
    if kind in (b"3", b"4", b"6"):  # char/block devices, FIFOs: not modelled
        return
    if fs.lexists(target) and not (kind == b"5" and fs.isdir(target)):
        if fs.isdir(target) and not fs.islink(target):
            fs.rmtree(target)
        else:
            fs.remove(target)
    try:
        if kind == b"5":
            if not fs.lexists(target):
                fs.mkdir(target, e.mode & 0o7777)
            fs.chmod(target, e.mode & 0o7777)
            dir_times.append((target, int(e.mtime)))
        elif kind == b"2":
            fs.symlink(e.linkname, target)
        elif kind == b"1":
            source = view.resolve(e.linkname)
            if not fs.lexists(view.outer(source)):
                raise UntarError(f"link {view.show(e.linkname)} {inner}: no such file or directory")
            fs.link(view.outer(source), target)
            return
        else:
            tar.seek(e.data_offset)
            data = tar.read(e.data_size)
            fs.write_bytes(target, data, e.mode & 0o7777)
            fs.chmod(target, e.mode & 0o7777)
            fs.utime(target, (int(e.mtime), int(e.mtime)))
    except FileNotFoundError:
        raise UntarError(f"open {inner}: no such file or directory") from None
    except NotADirectoryError:
        raise UntarError(f"open {inner}: not a directory") from None
    chown(fs, target, (e.uid, e.gid))


def _mkdirs(fs: Any, view: ChrootView, inner: str) -> None:
    """MkdirAll of a missing parent (0755, as Unpack makes implied folders)."""
    missing = []
    p = inner
    while p not in ("/", "") and not fs.lexists(view.outer(p)):
        missing.append(p)
        p = posixpath.dirname(p)
    for d in reversed(missing):
        fs.mkdir(view.outer(d), 0o755)
