"""The glue every step shares: probe the cache, create the step's container, commit it
(or a fresh RW layer) as the child image.

moby: builder/dockerfile/internals.go (commit, commitContainer, exportImage,
probeCache, probeAndCreate, withCmdComment), imageprobe.go, containerbackend.go
"""

from __future__ import annotations

from collections.abc import Callable

from dockerlayers.builder.backend import Backend, RWLayer
from dockerlayers.builder.state import DispatchRequest, DispatchState
from dockerlayers.digest import EMPTY_TAR
from dockerlayers.errors import APIError
from dockerlayers.image.image import ContainerConfig, new_child_image
from dockerlayers.stringid import truncate_id


class ImageProber:
    """Finds a cached image for a step until the first miss of the stage.

    moby: builder/dockerfile/imageprobe.go imageProber (nopProber with --no-cache)
    """

    def __init__(self, backend: Backend, nocache: bool, log: Callable[[str], None]) -> None:
        self.backend = backend
        self.nocache = nocache
        self.log = log
        self.cache_busted = False

    def reset(self) -> None:
        """A new stage probes the cache again (moby: imageProber.Reset)."""
        self.cache_busted = False

    def probe(self, state: DispatchState, run_config: ContainerConfig) -> bool:
        """Reuse a child of the current image made by the same step (` ---> Using cache`).

        moby: internals.go probeCache, imageprobe.go Probe
        """
        if self.nocache or self.cache_busted:
            return False
        image_id = self.backend.get_cache(state.image_id, run_config)
        if image_id is None:
            self.cache_busted = True
            return False
        self.log(" ---> Using cache")
        state.image_id = image_id
        state.image = self.backend.get_image(image_id)
        return True


class ContainerManager:
    """The build's intermediate containers: created per step, removed after it.

    moby: builder/dockerfile/containerbackend.go containerManager
    """

    def __init__(self, backend: Backend, log: Callable[[str], None]) -> None:
        self.backend = backend
        self.log = log
        self.tmp_containers: list[str] = []

    def create(
        self, state: DispatchState, run_config: ContainerConfig, env: list[str] | None = None
    ) -> str:
        """moby: containerbackend.go Create (` ---> Running in <id>`)"""
        if state.image is None:
            # FROM scratch: the engine runs a container on an empty root filesystem; the
            # model commits the (empty) step without one.
            cid = self.backend.generate_random_id()
            self.log(f" ---> Running in {truncate_id(cid)}")
            self.log(f"Removing intermediate container {truncate_id(cid)}")
            return ""
        cid = self.backend.container_create(state.image_id, run_config, env)
        self.tmp_containers.append(cid)
        self.log(f" ---> Running in {truncate_id(cid)}")
        return cid

    def run(self, container_id: str) -> int:
        """Start, wait, print its output; the exit code (moby: containerbackend.go Run)."""
        self.backend.container_start(container_id)
        status = self.backend.container_wait(container_id)
        out = self.backend.container_logs(container_id)
        for line in out.decode("utf-8", "replace").splitlines():
            self.log(line)
        return status

    def remove_all(self) -> None:
        """moby: containerbackend.go RemoveAll"""
        for cid in self.tmp_containers:
            try:
                self.backend.container_rm(cid)
            except APIError:
                continue
            self.log(f"Removing intermediate container {truncate_id(cid)}")
        self.tmp_containers = []


def comment_config(state: DispatchState, comment: str, single: bool = False) -> ContainerConfig:
    """The run config with `#(nop)` Cmd that the step's history shows.

    moby: internals.go withCmdComment (`#(nop) `, comment) / withCmdCommentString
    """
    cfg = state.run_config.copy()
    cfg.cmd = [*state.shell, "#(nop) " + comment] if single else [*state.shell, "#(nop) ", comment]
    return cfg


def commit(d: DispatchRequest, comment: str) -> None:
    """A step that changes only metadata: probe the cache, else commit a container.

    moby: builder/dockerfile/internals.go commit, probeAndCreate
    """
    run_config = comment_config(d.state, comment)
    if d.builder.prober.probe(d.state, run_config):
        return
    container_id = d.builder.containers.create(d.state, run_config)
    commit_container(d, container_id, run_config)


def commit_container(
    d: DispatchRequest, container_id: str, container_config: ContainerConfig
) -> None:
    """The container's RW layer as the step's image ("" = scratch: an empty layer).

    moby: internals.go commitContainer -> daemon CommitBuildStep
    """
    backend = d.builder.backend
    if not container_id:
        export_image(d, None, container_config)
        return
    rw = backend.get_rw_layer(container_id)
    try:
        export_image(d, rw, container_config, container_id)
    finally:
        backend.release_rw_layer(rw)


def parent_chain(state: DispatchState) -> str | None:
    """The ChainID of the current image's top layer (None for scratch)."""
    if state.image is not None and state.image.rootfs:
        return state.image.rootfs.chain_id()
    return None


def export_image(
    d: DispatchRequest,
    rw: RWLayer | None,
    container_config: ContainerConfig,
    container_id: str = "",
) -> None:
    """Register the RW layer's diff on the current image and make the child image the
    state's image.

    moby: internals.go exportImage (image.NewChildImage, backend CreateImage)
    """
    state = d.state
    backend = d.builder.backend
    if rw is None:
        layer = backend.register_layer(EMPTY_TAR, parent_chain(state))
    else:
        with rw.tar_stream() as tar:
            layer = backend.register_layer(tar, parent_chain(state))
    try:
        child = new_child_image(
            state.image,
            diff_id=layer.diff_id,
            created=backend.now(),
            container_config=container_config,
            config=state.run_config.copy(),
            container_id=container_id,
            author=state.maintainer,
        )
        image_id = backend.create_image(child.marshal(), state.image_id)
    finally:
        backend.release_layer(layer)
    state.image_id = image_id
    state.image = backend.get_image(image_id)
