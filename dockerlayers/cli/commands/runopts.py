"""The value checks of `docker run`/`create`'s flags, with the CLI's own texts (a value its
`Set` refuses: pflag's `invalid argument "X" for "--f" flag: ...`, raised as FlagError).

docker/cli 20.10: opts/{opts,env,file,parse,ulimit,throttledevice,weightdevice,gpus}.go,
docker/go-units ulimit.go
"""

from __future__ import annotations

import os
import re
from typing import Any

from dockerlayers.cli.flags import FlagError


class ParseError(Exception):
    """An error of opts.go parse(): reported as `docker: <err>.` with the usage hint, 125."""


def _path_error(op: str, path: str, e: OSError) -> str:
    """Go's *PathError text: `open /x: no such file or directory`."""
    return f"{op} {path}: {(e.strerror or str(e)).lower()}"


def _bad(flag: str, value: str, why: str) -> FlagError:
    return FlagError(f'invalid argument "{value}" for "{flag}" flag: {why}')


#: go-units ulimitNameMapping
_ULIMITS = {
    "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
    "rss", "rtprio", "rttime", "sigpending", "stack",
}  # fmt: skip


def _parse_int(text: str, func: str = "ParseInt") -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f'strconv.{func}: parsing "{text}": invalid syntax')
    return int(text)


def parse_ulimit(value: str) -> dict[str, Any]:
    """go-units ParseUlimit: `name=soft[:hard]` as the API's {Name, Hard, Soft}."""
    name, eq, limits = value.partition("=")
    if not eq:
        raise ValueError(f"invalid ulimit argument: {value}")
    if name not in _ULIMITS:
        raise ValueError(f"invalid ulimit type: {name}")
    parts = limits.split(":")
    if len(parts) > 2:
        raise ValueError(
            f"too many limit value arguments - {limits}, can only have up to two, `soft[:hard]`"
        )
    hard = _parse_int(parts[1]) if len(parts) == 2 else None
    soft = _parse_int(parts[0])
    if hard is None:
        hard = soft
    if hard != -1 and soft > hard:
        raise ValueError(
            f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        )
    return {"Name": name, "Hard": hard, "Soft": soft}


