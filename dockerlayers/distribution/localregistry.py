"""A real registry on this machine: Debian's `docker-registry` (distribution 2.8) serving
a temp folder on a free loopback port, for the tests, the benchmarks and notebook 11 when
Docker Hub cannot be reached.

    reg = start_registry(folder)          # reg.host == "127.0.0.1:PORT"
    ...
    reg.stop()

Without the binary it raises `RegistryNotInstalled`, whose message says what to install
(and, in IPython, is shown as that one sentence instead of a traceback).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BINARY = "docker-registry"


class RegistryUnavailable(RuntimeError):
    """No registry could be started; the message says why in one sentence."""

    def _render_traceback_(self) -> list[str]:  # IPython: show the sentence, not a traceback
        return [f"{type(self).__name__}: {self}"]


class RegistryNotInstalled(RegistryUnavailable):
    pass


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    storage: Path
    proc: subprocess.Popen

    def blob_path(self, dgst: str) -> Path:
        hex_ = dgst.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hex_[:2] / hex_ / "data"

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the registry gets SIGTERM when the process that started it dies (a killed
    notebook kernel leaves no registry behind)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def start_registry(folder: Path, htpasswd: str | None = None, attempts: int = 3) -> Registry:
    """Start `docker-registry serve` (filesystem storage under `folder`, optionally htpasswd
    basic auth) on a free loopback port and wait until `/v2/` answers. A port taken between
    choosing and binding it is retried with another."""
    binary = shutil.which(BINARY)
    if binary is None:
        raise RegistryNotInstalled(
            f"`{BINARY}` is not installed, so no local registry can be started: install it "
            f"(Debian/Ubuntu: apt-get install {BINARY}), or set DOCKERLAYERS_REGISTRY to the "
            "address of a registry you run"
        )
    folder = Path(folder)
    storage = folder / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    auth = ""
    if htpasswd is not None:
        (folder / "htpasswd").write_text(htpasswd)
        auth = f"auth:\n  htpasswd:\n    realm: test\n    path: {folder / 'htpasswd'}\n"
    for _ in range(attempts):
        port = free_port()
        cfg = folder / "config.yml"
        cfg.write_text(
            "version: 0.1\nlog:\n  level: error\n"
            f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{port}\n{auth}"
        )
        proc = subprocess.Popen(
            [binary, "serve", str(cfg)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        reg = Registry(f"127.0.0.1:{port}", storage, proc)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                urllib.request.urlopen(f"http://{reg.host}/v2/", timeout=1).close()
                return reg
            except urllib.error.HTTPError:
                return reg  # 401: up, wants auth
            except OSError:
                time.sleep(0.05)
        reg.stop()
    raise RegistryUnavailable(f"`{BINARY}` did not start (tried {attempts} ports)")
