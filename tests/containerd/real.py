"""A private real containerd for the comparison tests (its own root, state and socket).

Configured as tools/real-docker.sh configures the one under dockerd (CRI disabled), driven
with `ctr --address <sock> -n moby`. Started and stopped by its PID.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time

CONFIG = """version = 2
root = "{root}"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{d}/c.sock"
[ttrpc]
  address = "{d}/c.sock.ttrpc"
[debug]
  address = "{d}/debug.sock"
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "{d}/opt"
"""


def missing() -> str | None:
    """Why a real containerd cannot run here (None: it can)."""
    for tool in ("containerd", "ctr"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (CI: apt-get install containerd runc)"
    if os.geteuid() != 0:
        return "a real containerd needs root"
    return None


def ctr_bytes(n: int) -> str:
    """containerd's progress.Bytes, as `ctr snapshots usage` prints sizes."""
    units = ["B", "KiB", "MiB", "GiB"]
    v, i = float(n), 0
    while v >= 1024 and i < len(units) - 1:
        v, i = v / 1024, i + 1
    return f"{v:.1f} {units[i]}"


class RealContainerd:
    def __init__(self, d: str, root: str | None = None) -> None:
        """A containerd with its state and sockets in `d`, its root `root` (default d/root:
        give another to start it on a root the model made)."""
        self.d = d
        self._root = root or os.path.join(d, "root")
        for path in (self._root, os.path.join(d, "state"), os.path.join(d, "opt")):
            os.makedirs(path, exist_ok=True)
        with open(os.path.join(d, "config.toml"), "w") as f:
            f.write(CONFIG.format(d=d, root=self._root))
        self.log = open(os.path.join(d, "containerd.log"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["containerd", "--config", os.path.join(d, "config.toml")],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(100):
            if os.path.exists(os.path.join(d, "c.sock")):
                try:
                    self.ctr("version")
                    break
                except subprocess.CalledProcessError:
                    pass
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("containerd did not come up")

    @property
    def root(self) -> str:
        return self._root

    @property
    def overlay_root(self) -> str:
        return os.path.join(self.root, "io.containerd.snapshotter.v1.overlayfs")

    def ctr(self, *args: str, check: bool = True) -> str:
        cmd = ["ctr", "--address", os.path.join(self.d, "c.sock"), "-n", "moby", *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise subprocess.CalledProcessError(r.returncode, cmd, r.stdout, r.stderr)
        return r.stdout + (r.stderr if not check else "")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    # -- what ctr prints, parsed ----------------------------------------------------------
    def snapshots(self) -> list[tuple[str, str, str]]:
        rows = self.ctr("snapshots", "ls").splitlines()[1:]
        out = []
        for row in rows:
            parts = row.split()
            if len(parts) == 2:
                parts = [parts[0], "", parts[1]]
            out.append((parts[0], parts[1], parts[2]))
        return sorted(out)

    def snapshot_info(self, key: str) -> dict:
        return json.loads(self.ctr("snapshots", "info", key))

    def content(self) -> dict[str, tuple[int, dict[str, str]]]:
        """digest -> (size in bytes as printed, labels)"""
        out = {}
        for row in self.ctr("content", "ls", "-q").split():
            out[row] = self.content_labels(row)
        return out

    def content_labels(self, digest: str) -> dict[str, str]:
        for row in self.ctr("content", "ls").splitlines()[1:]:
            parts = row.split("\t")
            if parts[0] == digest:
                labels = parts[-1].strip()
                if labels in ("", "-"):
                    return {}
                return dict(kv.split("=", 1) for kv in labels.split(","))
        raise KeyError(digest)

    def mount_options(self, key: str) -> tuple[str, list[str]]:
        """`ctr snapshots mounts /m KEY` -> (type, options)"""
        line = self.ctr("snapshots", "mounts", "/m", key).strip()
        m = re.match(r"mount -t (\S+) (\S+) /m -o (\S+)", line)
        return m.group(1), m.group(3).split(",")

    def usage(self) -> dict[str, tuple[str, int]]:
        out = {}
        for row in self.ctr("snapshots", "usage").splitlines()[1:]:
            parts = row.split()
            out[parts[0]] = (" ".join(parts[1:3]), int(parts[3]))
        return out

    def snapshot_dirs(self) -> list[str]:
        return sorted(os.listdir(os.path.join(self.overlay_root, "snapshots")), key=_n)


def _n(name: str) -> tuple[int, str]:
    return (int(name), "") if name.isdigit() else (1 << 30, name)
