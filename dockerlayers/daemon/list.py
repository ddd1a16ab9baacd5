"""`docker ps`: the containers, newest first, with the filters it takes.

moby: daemon/list.go Containers, daemon/list.go (filters)
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from dockerlayers.container.container import Container
from dockerlayers.daemon.volumes import inspect_mount

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def containers(
    daemon: Daemon,
    all: bool = False,
    size: bool = False,
    filters: dict[str, Any] | None = None,
    limit: int = -1,
) -> list[dict[str, Any]]:
    """`docker ps [-a] [-s] [--filter ...] [-n N]`.

    moby: daemon/list.go Containers
    """
    with daemon.locked(check_open=False):
        now = daemon.clock.now()
        items = sorted(daemon.containers.values(), key=lambda c: (c.created, c.id), reverse=True)
        out = []
        for c in items:
            if not all and not c.state.running and not (filters and filters.get("status")):
                continue
            if filters and not ps_match(c, filters):
                continue
            entry = {
                "Id": c.id,
                "Names": [c.name],
                "Image": c.config.get("Image") or c.image,
                "ImageID": c.image,
                "Command": command_string(c),
                "Created": int(c.created),
                "Ports": [],
                "Labels": c.config.get("Labels") or {},
                "State": c.state.state_string(),
                "Status": c.state.human(now),
                "HostConfig": {"NetworkMode": c.host_config.get("NetworkMode", "default")},
                "NetworkSettings": {"Networks": {}},
                "Mounts": [inspect_mount(mp) for _, mp in sorted(c.mount_points.items())],
            }
            rw = daemon.rw_layers.get(c.id)
            if size and rw is not None:
                entry["SizeRw"] = rw.size()
                entry["SizeRootFs"] = entry["SizeRw"] + (rw.parent.size() if rw.parent else 0)
            out.append(entry)
        if limit is not None and limit > 0:
            out = out[:limit]
        return out


def command_string(c: Container) -> str:
    """The COMMAND column: path and args, quoted where needed."""
    parts = [c.path, *c.args]
    return " ".join(shlex.quote(p) if (" " in p or not p) else p for p in parts)


def ps_match(c: Container, filters: dict[str, Any]) -> bool:
    """Whether `c` passes every filter: status, name, id, ancestor, label, exited.

    moby: daemon/list.go filterByNameIDMatches, includeContainerInList
    """
    for key, values in filters.items():
        if isinstance(values, str):
            values = [values]
        if key == "status" and c.state.state_string() not in values:
            return False
        if key == "name" and not any(v.lstrip("/") in c.name for v in values):
            return False
        if key == "id" and not any(c.id.startswith(v) for v in values):
            return False
        if key == "ancestor" and not any(v in (c.config.get("Image"), c.image) for v in values):
            return False
        if key == "label":
            labels = c.config.get("Labels") or {}
            for v in values:
                k, _, val = v.partition("=")
                if k not in labels or (val and labels[k] != val):
                    return False
        if key == "exited" and not (
            not c.state.running and c.state.started_at and str(c.state.exit_code) in values
        ):
            return False
    return True
