"""Thin xattr helpers that never follow symlinks and treat "unsupported" as "absent"."""

from __future__ import annotations

import errno
import os

_ABSENT = {errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM}


def lgetxattr(path: str, name: str) -> bytes | None:
    """The value of xattr `name` on `path` itself, or None when absent/unsupported.

    moby: pkg/archive/xattr_supported_linux.go lgetxattr
    """
    if not hasattr(os, "getxattr"):  # no xattrs here (Pyodide): all absent
        return None
    try:
        return os.getxattr(path, name, follow_symlinks=False)
    except OSError as e:
        if e.errno in _ABSENT:
            return None
        raise


def lsetxattr(path: str, name: str, value: bytes) -> None:
    """Set xattr `name` on `path` itself (not what a symlink points to)."""
    if not hasattr(os, "setxattr"):
        raise OSError(errno.ENOTSUP, "Operation not supported", path)
    os.setxattr(path, name, value, follow_symlinks=False)


def lremovexattr(path: str, name: str) -> None:
    """Remove xattr `name` from `path` itself; absent is fine."""
    if not hasattr(os, "removexattr"):
        return
    try:
        os.removexattr(path, name, follow_symlinks=False)
    except OSError as e:
        if e.errno not in _ABSENT:
            raise