def validate_ip(value: str) -> str:
    """opts.ValidateIPAddress: the address in Go's canonical form."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        raise ValueError(f"{value} is not an ip address") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def validate_extra_host(value: str) -> str:
    """opts.ValidateExtraHost: `host:ip` (or `host:host-gateway`)."""
    host, colon, ip = value.partition(":")
    if not colon or not host:
        raise ValueError(f'bad format for add-host: "{value}"')
    if ip != "host-gateway":
        try:
            validate_ip(ip)
        except ValueError:
            raise ValueError(f'invalid IP address in add-host: "{ip}"') from None
    return value


_DOMAIN = re.compile(
    r"^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9]))"
    r"(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])))*)\.?\s*$"
)


def validate_dns_search(value: str) -> str:
    """opts.ValidateDNSSearch / validateDomain."""
    value = value.strip(" ")
    if value == ".":
        return value
    m = _DOMAIN.match(value)
    if not re.search("[a-zA-Z]", value) or not m or len(m.group(1)) >= 255:
        raise ValueError(f"{value} is not a valid domain")
    return m.group(1)


def validate_label(value: str) -> str:
    """opts.ValidateLabel: a key, without whitespace."""
    key = value.split("=", 1)[0].lstrip(" \t")
    if not key:
        raise ValueError(f"invalid label '{value}': empty name")
    if any(c in key for c in " \t"):
        raise ValueError(f"label '{key}' contains whitespaces")
    return value


_SYSCTLS = {
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
}


def validate_sysctl(value: str) -> str:
    """opts.ValidateSysctl: the namespaced sysctls Docker allows."""
    parts = value.split("=")
    if len(parts) < 2 or not (parts[0] in _SYSCTLS or parts[0].startswith(("net.", "fs.mqueue."))):
        raise ValueError(f"sysctl '{value}' is not whitelisted")
    return value


def validate_link(value: str) -> str:
    """opts.ParseLink: `name[:alias]`."""
    if not value:
        raise ValueError("empty string specified for links")
    if len(value.split(":")) > 2:
        raise ValueError(f"bad format for links: {value}")
    return value


def _device_path(value: str) -> tuple[str, str]:
    path, colon, rest = value.partition(":")
    if not colon:
        raise ValueError(f"bad format: {value}")
    if not path.startswith("/dev/"):
        raise ValueError(f"bad format for device path: {value}")
    return path, rest


def validate_weight_device(value: str) -> dict[str, Any]:
    """opts.ValidateWeightDevice: `/dev/x:weight` (10 to 1000, or 0)."""
    path, rest = _device_path(value)
    try:
        weight = _parse_int(rest, "ParseUint")
        if weight < 0 or weight > 65535 or (weight and not 10 <= weight <= 1000):
            raise ValueError
    except ValueError:
        raise ValueError(f"invalid weight for device: {value}") from None
    return {"Path": path, "Weight": weight}


def validate_throttle_bps(value: str) -> dict[str, Any]:
    """opts.ValidateThrottleBpsDevice: `/dev/x:rate[unit]`."""
    from dockerlayers.image.units import parse_ram_bytes

    path, rest = _device_path(value)
    try:
        rate = parse_ram_bytes(rest)
        if rate < 0:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"invalid rate for device: {value}. The correct format is "
            "<device-path>:<number>[<unit>]. Number must be a positive integer. "
            "Unit is optional and can be kb, mb, or gb"
        ) from None
    return {"Path": path, "Rate": rate}


def validate_throttle_iops(value: str) -> dict[str, Any]:
    """opts.ValidateThrottleIOpsDevice: `/dev/x:rate`."""
    path, rest = _device_path(value)
    try:
        rate = _parse_int(rest, "ParseUint")
        if rate < 0:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"invalid rate for device: {value}. The correct format is "
            "<device-path>:<number>. Number must be a positive integer"
        ) from None
    return {"Path": path, "Rate": rate}


_CGROUP_RULE = re.compile(r"^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$")


def validate_device_cgroup_rule(value: str) -> str:
    if not _CGROUP_RULE.match(value):
        raise ValueError(f"invalid device cgroup format '{value}'")
    return value


def validate_attach(value: str) -> str:
    s = value.lower()
    if s not in ("stdin", "stdout", "stderr"):
        raise ValueError("valid streams are STDIN, STDOUT and STDERR")
    return s


def parse_gpus(value: str) -> dict[str, Any]:
    """opts.GpuOpts.Set: `all`, `2`, `device=0,1`, `driver=..,capabilities=..`."""
    import csv

    def count(text: str) -> int:
        if text == "all":
            return -1
        try:
            return _parse_int(text, "Atoi")
        except ValueError as e:
            raise ValueError(f"count must be an integer: {e}") from None

    fields = next(csv.reader([value]), [])
    req: dict[str, Any] = {
        "Driver": "",
        "Count": 0,
        "DeviceIDs": None,
        "Capabilities": None,
        "Options": None,
    }
    seen: set[str] = set()
    for f in fields:
        key, eq, val = f.partition("=")
        if key in seen:
            raise ValueError(f"gpu request key '{key}' can be specified only once")
        seen.add(key)
        if not eq:
            seen.add("count")
            req["Count"] = count(key)
        elif key == "driver":
            req["Driver"] = val
        elif key == "count":
            req["Count"] = count(val)
        elif key == "device":
            req["DeviceIDs"] = val.split(",")
        elif key == "capabilities":
            req["Capabilities"] = [[*val.split(","), "gpu"]]
        elif key == "options":
            req["Options"] = kv_map(next(csv.reader([val]), []))
        else:
            raise ValueError(f"unexpected key '{key}' in '{f}'")
    if "count" not in seen and req["DeviceIDs"] is None:
        req["Count"] = 1
    req["Options"] = req["Options"] or {}
    req["Capabilities"] = req["Capabilities"] or [["gpu"]]
    return req


def kv_map(values: list[str]) -> dict[str, str]:
    """opts.ConvertKVStringsToMap: `k=v` (a bare `k` is k="")."""
    out: dict[str, str] = {}
    for v in values:
        k, _, val = v.partition("=")
        out[k] = val
    return out


def parse_kv_file(path: str, lookup: bool) -> list[str]:
    """opts.parseKeyValueFile: `KEY=value` lines (value as written), `#` comments and blank
    lines skipped; a bare `KEY` takes the host's value when `lookup` (env files) and it is
    set, else it is dropped."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ParseError(_path_error("open", path, e)) from None
    out = []
    for n, raw in enumerate(data.split(b"\n")):
        raw = raw.removesuffix(b"\r")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            listing = " ".join(str(b) for b in raw)
            raise ParseError(
                f"env file {path} contains invalid utf8 bytes at line {n + 1}: [{listing}]"
            ) from None
        if n == 0:
            text = text.removeprefix("\ufeff")
        line = text.lstrip()
        if not line or line.startswith("#"):
            continue
        variable, eq, value = line.partition("=")
        variable = variable.lstrip(" \t\n\v\f\r")
        if any(c in variable for c in " \t\n\v\f\r"):
            raise ParseError(
                f"poorly formatted environment: variable '{variable}' contains whitespaces"
            )
        if not variable:
            raise ParseError(f"poorly formatted environment: no variable name on line '{line}'")
        if eq:
            out.append(f"{variable}={value}")
        elif lookup and line.strip() in os.environ:
            out.append(f"{line.strip()}={os.environ[line.strip()]}")
    return out
