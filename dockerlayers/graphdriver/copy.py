"""Copy a layer folder exactly: content, modes, owners, times, xattrs, hard links, devices.

vfs makes each layer a full copy of its parent with this.

moby: daemon/graphdriver/copy/copy.go DirCopy
"""

from __future__ import annotations

import os
import shutil
import stat

from dockerlayers import idtools, platform
from dockerlayers.graphdriver.union import copy_xattrs


def copy_tree(src: str, dst: str) -> None:
    """Copy the contents of folder `src` into the existing folder `dst`."""
    links: dict[tuple[int, int], str] = {}
    is_root = platform.is_root()
    dir_times: list[tuple[str, os.stat_result]] = []

    def attrs(s: str, d: str, st: os.stat_result) -> None:
        if is_root:
            os.chown(d, st.st_uid, st.st_gid, follow_symlinks=False)
        else:
            idtools.copy_owner(s, st, d)
        if not stat.S_ISLNK(st.st_mode):
            os.chmod(d, stat.S_IMODE(st.st_mode))
        copy_xattrs(s, d)
        if not stat.S_ISDIR(st.st_mode):
            platform.lutime(d, ns=(st.st_atime_ns, platform.mtime_ns(st)))

    def entries_of(s_dir: str) -> list[os.DirEntry]:
        with os.scandir(s_dir) as it:
            return sorted(it, key=lambda e: e.name, reverse=True)

    # an own stack, not recursion (a layer may be thousands of folders deep): per folder
    # being copied, (its source, its copy, its lstat or None for the top, entries left)
    stack: list[tuple[str, str, os.stat_result | None, list[os.DirEntry]]] = [
        (src, dst, None, entries_of(src))
    ]
    while stack:
        s_dir, d_dir, dir_st, entries = stack[-1]
        if not entries:
            stack.pop()
            if dir_st is not None:  # a folder's attributes once its content is in
                attrs(s_dir, d_dir, dir_st)
                dir_times.append((d_dir, dir_st))
            continue
        entry = entries.pop()
        s, d = entry.path, os.path.join(d_dir, entry.name)
        st = entry.stat(follow_symlinks=False)
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            os.mkdir(d, 0o700)
            stack.append((s, d, st, entries_of(s)))
            continue
        key = platform.hard_link_key(st)
        if key is not None and key in links:
            platform.link(links[key], d)
            continue
        if stat.S_ISLNK(mode):
            os.symlink(os.readlink(s), d)
        elif stat.S_ISREG(mode):
            shutil.copyfile(s, d, follow_symlinks=False)
        else:
            platform.mknod(d, mode, st.st_rdev)
        attrs(s, d, st)
        if key is not None:
            links[key] = d

    root_st = os.lstat(src)
    attrs(src, dst, root_st)
    dir_times.append((dst, root_st))
    for d, st in dir_times:
        os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns))
