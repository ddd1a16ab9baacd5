"""The kernel's overlayfs: can we mount it here, and mount/unmount calls without util-linux.

moby: daemon/graphdriver/overlay2/overlay.go (Get, Put), daemon/graphdriver/overlay2/mount.go
"""

from __future__ import annotations

import os
import threading
from typing import Any

from dockerlayers import platform
from dockerlayers.ioutils import remove_all

MNT_DETACH = 2
MS_BIND = 0x1000
MS_REC = 0x4000
_libc = None
_probe_lock = threading.Lock()
_chdir_lock = threading.Lock()
_supported: bool | None = None


def _lib() -> Any:
    """libc through ctypes, loaded on the first mount call. glibc's soname first:
    `ctypes.util.find_library` runs `ldconfig -p` in a subprocess (milliseconds), so it is
    only the fallback (musl)."""
    global _libc
    if _libc is None:
        import ctypes

        try:
            _libc = ctypes.CDLL("libc.so.6", use_errno=True)
        except OSError:
            import ctypes.util

            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


def mount(source: str, target: str, fstype: str, data: str, flags: int = 0) -> None:
    """mount(2); raises OSError with the kernel's errno."""
    rc = _lib().mount(source.encode(), target.encode(), fstype.encode(), flags, data.encode())
    if rc != 0:
        err = _errno()
        raise OSError(err, os.strerror(err), target)


def unmount(target: str, flags: int = MNT_DETACH) -> None:
    rc = _lib().umount2(target.encode(), flags)
    if rc != 0:
        err = _errno()
        raise OSError(err, os.strerror(err), target)


def overlay_supported() -> bool:
    """True if this process can mount overlayfs: root, the module present, and a trial mount
    of a two-layer overlay in a temp folder works."""
    global _supported
    with _probe_lock:
        if _supported is not None:
            return _supported
        _supported = False
        if not platform.is_root() or not _overlay_listed():
            return False
        import tempfile

        base = tempfile.mkdtemp(prefix="dockerlayers-ovl-probe-")
        try:
            for d in ("lower", "upper", "work", "merged"):
                os.mkdir(os.path.join(base, d))
            merged = os.path.join(base, "merged")
            opts = f"lowerdir={base}/lower,upperdir={base}/upper,workdir={base}/work"
            mount("overlay", merged, "overlay", opts)
            unmount(merged)
            _supported = True
        except OSError:
            _supported = False
        finally:
            remove_all(base, ignore_errors=True)
        return _supported


def _overlay_listed() -> bool:
    try:
        with open("/proc/filesystems") as f:
            return any(line.split()[-1] == "overlay" for line in f if line.strip())
    except OSError:
        return False


def index_option() -> str:
    """moby prefixes `index=off,` when the overlay module has an `index` parameter."""
    return "index=off," if os.path.exists("/sys/module/overlay/parameters/index") else ""


def mount_overlay(
    target: str,
    lowers: list[str],
    upper: str | None,
    work: str | None,
    home: str,
    rel_lowers: list[str] | None = None,
) -> None:
    """Mount an overlay at `target`. When the option string does not fit in a page, retry
    with paths relative to `home` (`rel_lowers`: overlay2's short `l/<LINKID>` names) and a
    chdir into it, like moby's mountFrom re-exec.

    moby: daemon/graphdriver/overlay2/overlay.go Get, mount.go mountFrom
    """
    page = os.sysconf("SC_PAGE_SIZE")
    opts = index_option() + "lowerdir=" + ":".join(lowers)
    if upper is not None:
        opts += f",upperdir={upper},workdir={work}"
    if len(opts) < page - 1:
        mount("overlay", target, "overlay", opts)
        return
    rel = rel_lowers if rel_lowers is not None else [os.path.relpath(p, home) for p in lowers]
    opts = index_option() + "lowerdir=" + ":".join(rel)
    if upper is not None:
        opts += f",upperdir={os.path.relpath(upper, home)},workdir={os.path.relpath(work, home)}"
    if len(opts) >= page - 1:
        raise OSError(7, f"cannot mount layer, mount label too large {len(opts)}")
    with _chdir_lock:
        cwd = os.getcwd()
        os.chdir(home)
        try:
            mount("overlay", os.path.relpath(target, home), "overlay", opts)
        finally:
            os.chdir(cwd)


def mounts_under(path: str) -> list[str]:
    """Mount points at or below `path` (deepest first), from /proc/self/mountinfo."""
    prefix = os.path.abspath(path).rstrip("/") + "/"
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4].replace("\\040", " ")
                if point.startswith(prefix) or point == prefix[:-1]:
                    found.append(point)
    except OSError:
        return []
    return sorted(found, key=len, reverse=True)


def backing_filesystem(path: str) -> str:
    """The file system under `path`, named the way `docker info` names it (extfs, xfs ...)."""
    best, fstype = "", "unknown"
    path = os.path.abspath(path)
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                point = fields[4]
                sep = fields.index("-")
                if (path == point or path.startswith(point.rstrip("/") + "/")) and len(
                    point
                ) >= len(best):
                    best, fstype = point, fields[sep + 1]
    except (OSError, ValueError):
        pass
    return {"ext2": "extfs", "ext3": "extfs", "ext4": "extfs", "overlay": "overlayfs"}.get(
        fstype, fstype
    )
