"""What the builder needs of the daemon, as a `Backend` protocol, and its adapter on a
real `Daemon` (public methods and attributes only).

The builder talks only to a Backend, so its dispatchers can be tested on a fake one
(tests/builder/mockbackend.py), as moby tests its builder on a MockBackend.

moby: builder/builder.go Backend (ExecBackend, ImageBackend, ImageCacheBuilder),
daemon/workdir.go ContainerCreateWorkdir, image/cache/{cache,compare}.go
"""

from __future__ import annotations

import os
import posixpath
from contextlib import AbstractContextManager
from typing import IO, Any, Protocol

from dockerlayers.image.image import ContainerConfig, Image


class Layer(Protocol):
    """A registered (read-only) layer handle (moby: builder.ROLayer)."""

    @property
    def diff_id(self) -> str: ...


class RWLayer(Protocol):
    """A read-write layer: a container's, or a fresh one on an image for COPY/ADD.

    moby: builder.RWLayer
    """

    def mount(self) -> Any: ...

    def unmount(self) -> None: ...

    def tar_stream(self) -> AbstractContextManager[IO[bytes]]: ...


class Backend(Protocol):
    """Exactly what the legacy builder asks of the daemon.

    moby: builder/builder.go Backend
    """

    def temp_dir(self) -> str | None:
        """A folder for the build's scratch files (None: the system's)."""
        ...

    def generate_random_id(self) -> str: ...

    # -- images ------------------------------------------------------------------------------
    def get_image(self, ref: str) -> Image:
        """An image by reference or ID; APIError (No such image) if unknown."""
        ...

    def base_image(self) -> str:
        """The built-in base image's ID (the only image a network-less daemon can pull)."""
        ...

    def create_image(self, config: bytes, parent: str) -> str:
        """Store a child image config built locally on `parent` (moby: CreateImage)."""
        ...

    def tag_image(self, image_id: str, ref: str) -> None: ...

    def now(self) -> str:
        """The daemon clock, RFC3339Nano (an image's `created`)."""
        ...

    def get_cache(self, parent_id: str, config: ContainerConfig) -> str | None:
        """The newest child of `parent_id` made by the same step (moby: ImageCache GetCache)."""
        ...

    # -- containers ------------------------------------------------------------------------------
    def container_create(
        self, image_id: str, config: ContainerConfig, env: list[str] | None
    ) -> str:
        """Create a step's container; returns its ID (moby: ContainerCreate...)."""
        ...

    def container_start(self, container_id: str) -> None: ...

    def container_wait(self, container_id: str) -> int:
        """Wait until the container stops; its exit code."""
        ...

    def container_logs(self, container_id: str) -> bytes: ...

    def container_rm(self, container_id: str) -> None:
        """Remove with force and volumes; APIError if it cannot."""
        ...

    def container_create_workdir(self, container_id: str, path: str) -> None: ...

    # -- layers ----------------------------------------------------------------------------------
    def get_rw_layer(self, container_id: str) -> RWLayer: ...

    def create_rw_layer(self, parent_chain: str | None) -> RWLayer: ...

    def release_rw_layer(self, rw: RWLayer) -> None: ...

    def register_layer(self, tar: IO[bytes] | bytes, parent_chain: str | None) -> Layer: ...

    def release_layer(self, layer: Layer) -> None: ...


