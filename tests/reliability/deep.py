"""Helpers for trees thousands of folders deep: tars that hold one, trees made on disk by
descending with relative paths (so no path passed to the OS exceeds PATH_MAX), and a store
hash whose walk does not recurse."""

from __future__ import annotations

import hashlib
import os
import stat

from dockerlayers import ioutils
from tests.support.tars import build_tar, d, f

#: the model's own bookkeeping, not the store
NOT_STORE = {"dockerlayers.json", "dockerlayers.pid", "events.log", "tmp"}


def deep_tar(depth: int, content: bytes = b"deep\n") -> bytes:
    """A layer tar: `a/`, `a/a/`, ... `depth` folders, and the file `a/.../a/f`."""
    entries = [d("/".join(["a"] * i) + "/") for i in range(1, depth + 1)]
    return build_tar(*entries, f("/".join(["a"] * depth) + "/f", content))


def make_deep_tree(top: str, depth: int, content: bytes = b"deep\n") -> None:
    """Make `top/a/a/.../a/f` (`depth` folders) with directory descriptors, never a long
    path (the tree may go below PATH_MAX)."""
    os.makedirs(top, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("a", 0o755, dir_fd=fd)
            child = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        out = os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, content)
        os.close(out)
    finally:
        os.close(fd)


def store_hash(root: str, skip: set[str] = NOT_STORE) -> str:
    """A hash of every path, mode, size, link target and file content under `root` (the
    model's bookkeeping files left out), walked without recursion."""
    h = hashlib.sha256()
    for top, dirs, files in ioutils.walk(root):
        if top == root:
            dirs[:] = [x for x in dirs if x not in skip]
            files = [x for x in files if x not in skip]
        dirs.sort()
        for name in sorted(dirs + files):
            full = os.path.join(top, name)
            st = os.lstat(full)
            h.update(f"{os.path.relpath(full, root)}\0{st.st_mode:o}\0{st.st_size}\0".encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(full).encode())
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()
