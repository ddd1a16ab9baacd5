"""docker-py's HostConfig, NetworkingConfig and EndpointConfig: dicts of the Engine API's
names, built and checked on the client as docker-py builds them (its type, value and
version errors, in its words). The conversions are dockerlayers.client.types.host_config,
which the high-level `containers.create` shares.

docker-py: docker/types/containers.py HostConfig, docker/types/networks.py
"""

from __future__ import annotations

from typing import Any

from dockerlayers.client.api.client import version_lt
from dockerlayers.client.types import host_config
from dockerlayers.errors import InvalidVersion

#: HostConfig's keyword arguments after `version`, in docker-py 7.1's order (positional
#: arguments map onto these)
HOST_CONFIG_ARGS = [
    "binds",
    "port_bindings",
    "lxc_conf",
    "publish_all_ports",
    "links",
    "privileged",
    "dns",
    "dns_search",
    "volumes_from",
    "network_mode",
    "restart_policy",
    "cap_add",
    "cap_drop",
    "devices",
    "extra_hosts",
    "read_only",
    "pid_mode",
    "ipc_mode",
    "security_opt",
    "ulimits",
    "log_config",
    "mem_limit",
    "memswap_limit",
    "mem_reservation",
    "kernel_memory",
    "mem_swappiness",
    "cgroup_parent",
    "group_add",
    "cpu_quota",
    "cpu_period",
    "blkio_weight",
    "blkio_weight_device",
    "device_read_bps",
    "device_write_bps",
    "device_read_iops",
    "device_write_iops",
    "oom_kill_disable",
    "shm_size",
    "sysctls",
    "tmpfs",
    "oom_score_adj",
    "dns_opt",
    "cpu_shares",
    "cpuset_cpus",
    "userns_mode",
    "uts_mode",
    "pids_limit",
    "isolation",
    "auto_remove",
    "storage_opt",
    "init",
    "init_path",
    "volume_driver",
    "cpu_count",
    "cpu_percent",
    "nano_cpus",
    "cpuset_mems",
    "runtime",
    "mounts",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "device_cgroup_rules",
    "device_requests",
    "cgroupns",
]

#: argument -> the API version that introduced it (docker-py's host_config_version_error)
_MIN_VERSION = {
    "oom_score_adj": "1.22",
    "blkio_weight": "1.22",
    "blkio_weight_device": "1.22",
    "device_read_bps": "1.22",
    "device_write_bps": "1.22",
    "device_read_iops": "1.22",
    "device_write_iops": "1.22",
    "tmpfs": "1.22",
    "userns_mode": "1.23",
    "pids_limit": "1.23",
    "isolation": "1.24",
    "storage_opt": "1.24",
    "cpu_rt_period": "1.25",
    "cpu_rt_runtime": "1.25",
    "auto_remove": "1.25",
    "init": "1.25",
    "init_path": "1.25",
    "cpu_count": "1.25",
    "cpu_percent": "1.25",
    "nano_cpus": "1.25",
    "runtime": "1.25",
    "mounts": "1.30",
    "device_cgroup_rules": "1.28",
    "device_requests": "1.40",
}


def host_config_version_error(param: str, version: str, less_than: bool = True) -> InvalidVersion:
    """docker-py: docker/types/containers.py host_config_version_error"""
    operator = "<" if less_than else ">"
    return InvalidVersion(f"{param} param is not supported in API versions {operator} {version}")


class HostConfig(dict):
    """The API's HostConfig for docker-py's keyword arguments (a dict, as docker-py's)."""

    def __init__(self, version: str, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(HOST_CONFIG_ARGS):
            raise TypeError(
                f"HostConfig.__init__() takes from 2 to {len(HOST_CONFIG_ARGS) + 2} "
                f"positional arguments but {len(args) + 2} were given"
            )
        for name, value in zip(HOST_CONFIG_ARGS, args, strict=False):
            if name in kwargs:
                raise TypeError(f"HostConfig.__init__() got multiple values for argument '{name}'")
            kwargs[name] = value
        unknown = sorted(set(kwargs) - set(HOST_CONFIG_ARGS))
        if unknown:
            raise TypeError(
                f"HostConfig.__init__() got an unexpected keyword argument '{unknown[0]}'"
            )
        for name, minimum in _MIN_VERSION.items():
            if kwargs.get(name) and version_lt(version, minimum):
                raise host_config_version_error(name, minimum)
        if kwargs.get("init_path") and not version_lt(version, "1.29"):
            # https://github.com/moby/moby/pull/32470
            raise host_config_version_error("init_path", "1.29", False)
        if kwargs.get("pid_mode") and version_lt(version, "1.24") and kwargs["pid_mode"] != "host":
            raise ValueError(f"Invalid value for pid_mode param: {kwargs['pid_mode']}")
        super().__init__(host_config(**kwargs))


class NetworkingConfig(dict):
    """docker-py: docker/types/networks.py NetworkingConfig"""

    def __init__(self, endpoints_config: dict[str, Any] | None = None) -> None:
        super().__init__()
        if endpoints_config:
            self["EndpointsConfig"] = endpoints_config


class EndpointConfig(dict):
    """docker-py: docker/types/networks.py EndpointConfig (recorded; no networks here)."""

    def __init__(
        self,
        version: str,
        aliases: list[str] | None = None,
        links: Any = None,
        ipv4_address: str | None = None,
        ipv6_address: str | None = None,
        link_local_ips: list[str] | None = None,
        driver_opt: dict[str, str] | None = None,
        mac_address: str | None = None,
    ) -> None:
        super().__init__()
        if version_lt(version, "1.22"):
            raise InvalidVersion("Endpoint config is not supported for API version < 1.22")
        if aliases:
            self["Aliases"] = aliases
        if links:
            items = links.items() if isinstance(links, dict) else links
            self["Links"] = [f"{k}:{v}" if v else k for k, v in sorted(items)]
        ipam: dict[str, Any] = {}
        if ipv4_address:
            ipam["IPv4Address"] = ipv4_address
        if ipv6_address:
            ipam["IPv6Address"] = ipv6_address
        if mac_address:
            if version_lt(version, "1.25"):
                raise InvalidVersion("mac_address is not supported for API version < 1.25")
            self["MacAddress"] = mac_address
        if link_local_ips is not None:
            if version_lt(version, "1.24"):
                raise InvalidVersion("link_local_ips is not supported for API version < 1.24")
            ipam["LinkLocalIPs"] = link_local_ips
        if ipam:
            self["IPAMConfig"] = ipam
        if driver_opt:
            if version_lt(version, "1.32"):
                raise InvalidVersion("DriverOpts is not supported for API version < 1.32")
            if not isinstance(driver_opt, dict):
                raise TypeError("driver_opt must be a dictionary")
            self["DriverOpts"] = driver_opt
