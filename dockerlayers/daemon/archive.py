"""Files in and out of a container as tar archives: `docker cp`, docker-py's
`get_archive` / `put_archive`, the API's HEAD/GET/PUT `/containers/{id}/archive`.

Everything goes through the container's filesystem as its processes see it (its RootFS,
volumes included): reading sees the union of the layers, writing copies up and whites out
as any write does, and a read-only rootfs refuses writes outside volumes.

* `stat_path`: what `HEAD .../archive` answers (`X-Docker-Container-Path-Stat`): name, size,
  Go `os.FileMode` bits, mtime, and for a symlink the path it finally resolves to.
* `archive_path`: the tar of a path, its entries renamed to the path's base name
  (`/etc` -> `etc/...`, `/etc/.` -> `./...`, `/etc/passwd` -> `passwd`).
* `extract_to_dir`: unpack a tar into an existing folder.

moby: daemon/archive.go (ContainerStatPath, ContainerArchivePath, ContainerExtractToDir),
container/archive.go (ResolvePath, StatPath), pkg/archive (TarResourceRebase, Unpack)
"""

from __future__ import annotations

import errno
import io
import os
import posixpath
import stat as stat_
from typing import TYPE_CHECKING, Any, BinaryIO

from dockerlayers.archive.tar import TarAppender, TarWriter
from dockerlayers.archive.tarheader import TYPE_DIR, TYPE_LINK, TYPE_SYMLINK
from dockerlayers.archive.tarreader import iter_tar
from dockerlayers.daemon.mounts import mount_container
from dockerlayers.errors import APIError, NotFound
from dockerlayers.process.clock import format_rfc3339nano

if TYPE_CHECKING:
    from dockerlayers.container.container import Container
    from dockerlayers.daemon.daemon import Daemon

# Go's os.FileMode type bits (io/fs): what the stat's `mode` carries besides the permissions.
MODE_DIR = 1 << 31
MODE_APPEND = 1 << 30
MODE_SYMLINK = 1 << 27
MODE_DEVICE = 1 << 26
MODE_NAMED_PIPE = 1 << 25
MODE_SOCKET = 1 << 24
MODE_SETUID = 1 << 23
MODE_SETGID = 1 << 22
MODE_CHAR_DEVICE = 1 << 21
MODE_STICKY = 1 << 20

#: moby: daemon/archive.go ErrExtractPointNotDirectory
EXTRACT_POINT_NOT_DIRECTORY = "extraction point is not a directory"
#: moby: daemon/archive_unix.go ErrRootFSReadOnly
ROOTFS_READ_ONLY = "container rootfs is marked read-only"


def file_not_found(path: str, name: str) -> NotFound:
    """moby: daemon/errors.go containerFileNotFound"""
    return NotFound(f"Could not find the file {path} in container {name}")


def go_file_mode(st: os.stat_result) -> int:
    """A stat's mode as Go's os.FileMode (what the API's path stat carries)."""
    m = st.st_mode
    mode = m & 0o777
    if stat_.S_ISDIR(m):
        mode |= MODE_DIR
    elif stat_.S_ISLNK(m):
        mode |= MODE_SYMLINK
    elif stat_.S_ISFIFO(m):
        mode |= MODE_NAMED_PIPE
    elif stat_.S_ISSOCK(m):
        mode |= MODE_SOCKET
    elif stat_.S_ISCHR(m):
        mode |= MODE_DEVICE | MODE_CHAR_DEVICE
    elif stat_.S_ISBLK(m):
        mode |= MODE_DEVICE
    if m & stat_.S_ISUID:
        mode |= MODE_SETUID
    if m & stat_.S_ISGID:
        mode |= MODE_SETGID
    if m & stat_.S_ISVTX:
        mode |= MODE_STICKY
    return mode


def preserve_trailing(clean: str, original: str) -> str:
    """Keep a trailing `/` or `/.` of the path the user gave (it changes what is copied).

    moby: pkg/archive/copy.go PreserveTrailingDotOrSeparator
    """
    if original.endswith("/.") and not clean.endswith("/."):
        return clean.rstrip("/") + "/."
    if original.endswith("/") and not clean.endswith("/"):
        return clean + "/"
    return clean


def abs_path(path: str) -> str:
    return preserve_trailing(posixpath.normpath("/" + path.lstrip("/")), path)