class DaemonBackend:
    """The Backend of a real `Daemon`, through its public methods only.

    moby: the daemon itself implements builder.Backend (daemon/build.go, daemon/images)
    """

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon

    @property
    def _svc(self) -> Any:
        return self.daemon.image_service

    def temp_dir(self) -> str | None:
        root = getattr(self.daemon, "root", None)
        if not root:
            return None
        path = os.path.join(root, "tmp")
        os.makedirs(path, exist_ok=True)
        return path

    def generate_random_id(self) -> str:
        return self.daemon.ids.generate_random_id()

    def get_image(self, ref: str) -> Image:
        return self._svc.get_image(ref)

    def base_image(self) -> str:
        return self.daemon.base_image()

    def create_image(self, config: bytes, parent: str) -> str:
        return self._svc.create_image(config, parent=parent)

    def tag_image(self, image_id: str, ref: str) -> None:
        # moby: api/server/backend/build/tag.go (sanitizeRepoAndTags: TagNameOnly, then
        # TagImageWithReference)
        from dockerlayers.image.refname import parse_normalized_named

        self._svc.tag_image(image_id, parse_normalized_named(ref).tag_name_only())

    def image_id(self, image_id: str) -> str:
        """The ID clients see (the image service's rule; Docker 29: the manifest digest)."""
        return self._svc.image_id(image_id)

    def now(self) -> str:
        return self._svc.now()

    def get_cache(self, parent_id: str, config: ContainerConfig) -> str | None:
        return get_local_cached_image(self._svc.image_store, parent_id, config)

    def container_create(
        self, image_id: str, config: ContainerConfig, env: list[str] | None
    ) -> str:
        cfg = config.to_json()
        c = self.daemon.create(
            image_id,
            cfg.get("Cmd") or [],
            entrypoint=cfg.get("Entrypoint") if cfg.get("Entrypoint") else [""],
            environment=env if env is not None else cfg.get("Env"),
            working_dir=cfg.get("WorkingDir") or None,
            user=cfg.get("User") or None,
            labels=cfg.get("Labels") or None,
        )
        return c.id

    def container_start(self, container_id: str) -> None:
        self.daemon.start(container_id)

    def container_wait(self, container_id: str) -> int:
        return self.daemon.wait(container_id)["StatusCode"]

    def container_logs(self, container_id: str) -> bytes:
        return self.daemon.logs(container_id)

    def container_rm(self, container_id: str) -> None:
        self.daemon.remove(container_id, force=True, v=True)

    def container_create_workdir(self, container_id: str, path: str) -> None:
        """The WORKDIR folder, made 0755 and owned by root if missing.

        moby: daemon/workdir.go ContainerCreateWorkdir (container.SetupWorkingDirectory)
        """
        fs = self.daemon.mount(container_id)
        path = posixpath.normpath(path)
        if not fs.isdir(path):
            fs.mkdir(path, 0o755, parents=True, exist_ok=True)
            try:
                fs.chown(path, 0, 0)
            except (OSError, NotImplementedError):
                pass

    def get_rw_layer(self, container_id: str) -> RWLayer:
        return self.daemon.layer_store.get_rw_layer(container_id)

    def create_rw_layer(self, parent_chain: str | None) -> RWLayer:
        return self.daemon.layer_store.create_rw_layer(
            self.generate_random_id(), parent_chain, None
        )

    def release_rw_layer(self, rw: RWLayer) -> None:
        self.daemon.layer_store.release_rw_layer(rw)

    def register_layer(self, tar: IO[bytes] | bytes, parent_chain: str | None) -> Layer:
        return self.daemon.layer_store.register(tar, parent_chain)

    def release_layer(self, layer: Layer) -> None:
        self.daemon.layer_store.release(layer)


# -- the local image cache -------------------------------------------------------------------------
def get_local_cached_image(store: Any, parent_id: str, config: ContainerConfig) -> str | None:
    """The newest image whose parent is `parent_id` (for `""`: the parentless images built
    here) and whose container_config equals the step's.

    moby: image/cache/cache.go getLocalCachedImage
    """
    if parent_id:
        siblings = list(store.children(parent_id))
    else:
        # 20.10: every image without a parent (moby 23+ narrows it to ones built locally)
        siblings = [i for i in store.map() if not store.get_parent(i)]
    match: Image | None = None
    for image_id in siblings:
        img = store.get(image_id)
        if compare_configs(img.container_config, config) and (
            match is None or match.created < img.created
        ):
            match = img
    return match.id if match is not None else None


def compare_configs(a: ContainerConfig | None, b: ContainerConfig | None) -> bool:
    """Whether a cached image's container_config matches a step's.

    moby: image/cache/compare.go compare
    """
    if a is None or b is None or a.open_stdin or b.open_stdin:
        return False
    if (a.attach_stdout, a.attach_stderr, a.user, a.tty) != (
        b.attach_stdout,
        b.attach_stderr,
        b.user,
        b.tty,
    ):
        return False
    for x, y in (
        (a.cmd, b.cmd),
        (a.env, b.env),
        (a.entrypoint, b.entrypoint),
    ):
        if list(x or []) != list(y or []):
            return False
    if dict(a.labels or {}) != dict(b.labels or {}):
        return False
    if set(a.exposed_ports or {}) != set(b.exposed_ports or {}):
        return False
    return set(a.volumes or {}) == set(b.volumes or {})
