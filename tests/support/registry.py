"""A real registry for the distribution tests: Debian's `docker-registry` (distribution
2.8) on a free loopback port with filesystem storage in a temp folder, optionally with
htpasswd basic auth; helpers to push images into it with skopeo and to drive the real
engine (DOCKERLAYERS_ENGINE) against it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    storage: Path
    proc: subprocess.Popen

    def blob_path(self, dgst: str) -> Path:
        hex_ = dgst.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hex_[:2] / hex_ / "data"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bcrypt_htpasswd(user: str, password: str) -> str | None:
    """An htpasswd line with a bcrypt hash (the only kind distribution accepts), via
    libxcrypt's crypt(3); None when this Python cannot make one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # noqa: PLC0415
        hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
    except (ImportError, AttributeError, OSError):
        return None
    if not hashed or not hashed.startswith("$2"):
        return None
    return f"{user}:{hashed}\n"


def start_registry(folder: Path, htpasswd: str | None = None) -> Registry:
    """Start `docker-registry serve` and wait until `/v2/` answers."""
    port = free_port()
    storage = folder / "storage"
    storage.mkdir(parents=True)
    auth = ""
    if htpasswd is not None:
        (folder / "htpasswd").write_text(htpasswd)
        auth = f"auth:\n  htpasswd:\n    realm: test\n    path: {folder / 'htpasswd'}\n"
    cfg = folder / "config.yml"
    cfg.write_text(
        "version: 0.1\nlog:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{auth}"
    )
    proc = subprocess.Popen(
        [shutil.which("docker-registry") or "docker-registry", "serve", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    reg = Registry(f"127.0.0.1:{port}", storage, proc)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://{reg.host}/v2/", timeout=1)
            return reg
        except urllib.error.HTTPError:
            return reg  # 401: up, wants auth
        except OSError:
            time.sleep(0.05)
    reg.stop()
    raise RuntimeError("docker-registry did not start")


def skopeo_push(archive: Path, dest: str, creds: str | None = None) -> None:
    """`skopeo copy docker-archive:ARCHIVE docker://DEST` (plain HTTP)."""
    cmd = ["skopeo", "copy", "--dest-tls-verify=false", "-q"]
    if creds:
        cmd += ["--dest-creds", creds]
    subprocess.run(cmd + [f"docker-archive:{archive}", f"docker://{dest}"], check=True)


def skopeo_inspect_digest(ref: str) -> str:
    out = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{ref}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def engine_env() -> dict[str, str] | None:
    """The environment for /usr/bin/docker against the engine in DOCKERLAYERS_ENGINE."""
    state = os.environ.get("DOCKERLAYERS_ENGINE")
    if not state or not os.path.exists(os.path.join(state, "docker.sock")):
        return None
    if not os.path.exists("/usr/bin/docker"):
        return None
    env = dict(os.environ)
    env["DOCKER_HOST"] = f"unix://{state}/docker.sock"
    env["DOCKER_CONFIG"] = os.path.join(state, "client")
    return env


def engine(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/usr/bin/docker", *args], env=env, capture_output=True, text=True, check=check
    )
