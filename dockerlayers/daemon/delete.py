"""`docker rm` (and `docker container prune`): release the RW layer and delete the
container's folders.

moby: daemon/delete.go (ContainerRm, containerRm, cleanupContainer), daemon/prune.go
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dockerlayers.container.container import Container
from dockerlayers.daemon.errors import (
    removal_in_progress,
    remove_root_fs_failed,
    remove_running,
)
from dockerlayers.daemon.kill import SIGKILL, kill_with_signal
from dockerlayers.daemon.mounts import unmount_container
from dockerlayers.daemon.runtime import remove_runtime
from dockerlayers.daemon.stop import container_stop
from dockerlayers.errors import APIError
from dockerlayers.filters import Args, match_labels, until_from_prune_filters

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def remove(daemon: Daemon, ref: str, force: bool = False, v: bool = False) -> None:
    """`docker rm [-f] [-v]`.

    moby: daemon/delete.go ContainerRm
    """
    with daemon.operation(ref) as c:
        if c.state.removal_in_progress:
            raise removal_in_progress(ref)
        container_rm(daemon, c, force, v)
        daemon.write_state()


def container_rm(daemon: Daemon, c: Container, force: bool, remove_volumes: bool) -> None:
    """Mark the removal, clean up, unmark.

    A removal that fails after the container was marked Dead (the driver could not
    remove the RW layer) leaves it `dead`, with the error in State.Error; `docker rm`
    can be tried again.

    moby: daemon/delete.go containerRm (20.10: inside ContainerRm)
    """
    if c.state.set_removal_in_progress():
        raise removal_in_progress(c.name.lstrip("/"))
    try:
        cleanup_container(daemon, c, force, remove_volumes)
    finally:
        # moby: ContainerRm's `defer container.ResetRemovalInProgress()` changes memory
        # only; a refused rm (running, no force) never reached the Dead checkpoint and
        # writes nothing. Past it, the kept (dead) container's state is saved.
        c.state.reset_removal_in_progress()
        if c.id in daemon.containers and c.state.dead:
            c.checkpoint()


def cleanup_container(daemon: Daemon, c: Container, force: bool, remove_volumes: bool) -> None:
    """Kill (with force), stop, mark Dead, release the RW layer, remove the folder, the
    runtime state and (with -v) the anonymous volumes. Event `destroy`.

    moby: daemon/delete.go cleanupContainer
    """
    if c.state.running:
        if not force:
            raise remove_running(c.state.state_string(), c.id)
        kill_with_signal(daemon, c, SIGKILL)
    if c.state.running:
        container_stop(daemon, c, 3)
    # Mark it dead first, so that a crash from here on leaves a dead container, not a
    # live one (moby checkpoints at this point).
    c.state.dead = True
    c.checkpoint()
    rw = daemon.rw_layers.get(c.id)
    unmount_container(daemon, c)
    if rw is not None:
        try:
            daemon.layer_store.release_rw_layer(rw)
        except OSError as e:
            err = remove_root_fs_failed(c.id, daemon.driver.name, _go_error(e))
            c.state.error = str(err)
            raise err from None
        del daemon.rw_layers[c.id]
    shutil.rmtree(c.root, ignore_errors=True)
    daemon.containers.pop(c.id, None)
    daemon.runtime.pop(c.id, None)
    daemon.runtime_on_disk.pop(c.id, None)
    remove_runtime(daemon.runtime_dir, c.id)
    daemon.logger.drop(c.id)
    if remove_volumes:
        for mp in c.mount_points.values():
            if mp["Type"] == "volume" and not mp["Spec"].get("Source"):
                try:
                    daemon.volumes.remove(mp["Name"], daemon.volume_users(mp["Name"]))
                except APIError:
                    pass
    daemon.events.log("container", "destroy", c.id, daemon.attrs(c))


#: moby: daemon/prune.go containersAcceptedFilters
CONTAINERS_ACCEPTED_FILTERS = ("label", "label!", "until")


def prune(daemon: Daemon, filters: Args | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`docker container prune [--filter ...]`: remove every stopped container that matches
    `label`, does not match `label!`, and was created before `until`.

    moby: daemon/prune.go ContainersPrune
    """
    with daemon.locked():
        args = Args.of(filters)
        args.validate(CONTAINERS_ACCEPTED_FILTERS)
        until = until_from_prune_filters(args, daemon.clock.now())
        deleted, reclaimed = [], 0
        for c in list(daemon.containers.values()):
            if c.state.running:
                continue
            if until is not None and c.created > until:
                continue
            if not match_labels(args, c.config.get("Labels") or {}):
                continue
            rw = daemon.rw_layers.get(c.id)
            size = rw.size() if rw is not None else 0
            try:
                container_rm(daemon, c, force=False, remove_volumes=False)
            except APIError:
                continue  # moby logs "failed to prune container" and goes on
            reclaimed += size
            deleted.append(c.id)
        daemon.events.log("container", "prune", "", {"reclaimed": str(reclaimed)})
        daemon.write_state()
        return {"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed}


def _go_error(e: OSError) -> str:
    """An OSError as Go prints a *PathError: `unlinkat /path: device or resource busy`."""
    text = (e.strerror or str(e)).lower() if e.strerror else str(e)
    if e.filename:
        return f"unlinkat {e.filename}: {text}"
    return text
