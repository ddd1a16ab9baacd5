"""What Docker writes into a container's init layer.

Empty placeholders for the files and folders the runtime mounts over (/etc/hosts,
/etc/resolv.conf, /dev/pts, ...), plus /.dockerenv and the /etc/mtab symlink. Only missing
paths are created; a file or symlink that would shadow one is removed first. Because the RW
layer's diff is taken against this layer, none of it shows in `docker diff` or a commit.

moby: daemon/initlayer/setup_unix.go Setup
"""

from __future__ import annotations

import stat

from dockerlayers.graphdriver.rootfs import RootFS

#: path -> "dir", "file" or a symlink target (moby iterates a Go map; the order is irrelevant)
INIT_PATHS: dict[str, str] = {
    "/dev/pts": "dir",
    "/dev/shm": "dir",
    "/proc": "dir",
    "/sys": "dir",
    "/.dockerenv": "file",
    "/etc/resolv.conf": "file",
    "/etc/hosts": "file",
    "/etc/hostname": "file",
    "/dev/console": "file",
    "/etc/mtab": "/proc/mounts",
}


def setup_init_layer(fs: RootFS) -> None:
    """Fill an init layer the way dockerd does, through the layer's mounted view."""
    for path, kind in INIT_PATHS.items():
        prev = ""
        for comp in path.strip("/").split("/"):
            prev += "/" + comp
            try:
                st = fs.lstat(prev)
            except OSError:
                continue
            if not stat.S_ISDIR(st.st_mode):
                fs.remove(prev)  # unlink(2): fails harmlessly on real folders
        if fs.exists(path):
            continue
        parent = path.rsplit("/", 1)[0] or "/"
        fs.mkdir(parent, 0o755, parents=True, exist_ok=True)
        if kind == "dir":
            fs.mkdir(path, 0o755, parents=True, exist_ok=True)
        elif kind == "file":
            with fs.open(path, "wb"):
                pass
            fs.chmod(path, 0o755)
        else:
            fs.symlink(kind, path)
