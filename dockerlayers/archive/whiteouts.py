"""Whiteouts: how a layer says "this path from below is gone" (and "hide all below").

Two forms exist. The tar interchange form (AUFS-style) is a file named `.wh.<name>`
next to the deleted path, and `.wh..wh..opq` inside a directory to make it opaque.
overlayfs on disk uses a character device 0/0 at the deleted name and the xattr
`trusted.overlay.opaque=y` on an opaque directory. Every layer tar uses the first form.

moby: pkg/archive/whiteouts.go, pkg/archive/archive_linux.go overlayWhiteoutConverter
"""

from __future__ import annotations

import errno
import os
import stat

from dockerlayers.archive._xattr import lgetxattr, lsetxattr

#: `dir/.wh.name` deletes `dir/name` from the layers below.
WHITEOUT_PREFIX = ".wh."
#: Prefix of aufs's own metadata entries; normally excluded from archives.
WHITEOUT_META_PREFIX = WHITEOUT_PREFIX + WHITEOUT_PREFIX
#: aufs's hardlink store at the layer root; never exported.
WHITEOUT_LINK_DIR = WHITEOUT_META_PREFIX + "plnk"
#: `dir/.wh..wh..opq` makes `dir` opaque: nothing below it shows through.
WHITEOUT_OPAQUE_DIR = WHITEOUT_META_PREFIX + ".opq"
#: overlayfs marks an opaque directory with this xattr set to `y`.
OPAQUE_XATTR = "trusted.overlay.opaque"

_probe_cache: dict[int, bool] = {}


def is_char_whiteout(st: os.stat_result) -> bool:
    """True for overlayfs's whiteout: a character device with major/minor 0/0.

    moby: pkg/archive/archive_linux.go overlayWhiteoutConverter.ConvertWrite
    """
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque_dir(path: str) -> bool:
    """True when `path` carries `trusted.overlay.opaque=y` (unsupported or denied: False).

    moby: pkg/archive/archive_linux.go overlayWhiteoutConverter.ConvertWrite
    """
    try:
        return lgetxattr(path, OPAQUE_XATTR) == b"y"
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            return False
        raise


def native_whiteouts_supported(dir: str) -> bool:
    """Can this process write overlayfs-native whiteouts under `dir`?

    Probes once per filesystem (st_dev): in a temporary directory made inside `dir`,
    mknod a 0/0 character device and set a `trusted.` xattr; everything is removed
    afterwards. Needs root (CAP_MKNOD, CAP_SYS_ADMIN) and a filesystem with xattrs.

    moby: daemon/graphdriver/overlay2/overlay.go (supportsOverlay / checks before native diff)
    """
    dev = os.stat(dir).st_dev
    cached = _probe_cache.get(dev)
    if cached is not None:
        return cached
    ok = False
    before = os.stat(dir)
    try:
        import tempfile

        probe = tempfile.mkdtemp(prefix=".whiteout-probe-", dir=dir)
    except OSError:
        _probe_cache[dev] = False
        return False
    try:
        node = os.path.join(probe, "wh")
        if not hasattr(os, "mknod"):
            raise PermissionError(1, "Operation not permitted", node)
        os.mknod(node, 0o600 | stat.S_IFCHR, 0)
        lsetxattr(probe, OPAQUE_XATTR, b"y")
        ok = is_char_whiteout(os.lstat(node)) and is_opaque_dir(probe)
    except OSError:
        ok = False
    finally:
        for name in os.listdir(probe):
            os.unlink(os.path.join(probe, name))
        os.rmdir(probe)
        try:  # leave `dir` as found, times included
            os.utime(dir, ns=(before.st_atime_ns, before.st_mtime_ns))
        except OSError:
            pass
    _probe_cache[dev] = ok
    return ok
