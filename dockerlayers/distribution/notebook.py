"""Where notebook 11 pulls its images from: one setting, `DOCKERLAYERS_REGISTRY`.

* unset (or empty): Docker Hub when it answers (Binder, a laptop online), else a local
  registry started here (Debian's `docker-registry`, a free loopback port);
* `docker.io` (or `hub`): Docker Hub, whatever happens;
* `local`: a local registry started here, even online (what nbval and CI use);
* `HOST:PORT`: the registry you run there.

Docker Hub serves two real images that share their first layers (`nginx:alpine` is built
FROM `nginx:alpine-slim`). Any other registry first receives two images the model builds,
with a fixed seed and the virtual clock, so their IDs and digests are the same on every
run; the pulling client reaches that registry as a *registry mirror* of Docker Hub
(`registry-mirrors` in daemon.json), so the names it shows carry no address or port.
"""

# ruff: noqa: E501  (the stand-ins' Dockerfiles read better unwrapped)
from __future__ import annotations

import atexit
import io
import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockerlayers.distribution.localregistry import Registry, start_registry

ENV = "DOCKERLAYERS_REGISTRY"
HUB_IMAGES = ("nginx:alpine-slim", "nginx:alpine")
STANDIN_REPO = "dockerlayers/web"
STANDIN_IMAGES = (f"{STANDIN_REPO}:slim", f"{STANDIN_REPO}:full")
HUB_PING = "https://registry-1.docker.io/v2/"

#: The stand-ins tell nginx's story small: a "slim" web server image (a user added to
#: /etc/passwd: a modified copy, so the base's copy is wasted), and a "full" one built FROM
#: it that fetches a module archive into /usr/src, copies it into place and deletes it in
#: a later step (so the archive still sits in a lower layer).
SLIM = """\
FROM base
RUN mkdir -p /usr/share/web /etc/web && seq 1 3000 > /usr/share/web/index.html
RUN echo "web:x:101:101:web:/var/cache/web:/sbin/nologin" >> /etc/passwd && echo "web:x:101:" >> /etc/group
RUN echo "listen 80;" > /etc/web/web.conf
CMD ["sh", "-c", "cat /etc/web/web.conf"]
"""
FULL = """\
FROM web:slim
RUN mkdir -p /usr/src && seq 1 40000 > /usr/src/modules.tar
RUN mkdir -p /usr/lib/web && cp /usr/src/modules.tar /usr/lib/web/modules && rm /usr/src/modules.tar
RUN echo "load_module modules;" >> /etc/web/web.conf
"""


@dataclass
class Source:
    """The registry the notebook pulls from and the two image names to pull."""

    kind: str  # "hub", "local" (started here) or "given" (DOCKERLAYERS_REGISTRY=HOST:PORT)
    images: tuple[str, str]
    address: str = ""  # HOST:PORT of a stand-in registry ("" for Docker Hub)
    mirrors: list[str] = field(default_factory=list)  # for DockerClient(registry_mirrors=...)
    registry: Registry | None = None  # the process, when started here
    _folder: str = ""

    def __repr__(self) -> str:
        first, second = self.images
        if self.kind == "hub":
            return f"Docker Hub (registry-1.docker.io): {first}, then {second}"
        # the same words for a registry started here and one given: no address, no port
        return (
            "a registry standing in for Docker Hub (reached as a registry mirror), holding "
            f"two images the model built: {first}, then {second}"
        )

    def close(self) -> None:
        """Stop the registry started here and remove its storage."""
        if self.registry is not None:
            self.registry.stop()
            self.registry = None
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = ""


def hub_reachable(timeout: float = 3.0) -> bool:
    """True when Docker Hub's registry answers `GET /v2/` (401 is an answer)."""
    import requests

    try:
        requests.get(HUB_PING, timeout=timeout)
    except requests.RequestException:
        return False
    return True


def choose(setting: str | None = None) -> Source:
    """The Source for a `DOCKERLAYERS_REGISTRY` value (see the module's docstring)."""
    value = (setting if setting is not None else os.environ.get(ENV, "")).strip()
    if value.lower() in ("docker.io", "hub", "registry-1.docker.io", "index.docker.io"):
        return Source("hub", HUB_IMAGES)
    if not value and hub_reachable():
        return Source("hub", HUB_IMAGES)
    if value and value.lower() != "local":
        address = value.split("://", 1)[-1].rstrip("/")
        source = Source("given", STANDIN_IMAGES, address, [f"http://{address}"])
    else:
        folder = tempfile.mkdtemp(prefix="dockerlayers-registry-")
        try:
            reg = start_registry(Path(folder))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        source = Source("local", STANDIN_IMAGES, reg.host, [f"http://{reg.host}"], reg, folder)
        # stopped when the kernel exits, or when the Source is dropped
        atexit.register(source.close)
        weakref.finalize(source, _stop, reg, folder)
    push_standins(source.address)
    return source


def _stop(reg: Registry, folder: str) -> None:
    reg.stop()
    shutil.rmtree(folder, ignore_errors=True)


def build_standins(client: Any) -> list[Any]:
    """Build the two stand-in images on `client` (tagged `web:slim`, `web:full`)."""
    slim, _ = client.images.build(fileobj=io.BytesIO(SLIM.encode()), tag="web:slim")
    full, _ = client.images.build(fileobj=io.BytesIO(FULL.encode()), tag="web:full")
    return [slim, full]


def push_standins(address: str) -> None:
    """Build the stand-ins on a throw-away client (seed 11, virtual clock: the same IDs
    and digests on every run) and push them to the registry at `address`."""
    from dockerlayers import DockerClient
    from dockerlayers.errors import APIError

    with DockerClient(seed=11, clock="virtual", mounts="user") as builder:
        for image, name in zip(build_standins(builder), STANDIN_IMAGES):
            repo, tag = name.rsplit(":", 1)
            image.tag(f"{address}/{repo}", tag)
            for msg in builder.images.push(f"{address}/{repo}", tag, stream=True, decode=True):
                if "error" in msg:
                    raise APIError(f"pushing {name} to the stand-in registry: {msg['error']}")
