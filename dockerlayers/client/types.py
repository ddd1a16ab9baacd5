"""docker-py's run/create options turned into the Engine API's Config and HostConfig.

docker-py builds these dicts on the client (docker/types/containers.py HostConfig,
ContainerConfig) and refuses wrong types there, with its own texts; so does this module.
`split_run_kwargs` sorts the keyword arguments as docker-py's `_create_container_args` does.

docker-py: docker/models/containers.py (RUN_CREATE_KWARGS, RUN_HOST_CONFIG_KWARGS),
docker/types/containers.py, docker/utils/utils.py (parse_bytes, convert_port_bindings)
"""

from __future__ import annotations

from typing import Any

from dockerlayers.errors import (
    DockerException,
    InvalidArgument,
    create_unexpected_kwargs_error,
)

RUN_CREATE_KWARGS = [
    "command",
    "detach",
    "domainname",
    "entrypoint",
    "environment",
    "healthcheck",
    "hostname",
    "image",
    "labels",
    "mac_address",
    "name",
    "network_disabled",
    "platform",
    "stdin_open",
    "stop_signal",
    "tty",
    "use_config_proxy",
    "user",
    "working_dir",
]

RUN_HOST_CONFIG_KWARGS = [
    "auto_remove",
    "blkio_weight_device",
    "blkio_weight",
    "cap_add",
    "cap_drop",
    "cgroup_parent",
    "cgroupns",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_shares",
    "cpuset_cpus",
    "cpuset_mems",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "device_cgroup_rules",
    "device_read_bps",
    "device_read_iops",
    "device_write_bps",
    "device_write_iops",
    "devices",
    "device_requests",
    "dns_opt",
    "dns_search",
    "dns",
    "extra_hosts",
    "group_add",
    "init",
    "init_path",
    "ipc_mode",
    "isolation",
    "kernel_memory",
    "links",
    "log_config",
    "lxc_conf",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "mounts",
    "nano_cpus",
    "network_mode",
    "oom_kill_disable",
    "oom_score_adj",
    "pid_mode",
    "pids_limit",
    "privileged",
    "publish_all_ports",
    "read_only",
    "restart_policy",
    "security_opt",
    "shm_size",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "ulimits",
    "userns_mode",
    "uts_mode",
    "version",
    "volume_driver",
    "volumes_from",
    "runtime",
]