def resolve_path(fs: Any, path: str) -> tuple[str, str]:
    """(resolved path, absolute path): every symlink of the folder part followed, the last
    component kept as it is (a symlink is reported, not followed).

    moby: container/archive.go ResolvePath
    """
    absp = abs_path(path)
    dir_part, base = posixpath.split(absp)
    resolved_dir = fs.resolve(dir_part or "/")
    return posixpath.join(resolved_dir, base) if base else resolved_dir, absp


def _stat(fs: Any, resolved: str, absp: str) -> dict[str, Any]:
    """moby: container/archive.go StatPath"""
    target = resolved.rstrip("/") or "/"
    if target.endswith("/."):
        target = target[:-2] or "/"
    st = fs.lstat(target)
    link_target = ""
    if stat_.S_ISLNK(st.st_mode):
        link_target = fs.resolve(absp)
    name = posixpath.basename(absp.rstrip("/")) if absp.rstrip("/") else "/"
    if absp.endswith("/."):
        name = "."
    return {
        "name": name,
        "size": st.st_size,
        "mode": go_file_mode(st),
        "mtime": format_rfc3339nano(st.st_mtime),
        "linkTarget": link_target,
    }


def _with_fs(daemon: Daemon, c: Container):
    return mount_container(daemon, c)


def stat_path(daemon: Daemon, ref: str, path: str) -> dict[str, Any]:
    """`HEAD /containers/{id}/archive?path=...`.

    moby: daemon/archive.go ContainerStatPath
    """
    with daemon.operation(ref) as c:
        fs = _with_fs(daemon, c)
        try:
            resolved, absp = resolve_path(fs, path)
            return _stat(fs, resolved, absp)
        except (FileNotFoundError, NotADirectoryError):
            raise file_not_found(path, ref) from None
        except OSError as e:
            raise APIError(str(e), 500) from None


def archive_path(daemon: Daemon, ref: str, path: str, out: BinaryIO) -> dict[str, Any]:
    """`GET /containers/{id}/archive?path=...`: the tar goes to `out`; returns the stat.

    moby: daemon/archive.go ContainerArchivePath
    """
    with daemon.operation(ref) as c:
        fs = _with_fs(daemon, c)
        try:
            resolved, absp = resolve_path(fs, path)
            st = _stat(fs, resolved, absp)
        except (FileNotFoundError, NotADirectoryError):
            raise file_not_found(path, ref) from None
        if st["mode"] & MODE_DIR:
            source = resolved.rstrip("/.") if resolved.endswith("/.") else resolved
            source = source.rstrip("/") or "/"
            rebase = "." if absp.endswith("/.") else posixpath.basename(absp.rstrip("/"))
        else:
            source = resolved.rstrip("/")
            rebase = posixpath.basename(absp.rstrip("/"))
        rebase = rebase or "."
        tw = TarWriter(out)
        app = TarAppender(tw, convert_whiteouts=False)
        _add_tree(fs, app, source, rebase, bool(st["mode"] & MODE_DIR))
        tw.close()
        daemon.events.log("container", "archive-path", c.id, daemon.attrs(c))
        return st


def _add_tree(fs: Any, app: TarAppender, source: str, rebase: str, is_dir: bool) -> None:
    """Every file under `source` (itself included), named `rebase/...`.

    moby: pkg/archive/archive.go TarWithOptions (with RebaseNames)
    """
    host = fs.host_path(source)
    if host is not None:
        app.add(host, rebase)
    if not is_dir:
        return
    for top, dirs, files in fs.walk(source):
        rel_top = top[len(source) :].lstrip("/") if source != "/" else top.lstrip("/")
        for name in sorted(dirs + files):
            p = top.rstrip("/") + "/" + name
            h = fs.host_path(p)
            if h is not None:
                rel = posixpath.join(rel_top, name) if rel_top else name
                app.add(h, posixpath.join(rebase, rel) if rebase != "." else rel)


def _in_volume(c: Container, path: str) -> bool:
    """moby: daemon/archive_unix.go checkIfPathIsInAVolume"""
    for mp in c.mount_points.values():
        dest = mp.get("Destination", "")
        if path == dest or path.startswith(dest.rstrip("/") + "/"):
            return mp.get("RW", True)
    return False


