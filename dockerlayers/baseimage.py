"""The built-in base image: a tiny busybox-like root filesystem, made the same every time.

Every notebook and test needs an image and none may need a network, so the package makes
its own: `/bin/busybox` with a fixed list of applets as hard links to it (as the busybox
image has them), a few files in `/etc`, and the usual empty folders. The tar is
byte-for-byte reproducible, so the image ID is the same on every machine.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockerlayers.archive.tarheader import TarHeader

#: 2024-01-01T00:00:00Z: the mtime of every file, and the image's creation time.
BASE_EPOCH = 1704067200
BASE_REPOSITORY = "base"
BASE_TAG = "latest"
BASE_REFERENCE = f"{BASE_REPOSITORY}:{BASE_TAG}"

_BUSYBOX = (
    b"#!simulated busybox\n"
    b"# dockerlayers runs containers' processes in Python: this file stands for the busybox\n"
    b"# binary; each applet in /bin is a hard link to it, chosen by the name it is called by.\n"
)
_FILES = {
    "etc/group": (
        b"root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\nnogroup:x:65534:\n"
    ),
    "etc/hostname": b"",
    "etc/os-release": (
        b'NAME="dockerlayers base"\nID=base\nVERSION_ID=1\nPRETTY_NAME="dockerlayers base image"\n'
    ),
    "etc/passwd": (
        b"root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
        b"nobody:x:65534:65534:nobody:/home:/bin/false\n"
    ),
    "etc/shadow": b"root:*::0:::::\nnobody:*::0:::::\n",
}
_DIRS = {
    "bin": 0o755,
    "dev": 0o755,
    "etc": 0o755,
    "home": 0o755,
    "proc": 0o755,
    "root": 0o700,
    "sys": 0o755,
    "tmp": 0o1777,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "var": 0o755,
    "var/log": 0o755,
    "var/tmp": 0o1777,
}
CONFIG = {
    "Cmd": ["sh"],
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
}


#: The names linked to /bin/busybox in the base image, frozen: the image's bytes, its ID and
#: every notebook output depend on them. Applets added to the process model later are still
#: reachable, as in a real busybox image without their links: through the shell (ash's
#: standalone mode runs any applet by name) and as `busybox NAME`.
LINKED_APPLETS = (
    "[", "ash", "basename", "cat", "chgrp", "chmod", "chown", "cp", "date", "dirname", "du",
    "echo", "env", "false", "find", "grep", "head", "hostname", "id", "kill", "ln", "ls",
    "mkdir", "mv", "printenv", "printf", "pwd", "rm", "rmdir", "seq", "sh", "sleep", "stat",
    "tail", "tee", "test", "top", "touch", "true", "uname", "wc", "whoami",
)  # fmt: skip


def applet_names() -> list[str]:
    """The programs linked in the base image's /bin (each a hard link to /bin/busybox)."""
    return sorted(LINKED_APPLETS)


def rootfs_tar() -> bytes:
    """The base image's only layer, as a deterministic tar (sorted, fixed mtimes, 0:0)."""
    from dockerlayers.archive.tar import TarWriter
    from dockerlayers.archive.tarheader import TYPE_DIR, TYPE_LINK, TYPE_REG, TarHeader

    entries: list[tuple[str, TarHeader, bytes | None]] = []
    for path, mode in _DIRS.items():
        entries.append(
            (
                path + "/",
                TarHeader(name=path + "/", typeflag=TYPE_DIR, mode=mode, mtime=BASE_EPOCH),
                None,
            )
        )
    # One inode, many names: in a tar the first name (in order) carries the content and
    # the others are hard links to it, as moby writes a busybox /bin.
    names = sorted(f"bin/{n}" for n in [*applet_names(), "busybox"])
    first = names[0]
    entries.append(
        (first, TarHeader(name=first, mode=0o755, size=len(_BUSYBOX), mtime=BASE_EPOCH), _BUSYBOX)
    )
    for path in names[1:]:
        hdr = TarHeader(name=path, typeflag=TYPE_LINK, linkname=first, mode=0o755, mtime=BASE_EPOCH)
        entries.append((path, hdr, None))
    for path, data in _FILES.items():
        mode = 0o640 if path == "etc/shadow" else 0o644
        entries.append(
            (
                path,
                TarHeader(
                    name=path, typeflag=TYPE_REG, mode=mode, size=len(data), mtime=BASE_EPOCH
                ),
                data,
            )
        )
    out = io.BytesIO()
    writer = TarWriter(out)
    for _, hdr, data in sorted(entries, key=lambda e: e[0].rstrip("/")):
        writer.add(hdr, data)
    writer.close()
    return out.getvalue()
