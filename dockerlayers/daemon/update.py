"""`docker update`: change a container's restart policy and resource limits.

The resources are recorded in hostconfig.json as Docker records them; the model has no
cgroups, so they do not limit anything (docs/differences.md). The restart policy takes
effect: the restart manager gets the new one.

moby: daemon/update.go ContainerUpdate / update, container/container.go UpdateContainer
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dockerlayers.daemon.restartmanager import validate_restart_policy
from dockerlayers.errors import InvalidParameter

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

#: HostConfig resource fields `docker update` may set (api/types/container Resources).
RESOURCES = (
    "CpuShares",
    "Memory",
    "NanoCpus",
    "CpuPeriod",
    "CpuQuota",
    "CpuRealtimePeriod",
    "CpuRealtimeRuntime",
    "CpusetCpus",
    "CpusetMems",
    "KernelMemory",
    "MemoryReservation",
    "MemorySwap",
    "PidsLimit",
    "BlkioWeight",
)


def update(
    daemon: Daemon,
    ref: str,
    restart_policy: dict[str, Any] | None = None,
    resources: dict[str, Any] | None = None,
) -> list[str]:
    """Update `ref`; returns the warnings (none in the model).

    moby: daemon/update.go ContainerUpdate
    """
    from dockerlayers.daemon.restartmanager import RestartManager

    with daemon.operation(ref) as c:
        if restart_policy is not None and restart_policy.get("Name"):
            validate_restart_policy(restart_policy)
            if c.host_config.get("AutoRemove") and restart_policy["Name"] != "no":
                raise InvalidParameter(
                    f"Cannot update container {c.id}: Restart policy cannot be updated "
                    "because AutoRemove is enabled for the container"
                )
        if c.state.removal_in_progress or c.state.dead:
            raise InvalidParameter(
                f"Cannot update container {c.id}: container is marked for removal and cannot "
                'be "update"'
            )
        for key, value in (resources or {}).items():
            if key in RESOURCES and value is not None:
                c.host_config[key] = value
        if restart_policy is not None and restart_policy.get("Name"):
            policy = {
                "Name": restart_policy["Name"],
                "MaximumRetryCount": int(restart_policy.get("MaximumRetryCount") or 0),
            }
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
        return []
