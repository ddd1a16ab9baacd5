"""`docker commit`: the container's RW layer becomes a new image on its image.

The container part is here (refusals, the pause around it, the config merge, the tag and
the `commit` event); the image part is dockerlayers/image/daemon_images.py commit_image.

moby: daemon/commit.go CreateImageFromContainer, merge
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from dockerlayers.containerd.ids import shown_image_id
from dockerlayers.daemon.errors import commit_dead, commit_removing
from dockerlayers.image.changes import apply_changes
from dockerlayers.image.daemon_images import commit_image
from dockerlayers.image.image import ContainerConfig

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def commit(
    daemon: Daemon,
    ref: str,
    repository: str | None = None,
    tag: str | None = None,
    comment: str | None = None,
    author: str | None = None,
    changes: list[str] | str | None = None,
    config: dict[str, Any] | None = None,
    pause: bool = True,
) -> str:
    """Commit, pausing a running container meanwhile; returns the new image's ID.

    moby: daemon/commit.go CreateImageFromContainer
    """
    from dockerlayers.daemon.pause import pause as pause_container
    from dockerlayers.daemon.pause import unpause as unpause_container

    with daemon.operation(ref) as c:
        if c.state.dead:
            raise commit_dead(c.id)
        if c.state.removal_in_progress:
            raise commit_removing(c.id)
        paused_here = False
        if pause and c.state.running and not c.state.paused and not c.state.restarting:
            pause_container(daemon, c.id)
            paused_here = True
        try:
            change_list = [changes] if isinstance(changes, str) else list(changes or [])
            new_cfg = apply_changes(ContainerConfig.from_json(config or c.config), change_list)
            merge(new_cfg, ContainerConfig.from_json(c.config))
            fs = getattr(daemon.image_service.image_store, "fs", None)
            with getattr(fs, "committing", contextlib.nullcontext)():
                image_id = commit_image(
                    daemon.image_service,
                    daemon.layer_store,
                    container_id=c.id,
                    parent_id=c.image,
                    container_config=ContainerConfig.from_json(c.config),
                    config=new_cfg,
                    author=author or "",
                    comment=comment or "",
                )
            image_ref = ""
            if repository:
                image_ref = daemon.image_service.tag(image_id, repository, tag or "")
            # the ID a client sees (Docker 29: the new manifest's digest)
            image_id = shown_image_id(daemon, image_id)
            attrs = daemon.attrs(c)
            attrs.update({"comment": comment or "", "imageID": image_id, "imageRef": image_ref})
            daemon.events.log("container", "commit", c.id, attrs)
        finally:
            # moby: `defer daemon.containerUnpause(container)`, after the commit event
            if paused_here and c.id in daemon.containers and c.state.paused:
                unpause_container(daemon, c.id)
        daemon.write_state()
        return image_id


def merge(new: ContainerConfig, old: ContainerConfig) -> None:
    """Fill what the committed config leaves unset from the container's config.

    moby: daemon/commit.go merge
    """
    if not new.user:
        new.user = old.user
    if new.exposed_ports is None:
        new.exposed_ports = old.exposed_ports
    elif old.exposed_ports:
        for port in old.exposed_ports:
            new.exposed_ports.setdefault(port, {})
    if new.env is None:
        new.env = old.env
    elif old.env:
        keys = {e.split("=", 1)[0] for e in new.env}
        new.env = new.env + [e for e in old.env if e.split("=", 1)[0] not in keys]
    if new.labels is None:
        new.labels = old.labels
    elif old.labels:
        for k, v in old.labels.items():
            new.labels.setdefault(k, v)
    if not new.entrypoint:  # a new ENTRYPOINT keeps the Cmd the changes left (none)
        if not new.cmd:
            new.cmd = old.cmd
        if new.entrypoint is None:
            new.entrypoint = old.entrypoint
    if not new.working_dir:
        new.working_dir = old.working_dir
    if new.volumes is None:
        new.volumes = old.volumes
    if not new.stop_signal:
        new.stop_signal = old.stop_signal
