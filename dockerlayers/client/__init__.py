"""The public face, shaped like the docker SDK for Python (`docker` on PyPI, 7.1).

    client = DockerClient(seed=1, clock="virtual", mounts="user")
    c = client.containers.run(client.images.base(), "sh -c 'echo hi > /f'", detach=True)
    c.reload(); c.status          # attrs are a snapshot, as in docker-py

Code written against this API carries over to real Docker with `docker.from_env()`, and
docker-py code runs here with `dockerlayers.from_env()`.

docker-py: docker/client.py, docker/models/{resource,containers,images,volumes}.py
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from typing import Any

from dockerlayers.client.api import API_VERSION, APIClient
from dockerlayers.client.models.containers import (
    Container,
    ContainerCollection,
    ExecResult,
)
from dockerlayers.client.models.images import Image, ImageCollection
from dockerlayers.client.models.resource import Collection, Model
from dockerlayers.client.models.volumes import Volume, VolumeCollection
from dockerlayers.daemon.daemon import Daemon
from dockerlayers.process.clock import Clock

#: The engine the model follows (docs/differences.md).
ENGINE_VERSION = "20.10.24"


def _remove_temp_root(daemon: Daemon, root: str) -> None:
    """Finalizer of a client on a temporary root: let go of the daemon, delete the root
    (nothing there outlives it, so nothing needs a graceful stop)."""
    try:
        daemon.detach()
    except Exception:
        pass
    shutil.rmtree(root, ignore_errors=True)


class DockerClient:
    """A daemon on a root folder, with docker-py's collections on top.

    root=None: a fresh temporary root, removed by close(); a path: persistent — a new
    client on the same root finds every image, container and file again.
    driver: "overlay2" (default), "aufs", "vfs". seed: reproducible IDs and names.
    clock: None (real time) or "virtual" (time moves only when asked: client.clock.advance).
    mounts: "auto" (the kernel's overlayfs where allowed), "user" (always the user-space
    union; notebooks pin this), "kernel" (required).
    registry_mirrors, insecure_registries: as dockerd's daemon.json keys (which a root's
    `daemon.json` may also hold; these win).
    storage: "graphdriver" (default) or "containerd" (Docker 29's containerd image store,
    as dockerd's `features: {"containerd-snapshotter": true}`; also read from daemon.json);
    there `driver` names the snapshotter: "overlayfs" (the default; "overlay2" means it)
    or "native" (full copies, as vfs).
    """

    def __init__(
        self,
        root: str | None = None,
        driver: str = "overlay2",
        seed: int | None = None,
        clock: Clock | str | None = None,
        mounts: str = "auto",
        registry_mirrors: list[str] | None = None,
        insecure_registries: list[str] | None = None,
        storage: str | None = None,
    ) -> None:
        self._temp_root = root is None
        if root is None:
            root = tempfile.mkdtemp(prefix="dockerlayers-")
        self.root = os.path.abspath(root)
        try:
            self.daemon = Daemon(
                self.root, driver, seed=seed, clock=clock, mounts=mounts, storage=storage
            )
        except BaseException:
            if self._temp_root:
                shutil.rmtree(self.root, ignore_errors=True)
            raise
        if self._temp_root:
            # A notebook kernel that exits without close() must not leave its root behind.
            self._finalizer = weakref.finalize(self, _remove_temp_root, self.daemon, self.root)
        # dockerd's --registry-mirror / --insecure-registry: over <root>/daemon.json's keys
        self.daemon.registry_options = {
            k: list(v)
            for k, v in (
                ("registry_mirrors", registry_mirrors),
                ("insecure_registries", insecure_registries),
            )
            if v
        }
        self.api = APIClient(self)
        self.containers = ContainerCollection(self)
        self.images = ImageCollection(self)
        self.volumes = VolumeCollection(self)

    @classmethod
    def from_env(cls, **kwargs: Any) -> DockerClient:
        """A client configured from the environment (see `dockerlayers.from_env`)."""
        return from_env(**kwargs)

    def __repr__(self) -> str:
        return f"<DockerClient root={self.root} driver={self.daemon.driver.name}>"

    def __enter__(self) -> DockerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def clock(self):  # noqa: ANN201 - the DaemonClock
        return self.daemon.clock

    # -- system ----------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """`docker info` (the parts the model has)."""
        return self.daemon.info()

    def login(
        self,
        username: str,
        password: str | None = None,
        email: str | None = None,
        registry: str | None = None,
        reauth: bool = False,
        dockercfg_path: str | None = None,
    ) -> dict[str, Any]:
        """docker-py's `client.login`: checked by the registry, kept for this client's
        pulls and pushes. docker-py: docker/client.py DockerClient.login"""
        return self.api.login(username, password, email, registry, reauth, dockercfg_path)

    def ping(self) -> bool:
        """True while the daemon answers (a closed one raises APIError)."""
        self.daemon.check_open()
        return True

    def version(self, api_version: bool = True) -> dict[str, Any]:
        """`docker version`'s server part, as `GET /version` answers."""
        import platform

        return {
            "Platform": {"Name": "dockerlayers"},
            "Components": [
                {
                    "Name": "Engine",
                    "Version": ENGINE_VERSION,
                    "Details": {"ApiVersion": API_VERSION},
                }
            ],
            "Version": ENGINE_VERSION,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": "1.12",
            "GitCommit": "dockerlayers",
            "GoVersion": "python" + platform.python_version(),
            "Os": "linux",
            "Arch": "amd64",
            "KernelVersion": platform.release(),
        }

    def df(self) -> dict[str, Any]:
        """`docker system df -v` as `GET /system/df` answers: LayersSize, Images,
        Containers, Volumes, BuildCache (daemon/disk_usage.py)."""
        return self.daemon.disk_usage()

    def events(
        self,
        since: Any = None,
        until: Any = None,
        filters: dict[str, Any] | None = None,
        decode: bool | None = None,
    ) -> Iterator[Any]:
        """The daemon's events (JSON bytes, dicts with `decode`). Without `until` the
        model ends the stream at the present instead of waiting for more."""
        from dockerlayers.client.models.containers import _timestamp

        flt = {k: [v] if isinstance(v, str) else list(v) for k, v in (filters or {}).items()}
        evs = self.daemon.events.list(
            since=None if since is None else _timestamp(since, "since"),
            until=None if until is None else _timestamp(until, "until"),
            filters=flt or None,
        )
        import json

        return (e if decode else json.dumps(e).encode() for e in evs)

    def close(self) -> None:
        """dockerd's shutdown: running containers get SIGTERM, their timeout, SIGKILL.
        A temporary root is removed."""
        self.daemon.close()
        if self._temp_root:
            self._finalizer.detach()
            shutil.rmtree(self.root, ignore_errors=True)

    def detach(self) -> None:
        """Let go of the root without stopping anything (the next client carries on)."""
        self.daemon.detach()


def from_env(
    version: str | None = None,
    timeout: int | None = None,
    max_pool_size: int | None = None,
    environment: dict[str, str] | None = None,
    use_ssh_client: bool = False,
    **kwargs: Any,
) -> DockerClient:
    """Like `docker.from_env()`: a client on `$DOCKERLAYERS_ROOT` (else the CLI's default
    root), with `DOCKERLAYERS_DRIVER`, `DOCKERLAYERS_SEED`, `DOCKERLAYERS_CLOCK`
    ("virtual") and `DOCKERLAYERS_MOUNTS` read the same way. docker-py's own arguments
    (version, timeout, ...) are accepted and have nothing to configure here; keyword
    arguments of DockerClient override the environment.
    """
    env = os.environ if environment is None else environment
    root = kwargs.pop("root", None) or env.get("DOCKERLAYERS_ROOT") or _default_root()
    seed = env.get("DOCKERLAYERS_SEED")
    return DockerClient(
        root=root,
        driver=kwargs.pop("driver", None) or env.get("DOCKERLAYERS_DRIVER") or "overlay2",
        seed=kwargs.pop("seed", None if seed in (None, "") else int(seed)),
        clock=kwargs.pop("clock", None) or env.get("DOCKERLAYERS_CLOCK") or None,
        mounts=kwargs.pop("mounts", None) or env.get("DOCKERLAYERS_MOUNTS") or "auto",
    )


def _default_root() -> str:
    from dockerlayers.cli.app import default_root

    return default_root()


__all__ = [
    "APIClient",
    "Collection",
    "Container",
    "ContainerCollection",
    "DockerClient",
    "ExecResult",
    "Image",
    "ImageCollection",
    "Model",
    "Volume",
    "VolumeCollection",
    "from_env",
]
