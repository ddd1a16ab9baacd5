"""A real registry for the distribution tests: Debian's `docker-registry` (distribution
2.8) on a free loopback port with filesystem storage in a temp folder, optionally with
htpasswd basic auth; helpers to push images into it with skopeo and to drive the real
engine (DOCKERLAYERS_ENGINE) against it."""

from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path  # noqa: F401

from dockerlayers.distribution.localregistry import (  # noqa: F401 (re-exported)
    Registry,
    RegistryNotInstalled,
    free_port,
    start_registry,
)


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
