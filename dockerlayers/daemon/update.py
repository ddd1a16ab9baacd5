"""`docker update`: change a container's resources and restart policy.

The model records the resources in HostConfig (nothing enforces them, as with create); the
restart policy takes effect at the next exit.

moby: daemon/update.go ContainerUpdate / update
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

#: The HostConfig fields `docker update` may change (api/types/container Resources).
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
    resources: dict[str, Any],
    restart_policy: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """{"Warnings": []}; the container's HostConfig changed and written to disk.

    moby: daemon/update.go ContainerUpdate
    """
    with daemon.operation(ref) as c:
        unknown = sorted(k for k in resources if k not in RESOURCES)
        if unknown:
            raise InvalidParameter(f"unknown resource field(s): {', '.join(unknown)}")
        if restart_policy is not None:
            policy = parse_restart_policy(restart_policy)
            validate_restart_policy(policy)
            if c.host_config.get("AutoRemove") and policy["Name"] != "no":
                raise InvalidParameter(
                    f"Cannot update container {c.id}: Restart policy cannot be updated "
                    "because AutoRemove is enabled for the container"
                )
        for key, value in resources.items():
            if value is not None:
                c.host_config[key] = value
        if restart_policy is not None:
            c.host_config["RestartPolicy"] = policy
            daemon.runtime_of(c).restart = RestartManager(policy)
            daemon.save_runtime(c.id)
        c.write_host_config()
        c.to_disk()
        daemon.events.log("container", "update", c.id, daemon.attrs(c))
        return {"Warnings": []}