BYTE_UNITS = {"b": 1, "k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024}


def type_error(param: str, value: Any, expected: str) -> TypeError:
    """docker-py: docker/types/containers.py host_config_type_error"""
    return TypeError(f"Invalid type for {param} param: expected {expected} but found {type(value)}")


def value_error(param: str, value: Any) -> ValueError:
    """docker-py: host_config_value_error"""
    return ValueError(f"Invalid value for {param} param: {value}")


def parse_bytes(s: int | float | str) -> int | float:
    """`128m` -> 134217728, as docker-py's utils.parse_bytes."""
    if isinstance(s, (int, float)):
        return s
    if len(s) == 0:
        return 0
    if s[-2:-1].isalpha() and s[-1].isalpha() and s[-1] in "bB":
        s = s[:-1]
    suffix = s[-1].lower()
    if suffix.isdigit():
        digits_part, suffix = s, "b"
    else:
        digits_part = s[:-1]
    if suffix not in BYTE_UNITS:
        raise DockerException(
            f"The specified value for memory ({s}) should specify the units. "
            "The postfix should be one of the `b` `k` `m` `g` characters"
        )
    try:
        digits = float(digits_part)
    except ValueError as e:
        raise DockerException(
            f"Failed converting the string value for memory ({digits_part}) to an integer."
        ) from e
    return int(digits * BYTE_UNITS[suffix])


def convert_port_bindings(ports: dict[Any, Any]) -> dict[str, list[dict[str, str]]]:
    """{'2222/tcp': 3333 | None | ('ip', port) | [p1, p2]} -> the API's PortBindings.

    docker-py: docker/utils/ports.py, utils.convert_port_bindings
    """
    out: dict[str, list[dict[str, str]]] = {}
    for key, value in ports.items():
        key = str(key)
        if "/" not in key:
            key += "/tcp"
        values = value if isinstance(value, list) else [value]
        rows = []
        for v in values:
            if v is None:
                rows.append({"HostIp": "", "HostPort": ""})
            elif isinstance(v, tuple):
                ip = v[0]
                port = str(v[1]) if len(v) > 1 and v[1] is not None else ""
                rows.append({"HostIp": ip, "HostPort": port})
            else:
                rows.append({"HostIp": "", "HostPort": str(v)})
        out[key] = rows
    return out


def convert_volume_binds(binds: dict[str, Any] | list[str]) -> list[str]:
    """docker-py: utils.convert_volume_binds ({'/host': {'bind': '/c', 'mode': 'ro'}})."""
    if isinstance(binds, list):
        return list(binds)
    result = []
    for k, v in binds.items():
        if isinstance(k, bytes):
            k = k.decode("utf-8")
        if isinstance(v, dict):
            if "ro" in v and "mode" in v:
                raise ValueError(f'Binding cannot contain both "ro" and "mode": {v!r}')
            bind = v["bind"]
            if isinstance(bind, bytes):
                bind = bind.decode("utf-8")
            mode = ("ro" if v["ro"] else "rw") if "ro" in v else v.get("mode", "rw")
            result.append(f"{k}:{bind}:{mode}")
        else:
            if isinstance(v, bytes):
                v = v.decode("utf-8")
            result.append(f"{k}:{v}:rw")
    return result


def _ulimit(u: Any) -> dict[str, Any]:
    if isinstance(u, dict):
        return {"Name": u.get("Name", u.get("name")), "Soft": u.get("Soft", u.get("soft")),
                "Hard": u.get("Hard", u.get("hard"))}  # fmt: skip
    raise type_error("ulimits", u, "Ulimit")


def host_config(**kw: Any) -> dict[str, Any]:
    """The API HostConfig docker-py sends for these options (only what was given).

    docker-py: docker/types/containers.py HostConfig.__init__
    """
    hc: dict[str, Any] = {}
    ints = {
        "cpu_quota": "CpuQuota",
        "cpu_period": "CpuPeriod",
        "cpu_shares": "CpuShares",
        "cpu_rt_period": "CPURealtimePeriod",
        "cpu_rt_runtime": "CPURealtimeRuntime",
        "blkio_weight": "BlkioWeight",
        "pids_limit": "PidsLimit",
        "cpu_count": "CpuCount",
        "cpu_percent": "CpuPercent",
        "nano_cpus": "NanoCpus",
        "mem_swappiness": "MemorySwappiness",
        "oom_score_adj": "OomScoreAdj",
    }
    for arg, key in ints.items():
        v = kw.get(arg)
        if v is None:
            continue
        if not isinstance(v, int):
            raise type_error(arg, v, "int")
        if v or arg in ("mem_swappiness", "pids_limit"):
            hc[key] = v
    for arg, key in (("mem_limit", "Memory"), ("memswap_limit", "MemorySwap")):
        if kw.get(arg) is not None:
            hc[key] = parse_bytes(kw[arg])
    for arg, key in (("mem_reservation", "MemoryReservation"), ("kernel_memory", "KernelMemory")):
        if kw.get(arg):
            hc[key] = parse_bytes(kw[arg])
    if kw.get("shm_size") is not None:
        v = kw["shm_size"]
        hc["ShmSize"] = parse_bytes(v) if isinstance(v, str) else v
    for arg, key in (
        ("pid_mode", "PidMode"),
        ("ipc_mode", "IpcMode"),
        ("privileged", "Privileged"),
        ("oom_kill_disable", "OomKillDisable"),
        ("publish_all_ports", "PublishAllPorts"),
        ("dns_search", "DnsSearch"),
        ("cap_add", "CapAdd"),
        ("cap_drop", "CapDrop"),
        ("cgroup_parent", "CgroupParent"),
        ("storage_opt", "StorageOpt"),
        ("init_path", "InitPath"),
        ("volume_driver", "VolumeDriver"),
        ("runtime", "Runtime"),
        ("mounts", "Mounts"),
        ("cgroupns", "CgroupnsMode"),
        ("blkio_weight_device", "BlkioWeightDevice"),
        ("device_read_bps", "BlkioDeviceReadBps"),
        ("device_write_bps", "BlkioDeviceWriteBps"),
        ("device_read_iops", "BlkioDeviceReadIOps"),
        ("device_write_iops", "BlkioDeviceWriteIOps"),
        ("tmpfs", "Tmpfs"),
    ):
        if kw.get(arg):
            hc[key] = kw[arg]
    for arg in ("blkio_weight_device", "device_read_bps", "device_write_bps",
                "device_read_iops", "device_write_iops"):  # fmt: skip
        if kw.get(arg) and not isinstance(kw[arg], list):
            raise type_error(arg, kw[arg], "list")
    if isinstance(hc.get("Tmpfs"), list):
        hc["Tmpfs"] = dict((t.split(":", 1) + [""])[:2] for t in hc["Tmpfs"])
    for arg, key in (("read_only", "ReadonlyRootfs"), ("auto_remove", "AutoRemove"),
                     ("init", "Init"), ("dns", "Dns"), ("dns_opt", "DnsOptions")):  # fmt: skip
        if kw.get(arg) is not None:
            hc[key] = kw[arg]
    if hc.get("AutoRemove") is False:
        hc.pop("AutoRemove")
    if kw.get("network_mode") == "host" and kw.get("port_bindings"):
        raise InvalidArgument('"host" network_mode is incompatible with port_bindings')
    hc["NetworkMode"] = kw.get("network_mode") or "default"
    if kw.get("restart_policy"):
        if not isinstance(kw["restart_policy"], dict):
            raise type_error("restart_policy", kw["restart_policy"], "dict")
        hc["RestartPolicy"] = kw["restart_policy"]
    if kw.get("devices"):
        hc["Devices"] = [_device(d) for d in kw["devices"]]
    if kw.get("group_add"):
        hc["GroupAdd"] = [str(g) for g in kw["group_add"]]
    if kw.get("security_opt") is not None:
        if not isinstance(kw["security_opt"], list):
            raise type_error("security_opt", kw["security_opt"], "list")
        hc["SecurityOpt"] = kw["security_opt"]
    if kw.get("sysctls"):
        if not isinstance(kw["sysctls"], dict):
            raise type_error("sysctls", kw["sysctls"], "dict")
        hc["Sysctls"] = {k: str(v) for k, v in kw["sysctls"].items()}
    if kw.get("volumes_from") is not None:
        vf = kw["volumes_from"]
        hc["VolumesFrom"] = vf.split(",") if isinstance(vf, str) else vf
    if kw.get("binds") is not None:
        hc["Binds"] = convert_volume_binds(kw["binds"])
    if kw.get("port_bindings") is not None:
        hc["PortBindings"] = convert_port_bindings(kw["port_bindings"])
    if kw.get("extra_hosts") is not None:
        eh = kw["extra_hosts"]
        hc["ExtraHosts"] = [f"{k}:{v}" for k, v in eh.items()] if isinstance(eh, dict) else eh
    if kw.get("links") is not None:
        links = kw["links"]
        items = links.items() if isinstance(links, dict) else links
        hc["Links"] = [f"{k}:{v}" if v else k for k, v in sorted(items)]
    if isinstance(kw.get("lxc_conf"), dict):
        hc["LxcConf"] = [{"Key": k, "Value": str(v)} for k, v in kw["lxc_conf"].items()]
    elif kw.get("lxc_conf") is not None:
        hc["LxcConf"] = kw["lxc_conf"]
    if kw.get("ulimits") is not None:
        if not isinstance(kw["ulimits"], list):
            raise type_error("ulimits", kw["ulimits"], "list")
        hc["Ulimits"] = [_ulimit(u) for u in kw["ulimits"]]
    if kw.get("log_config") is not None:
        lc = kw["log_config"]
        if not isinstance(lc, dict):
            raise type_error("log_config", lc, "LogConfig")
        hc["LogConfig"] = {
            "Type": lc.get("Type", lc.get("type", "json-file")),
            "Config": lc.get("Config", lc.get("config")) or {},
        }
    for arg, key in (("cpuset_cpus", "CpusetCpus"), ("cpuset_mems", "CpusetMems")):
        if kw.get(arg):
            if arg == "cpuset_mems" and not isinstance(kw[arg], str):
                raise type_error(arg, kw[arg], "str")
            hc[key] = kw[arg]
    for arg, key in (("userns_mode", "UsernsMode"), ("uts_mode", "UTSMode")):
        if kw.get(arg):
            if kw[arg] != "host":
                raise value_error(arg, kw[arg])
            hc[key] = kw[arg]
    if kw.get("isolation"):
        if not isinstance(kw["isolation"], str):
            raise type_error("isolation", kw["isolation"], "string")
        hc["Isolation"] = kw["isolation"]
    if kw.get("device_cgroup_rules") is not None:
        if not isinstance(kw["device_cgroup_rules"], list):
            raise type_error("device_cgroup_rules", kw["device_cgroup_rules"], "list")
        hc["DeviceCgroupRules"] = kw["device_cgroup_rules"]
    if kw.get("device_requests") is not None:
        if not isinstance(kw["device_requests"], list):
            raise type_error("device_requests", kw["device_requests"], "list")
        hc["DeviceRequests"] = [dict(r) for r in kw["device_requests"]]
    return hc


def _device(d: Any) -> dict[str, str]:
    """docker-py: utils.parse_devices ("/dev/sda:/dev/xvda:rwm")."""
    if isinstance(d, dict):
        return d
    if not isinstance(d, str):
        raise DockerException(f"Invalid device type {type(d)}")
    parts = d.split(":")
    src = parts[0]
    dst = parts[1] if len(parts) > 1 and parts[1] else src
    perms = parts[2] if len(parts) > 2 else "rwm"
    return {"PathOnHost": src, "PathInContainer": dst, "CgroupPermissions": perms}


def host_volume_from_bind(bind: str) -> str:
    """The container side of a "src:dst[:mode]" bind. docker-py: _host_volume_from_bind"""
    bits = bind.split(":", 1)
    if len(bits) == 1 or bits[1] in ("ro", "rw"):
        return bits[0]
    if bits[1].endswith(":ro") or bits[1].endswith(":rw"):
        return bits[1][:-3]
    return bits[1]


def split_run_kwargs(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Config-side options, HostConfig-side options) of run/create's keyword arguments;
    an unknown one is docker-py's TypeError.

    docker-py: docker/models/containers.py _create_container_args
    """
    kwargs = dict(kwargs)
    create = {k: kwargs.pop(k) for k in list(kwargs) if k in RUN_CREATE_KWARGS}
    host = {k: kwargs.pop(k) for k in list(kwargs) if k in RUN_HOST_CONFIG_KWARGS}
    ports = kwargs.pop("ports", {})
    if ports:
        host["port_bindings"] = ports
    volumes = kwargs.pop("volumes", {})
    if volumes:
        host["binds"] = volumes
    network = kwargs.pop("network", None)
    networking_config = kwargs.pop("networking_config", None)
    if network:
        host["network_mode"] = network
        create["networking_config"] = networking_config
    for extra in ("stop_timeout",):  # the model's own extras beyond docker-py
        if extra in kwargs:
            create[extra] = kwargs.pop(extra)
    if kwargs:
        raise create_unexpected_kwargs_error("run", kwargs)
    return create, host


__all__ = [
    "RUN_CREATE_KWARGS",
    "RUN_HOST_CONFIG_KWARGS",
    "convert_port_bindings",
    "convert_volume_binds",
    "host_config",
    "parse_bytes",
    "split_run_kwargs",
]
