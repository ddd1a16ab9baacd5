"""`docker update`: change a container's restart policy and resource limits.

The resources are recorded in hostconfig.json as Docker records them; the model has no
cgroups, so they do not limit anything (docs/differences.md). The restart policy takes
effect: the restart manager gets the new one (its restart count kept).

moby: daemon/update.go ContainerUpdate / update, container/container.go UpdateContainer
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dockerlayers.daemon.restartmanager import (
    RestartManager,
    parse_restart_policy,
    validate_restart_policy,
)
from dockerlayers.errors import InvalidParameter

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

#: HostConfig resource fields `docker update` may set (api/types/container Resources).
RESOURCES = (
    "BlkioWeight",
    "CpuPeriod",
    "CpuQuota",
    "CpuShares",
    "CpusetCpus",
    "CpusetMems",
    "Memory",
    "MemoryReservation",
    "MemorySwap",
    "KernelMemory",
    "NanoCpus",
    "PidsLimit",
    "CpuRealtimePeriod",
    "CpuRealtimeRuntime",
)


def update(
    daemon: Daemon,
    ref: str,
    resources: dict[str, Any] | None = None,
    restart_policy: str | dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Update `ref`: {"Warnings": []} (the model has none to give).

    moby: daemon/update.go ContainerUpdate
    """
    resources = resources or {}
    with daemon.operation(ref) as c:
        unknown = sorted(k for k in resources if k not in RESOURCES)
        if unknown:
            raise InvalidParameter(f"unknown resource field(s): {', '.join(unknown)}")
        policy = None
        if restart_policy is not None and restart_policy != {}:
            policy = parse_restart_policy(restart_policy)
            validate_restart_policy(policy)
            if c.host_config.get("AutoRemove") and policy["Name"] != "no":
                raise InvalidParameter(
                    f"Cannot update container {c.id}: Restart policy cannot be updated "
                    "because AutoRemove is enabled for the container"
                )
        if c.state.removal_in_progress or c.state.dead:
            raise InvalidParameter(
                f"Cannot update container {c.id}: container is marked for removal and cannot "
                'be "update"'
            )
        for key, value in resources.items():
            if value is not None:
                c.host_config[key] = value
        if policy is not None:
            c.host_config["RestartPolicy"] = policy
            rt = daemon.runtime_of(c)
            old = rt.restart
            rt.restart = RestartManager(policy)
            if old is not None:
                rt.restart.restart_count = old.restart_count
            daemon.save_runtime(c.id)
        c.write_host_config()
        c.checkpoint()
        daemon.events.log("container", "update", c.id, daemon.attrs(c))
        return {"Warnings": []}
