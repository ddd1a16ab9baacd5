"""The daemon's checks and defaults of a new container's HostConfig (the fields `docker run`
sends beyond the ones the model acts on): Docker's refusals with its texts, and the values
Docker stores in their place (PidsLimit 0 -> null, MemorySwappiness -1 -> null, the default
log driver, `label=disable` for a host PID/IPC namespace, `container:<id>` modes).

moby 20.10: api/server/router/container/container_routes.go postContainersCreate,
runconfig/hostconfig_unix.go validateIsolation, daemon/container.go validateHostConfig,
daemon/daemon_unix.go verifyPlatformContainerResources / verifyPlatformContainerSettings /
adaptContainerSettings, daemon/logs.go mergeAndVerifyLogConfig, daemon/logger/*
(ValidateLogOpt), daemon/volumes.go registerMountPoints (VolumesFrom)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from dockerlayers.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

MIN_MEMORY = 6 * 1024 * 1024  # linuxMinMemory

#: 20.10's built-in log drivers (daemon/logger/*); others are plugins the model has none of
LOG_DRIVERS = (
    "json-file",
    "local",
    "none",
    "journald",
    "syslog",
    "gelf",
    "fluentd",
    "awslogs",
    "splunk",
    "gcplogs",
    "logentries",
)
#: the options json-file and local accept (jsonfilelog.ValidateLogOpt, local.LogOptKeys)
_LOG_OPTS = {
    "json-file": ("max-file", "max-size", "compress", "labels", "labels-regex", "env",
                  "env-regex", "tag"),
    "local": ("max-file", "max-size", "compress"),
}  # fmt: skip
#: options every driver takes (logger builtInLogOpts, the log cache's)
_BUILTIN_LOG_OPTS = (
    "mode",
    "max-buffer-size",
    "cache-disabled",
    "cache-max-file",
    "cache-max-size",
    "cache-compress",
)


def verify(daemon: Daemon, hc: dict[str, Any]) -> None:
    """verifyContainerSettings + mergeAndVerifyLogConfig for what the CLI sends; the first
    refusal as InvalidParameter (NotFound for a container that is not there)."""
    if hc.get("Isolation") not in (None, "", "default"):
        raise InvalidParameter(
            f"Invalid isolation: \"{hc['Isolation']}\" - linux only supports 'default'"
        )
    _verify_resources(hc)
    if (hc.get("ShmSize") or 0) < 0:
        raise InvalidParameter("SHM size can not be less than 0")
    adj = hc.get("OomScoreAdj") or 0
    if not -1000 <= adj <= 1000:
        raise InvalidParameter(f"Invalid value {adj}, range for oom score adj is [-1000, 1000]")
    if hc.get("Runtime") not in (None, "", "runc", "io.containerd.runc.v2"):
        raise InvalidParameter(f"Unknown runtime specified {hc['Runtime']}")
    if hc.get("CgroupnsMode") not in (None, "", "host", "private"):
        raise InvalidParameter(f"invalid cgroup namespace mode: {hc['CgroupnsMode']}")
    for key in ("IpcMode", "PidMode"):
        mode = hc.get(key) or ""
        if mode.startswith("container:"):
            daemon.get_container(mode.partition(":")[2])  # NotFound: No such container: x
    for link in hc.get("Links") or []:
        name = link.split(":")[0].lstrip("/")
        try:
            daemon.get_container(name)
        except NotFound as e:
            raise NotFound(f"could not get container for {name}: {e}") from None
    _verify_log_config(hc.get("LogConfig") or {})


def _verify_resources(hc: dict[str, Any]) -> None:
    """verifyPlatformContainerResources: the checks that do not depend on the host's
    cgroups (a kernel without a controller makes Docker drop the setting with a warning;
    the model keeps it, docs/differences.md)."""
    memory = hc.get("Memory") or 0
    swap = hc.get("MemorySwap") or 0
    if memory and memory < MIN_MEMORY:
        raise InvalidParameter("Minimum memory limit allowed is 6MB")
    if memory > 0 and swap > 0 and swap < memory:
        raise InvalidParameter(
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        )
    if memory == 0 and swap > 0:
        raise InvalidParameter(
            "You should always set the Memory limit when using Memoryswap limit, see usage"
        )
    swappiness = hc.get("MemorySwappiness")
    if swappiness is not None and swappiness != -1 and not 0 <= swappiness <= 100:
        raise InvalidParameter(
            f"Invalid value: {swappiness}, valid memory swappiness range is 0-100"
        )
    reservation = hc.get("MemoryReservation") or 0
    if reservation and reservation < MIN_MEMORY:
        raise InvalidParameter("Minimum memory reservation allowed is 6MB")
    if memory > 0 and reservation > 0 and memory < reservation:
        raise InvalidParameter(
            "Minimum memory limit can not be less than memory reservation limit, see usage"
        )
    kernel = hc.get("KernelMemory") or 0
    if kernel and kernel < MIN_MEMORY:
        raise InvalidParameter("Minimum kernel memory limit allowed is 6MB")
    nano = hc.get("NanoCpus") or 0
    period, quota = hc.get("CpuPeriod") or 0, hc.get("CpuQuota") or 0
    if nano > 0 and period > 0:
        raise InvalidParameter("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if nano > 0 and quota > 0:
        raise InvalidParameter("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    ncpu = os.cpu_count() or 1
    if nano < 0 or nano > ncpu * 1_000_000_000:
        raise InvalidParameter(
            f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )
    if period and not 1000 <= period <= 1_000_000:
        raise InvalidParameter(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
        )
    if 0 < quota < 1000:
        raise InvalidParameter("CPU cfs quota can not be less than 1ms (i.e. 1000)")


def _verify_log_config(cfg: dict[str, Any]) -> None:
    """logger.ValidateLogOpts for the drivers the model knows."""
    driver = cfg.get("Type") or "json-file"
    opts = cfg.get("Config") or {}
    if driver == "none":
        return
    if driver not in LOG_DRIVERS:
        raise InvalidParameter(
            f'error looking up logging plugin {driver}: plugin "{driver}" not found'
        )
    mode = opts.get("mode", "")
    if mode not in ("", "blocking", "non-blocking"):
        raise InvalidParameter(f"logger: logging mode not supported: {mode}")
    allowed = _LOG_OPTS.get(driver)
    if allowed is None:
        return
    for key in opts:
        if key in _BUILTIN_LOG_OPTS or key in allowed:
            continue
        if driver == "local":
            raise InvalidParameter(f"unknown log opt '{key}' for log driver local")
        raise InvalidParameter(f"unknown log opt '{key}' for {driver} log driver")


def adapt(daemon: Daemon, hc: dict[str, Any]) -> None:
    """What Docker stores for what was sent: the API router's and adaptContainerSettings'
    defaults, and `container:<name>` namespace modes resolved to the container's ID."""
    if hc.get("PidsLimit") is not None and hc["PidsLimit"] <= 0:
        hc["PidsLimit"] = None
    if hc.get("MemorySwappiness") == -1:
        hc["MemorySwappiness"] = None
    if not hc.get("ShmSize"):
        hc["ShmSize"] = 67108864
    if not hc.get("IpcMode"):
        hc["IpcMode"] = "private"
    if not hc.get("CgroupnsMode"):
        hc["CgroupnsMode"] = "host"
    if not hc.get("Runtime"):
        hc["Runtime"] = "runc"
    log = hc.get("LogConfig") or {}
    hc["LogConfig"] = {"Type": log.get("Type") or "json-file", "Config": log.get("Config") or {}}
    for key in ("PidMode", "IpcMode"):
        mode = hc.get(key) or ""
        if mode.startswith("container:"):
            hc[key] = "container:" + daemon.get_container(mode.partition(":")[2]).id
    if hc.get("IpcMode") == "host" or hc.get("PidMode") == "host":
        opts = list(hc.get("SecurityOpt") or [])
        if "label=disable" not in opts:
            hc["SecurityOpt"] = [*opts, "label=disable"]


def volumes_from(daemon: Daemon, specs: list[str] | None) -> dict[str, dict[str, Any]]:
    """The mount points of `--volumes-from container[:ro|rw]`, copied from each container
    (read-only when asked), as registerMountPoints' step 2."""
    points: dict[str, dict[str, Any]] = {}
    for spec in specs or []:
        name, _, mode = spec.partition(":")
        if mode not in ("", "ro", "rw", "z", "Z"):
            raise InvalidParameter(f"malformed volumes-from specification: {spec}")
        try:
            source = daemon.get_container(name)
        except NotFound as e:
            raise InvalidParameter(str(e)) from None
        for dst, mp in source.mount_points.items():
            if mp["Type"] not in ("volume", "bind"):
                continue
            points[dst] = {**mp, "RW": bool(mp["RW"]) and mode != "ro", "Spec": dict(mp["Spec"])}
    return points
