"""Copy a layer folder exactly: content, modes, owners, times, xattrs, hard links, devices.

vfs makes each layer a full copy of its parent with this.

moby: daemon/graphdriver/copy/copy.go DirCopy
"""

from __future__ import annotations

import os
import shutil
import stat

from dockerlayers.graphdriver.union import copy_xattrs


def copy_tree(src: str, dst: str) -> None:
    """Copy the contents of folder `src` into the existing folder `dst`."""
    links: dict[tuple[int, int], str] = {}
    is_root = os.geteuid() == 0
    dir_times: list[tuple[str, os.stat_result]] = []

    def attrs(s: str, d: str, st: os.stat_result) -> None:
        if is_root:
            os.chown(d, st.st_uid, st.st_gid, follow_symlinks=False)
        if not stat.S_ISLNK(st.st_mode):
            os.chmod(d, stat.S_IMODE(st.st_mode))
        copy_xattrs(s, d)
        if not stat.S_ISDIR(st.st_mode):
            os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)

    def walk(s_dir: str, d_dir: str) -> None:
        with os.scandir(s_dir) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            s, d = entry.path, os.path.join(d_dir, entry.name)
            st = entry.stat(follow_symlinks=False)
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                os.mkdir(d, 0o700)
                walk(s, d)
                attrs(s, d, st)
                dir_times.append((d, st))
                continue
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in links:
                os.link(links[key], d, follow_symlinks=False)
                continue
            if stat.S_ISLNK(mode):
                os.symlink(os.readlink(s), d)
            elif stat.S_ISREG(mode):
                shutil.copyfile(s, d, follow_symlinks=False)
            else:
                os.mknod(d, mode, st.st_rdev)
            attrs(s, d, st)
            if st.st_nlink > 1:
                links[key] = d

    walk(src, dst)
    root_st = os.lstat(src)
    attrs(src, dst, root_st)
    dir_times.append((dst, root_st))
    for d, st in dir_times:
        os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns))
