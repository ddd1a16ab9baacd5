"""`docker inspect` of a container, `docker diff` and `docker info`.

moby: daemon/inspect.go ContainerInspect, daemon/changes.go ContainerChanges,
daemon/info.go SystemInfo
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dockerlayers.container.container import Container
from dockerlayers.containerd.ids import shown_image_id
from dockerlayers.daemon.volumes import inspect_mount
from dockerlayers.errors import APIError
from dockerlayers.process.clock import format_rfc3339nano

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def inspect(daemon: Daemon, ref: str, size: bool = False) -> dict[str, Any]:
    """`docker inspect` of a container (20.10's fields; the paths are empty until the
    first start).

    moby: daemon/inspect.go ContainerInspect
    """
    with daemon.operation(ref, check_open=False) as c:
        rw = daemon.rw_layers.get(c.id)  # None: a container whose mount did not load
        started = c.has_been_started_before
        data: dict[str, Any] = {
            "Id": c.id,
            "Created": format_rfc3339nano(c.created),
            "Path": c.path,
            "Args": list(c.args),
            "State": c.state.inspect(),
            "Image": shown_image_id(daemon, c.image),
            "ResolvConfPath": c.resolv_conf_path if started else "",
            "HostnamePath": c.hostname_path if started else "",
            "HostsPath": c.hosts_path if started else "",
            "LogPath": c.log_path if started else "",
            "Name": c.name,
            "RestartCount": c.restart_count,
            "Driver": c.driver,
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": None,
            "HostConfig": c.host_config,
            "GraphDriver": {"Data": graph_driver_data(daemon, c), "Name": daemon.driver.name},
            "Mounts": [inspect_mount(mp) for _, mp in sorted(c.mount_points.items())],
            "Config": c.config,
            "NetworkSettings": c.to_json()["NetworkSettings"],
        }
        if size and rw is not None:
            size_rw = rw.size()
            parent = rw.parent
            data["SizeRw"] = size_rw
            data["SizeRootFs"] = size_rw + (parent.size() if parent is not None else 0)
        return data


def graph_driver_data(daemon: Daemon, c: Container) -> dict[str, str] | None:
    """overlay2: LowerDir (init + image layers), MergedDir, UpperDir, WorkDir.

    moby: daemon/inspect.go (GraphDriver.Data from the RW layer's Metadata; a dead
    container's metadata may be gone already, its error is ignored)
    """
    rw = daemon.rw_layers.get(c.id)
    if rw is None:
        return None
    try:
        return rw.metadata()
    except OSError:
        if not c.state.dead:
            raise
        return None


def changes(daemon: Daemon, ref: str) -> list[dict[str, Any]]:
    """`docker diff`: the RW layer's changes against the init layer.

    moby: daemon/changes.go ContainerChanges
    """
    with daemon.operation(ref, check_open=False) as c:
        rw = daemon.rw_layers.get(c.id)
        if rw is None:  # its mount record did not load (restore kept it, Dead)
            raise APIError(c.state.error or f"container {c.id} has no RW layer", 500)
        return [ch.to_api() for ch in rw.changes()]


def info(daemon: Daemon) -> dict[str, Any]:
    """`docker info` (the parts this model has).

    moby: daemon/info.go SystemInfo
    """
    with daemon.lock:
        states = [c.state.state_string() for c in daemon.containers.values()]
        return {
            "Containers": len(states),
            "ContainersRunning": sum(s in ("running", "restarting") for s in states),
            "ContainersPaused": states.count("paused"),
            "ContainersStopped": sum(s in ("exited", "created", "dead") for s in states),
            "Images": len(daemon.image_service.image_store.map()),
            "Driver": daemon.driver.name,
            "DriverStatus": [list(row) for row in daemon.driver.status()],
            "DockerRootDir": daemon.root,
            "OperatingSystem": "dockerlayers (simulated processes)",
            "OSType": "linux",
            "Architecture": "x86_64",
            "LoggingDriver": "json-file",
            "ServerVersion": "20.10.24-dockerlayers",
            "KernelOverlay": getattr(daemon.driver, "use_kernel", False),
        }
