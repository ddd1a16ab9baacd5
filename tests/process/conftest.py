"""A busybox-like container root served by DirRootFS, and a helper to run commands in it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from dockerlayers.graphdriver.rootfs import DirRootFS
from dockerlayers.process import Process
from dockerlayers.process.applets import APPLET_NAMES

T0 = 1704067200.0  # 2024-01-01T00:00:00Z


def make_busybox_root(path: str) -> None:
    """/bin/busybox plus a symlink per applet, like the busybox image."""
    for d in ("bin", "etc", "tmp", "root", "usr/bin", "var"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    with open(os.path.join(path, "bin/busybox"), "wb") as f:
        f.write(b"\x7fELF busybox stand-in\n")
    os.chmod(os.path.join(path, "bin/busybox"), 0o755)
    for name in sorted(APPLET_NAMES - {"busybox"}):
        os.symlink("busybox", os.path.join(path, "bin", name))
    with open(os.path.join(path, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
    with open(os.path.join(path, "etc/group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    with open(os.path.join(path, "etc/hostname"), "w") as f:
        f.write("abc123\n")
    # the image's modes, set rather than left to the host's umask (Emscripten's ignores it)
    for d in ("", "bin", "etc", "tmp", "root", "usr", "usr/bin", "var"):
        os.chmod(os.path.join(path, d), 0o755)
    for name in ("passwd", "group", "hostname"):
        os.chmod(os.path.join(path, "etc", name), 0o644)


@dataclass
class Run:
    proc: Process
    out: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def stdout(self) -> str:
        return b"".join(d for s, d in self.out if s == "stdout").decode()

    @property
    def stderr(self) -> str:
        return b"".join(d for s, d in self.out if s == "stderr").decode()


@pytest.fixture
def root(tmp_path):
    path = tmp_path / "root"
    path.mkdir()
    make_busybox_root(str(path))
    return path


@pytest.fixture
def fs(root):
    return DirRootFS(str(root))


@pytest.fixture
def spawn(fs):
    """spawn(argv, ...) -> Run; the process is created but not run."""

    def _spawn(argv, *, env=None, cwd="/", pid=1, now=T0, hostname="abc123", user=None):
        out: list[tuple[str, bytes]] = []
        proc = Process.spawn(
            argv,
            env=env
            if env is not None
            else [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME=/root",
            ],
            cwd=cwd,
            rootfs=fs,
            clock_now=now,
            hostname=hostname,
            output=lambda stream, data: out.append((stream, data)),
            pid=pid,
            user=user,
        )
        return Run(proc, out)

    return _spawn


@pytest.fixture
def sh(spawn):
    """sh(script) -> Run: `sh -c script`, run to completion (sleeps fast-forwarded)."""

    def _sh(script, *args, pid=1, cwd="/", env=None, limit=1000, user=None):
        r = spawn(["sh", "-c", script, *args], pid=pid, cwd=cwd, env=env, user=user)
        now = T0
        for _ in range(limit):
            r.proc.run(now)
            if r.proc.exited:
                break
            if r.proc.wake_at is None:
                break
            now = r.proc.wake_at
        return r

    return _sh