def extract_to_dir(
    daemon: Daemon,
    ref: str,
    path: str,
    data: BinaryIO | bytes,
    *,
    no_overwrite_dir_non_dir: bool = False,
    copy_uid_gid: bool = False,
) -> None:
    """`PUT /containers/{id}/archive?path=...`: unpack a tar into the folder `path`.

    moby: daemon/archive.go ContainerExtractToDir (pkg/archive Unpack)
    """
    src: BinaryIO = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    with daemon.operation(ref) as c:
        fs = _with_fs(daemon, c)
        absp = abs_path(path)
        try:
            resolved = fs.resolve(absp)
            st = fs.lstat(resolved)
        except (FileNotFoundError, NotADirectoryError):
            raise file_not_found(path, ref) from None
        if not stat_.S_ISDIR(st.st_mode):
            raise APIError(EXTRACT_POINT_NOT_DIRECTORY, 500)
        if not _in_volume(c, resolved) and c.host_config.get("ReadonlyRootfs"):
            raise APIError(ROOTFS_READ_ONLY, 500)
        try:
            _unpack(fs, src, resolved, no_overwrite_dir_non_dir, copy_uid_gid)
        except OSError as e:
            raise APIError(_os_error_text(e), 500) from None
        daemon.events.log("container", "extract-to-dir", c.id, daemon.attrs(c))


def _os_error_text(e: OSError) -> str:
    if e.errno == errno.EROFS:
        return (
            f"mkdir {e.filename}: read-only file system" if e.filename else "read-only file system"
        )
    return str(e.strerror or e)


def _seekable(src: BinaryIO) -> BinaryIO:
    """The tar as a file that can seek (a pipe or generator is spooled to a temp file)."""
    if getattr(src, "seekable", lambda: False)():
        return src
    import tempfile

    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the caller reads it
    read = getattr(src, "read", None)
    if read is None:  # an iterable of chunks (docker-py accepts those too)
        for chunk in src:
            spool.write(chunk)
    else:
        while chunk := read(1 << 20):
            spool.write(chunk)
    spool.seek(0)
    return spool


def _unpack(fs: Any, src: BinaryIO, dest: str, no_overwrite: bool, chown: bool) -> None:
    """moby: pkg/archive/archive.go Unpack (breakout-safe names, dirs' times last)."""
    dir_times: list[tuple[str, float]] = []
    data = _seekable(src)
    start = data.tell()
    try:
        entries = list(iter_tar(data))
    except ValueError as e:  # TarFormatError
        raise APIError(str(e), 500) from None
    for e in entries:
        name = posixpath.normpath("/" + e.name).lstrip("/")
        if not name or name == ".":
            continue
        target = posixpath.join(dest, name)
        parent = posixpath.dirname(target)
        if not fs.isdir(parent):
            fs.mkdir(parent, 0o755, parents=True, exist_ok=True)
        existing = fs.lstat(target) if fs.lexists(target) else None
        is_dir = e.typeflag == TYPE_DIR
        if existing is not None:
            if no_overwrite and stat_.S_ISDIR(existing.st_mode) and not is_dir:
                raise APIError(
                    f'cannot overwrite directory "{target}" with non-directory "{name}"', 500
                )
            if no_overwrite and not stat_.S_ISDIR(existing.st_mode) and is_dir:
                raise APIError(
                    f'cannot overwrite non-directory "{target}" with directory "{name}"', 500
                )
            if stat_.S_ISDIR(existing.st_mode) and is_dir:
                pass
            elif stat_.S_ISDIR(existing.st_mode):
                fs.rmtree(target)
            else:
                fs.remove(target)
        if is_dir:
            if existing is None or not stat_.S_ISDIR(existing.st_mode):
                fs.mkdir(target, e.mode & 0o7777)
            fs.chmod(target, e.mode & 0o7777)
            dir_times.append((target, e.mtime))
        elif e.typeflag == TYPE_SYMLINK:
            fs.symlink(e.linkname, target)
        elif e.typeflag == TYPE_LINK:
            fs.link(posixpath.join(dest, posixpath.normpath("/" + e.linkname).lstrip("/")), target)
        else:
            data.seek(start + e.data_offset)
            with fs.open(target, "wb") as f:
                left = e.data_size
                while left:
                    chunk = data.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    f.write(chunk)
                    left -= len(chunk)
            fs.chmod(target, e.mode & 0o7777)
            fs.utime(target, (e.mtime, e.mtime))
        if chown and e.typeflag != TYPE_SYMLINK:
            fs.chown(target, e.uid, e.gid)
    for target, mtime in reversed(dir_times):
        fs.utime(target, (mtime, mtime))


__all__ = [
    "archive_path",
    "extract_to_dir",
    "file_not_found",
    "go_file_mode",
    "stat_path",
]
