"""Every flag of `docker run` / `docker create` (Docker 20.10), parsed and validated with the
CLI's own texts, into the daemon's create arguments.

Three kinds of error, as the docker CLI has them: a flag value its `Set` refuses (pflag:
`invalid argument "X" for "--f" flag: ...`, raised as FlagError), one `parse()` refuses after
all flags are read (`docker: ....` + `See 'docker run --help'.`, raised as ParseError), and
the daemon's own checks (dockerlayers.daemon.hostconfig). What the model honours and what it
only records is listed in docs/differences.md.

docker/cli 20.10: cli/command/container/opts.go (addFlags, parse), create.go (pull,
platform, cidfile), run.go (run-only flags), opts/{opts,env,file,parse,ulimit,
throttledevice,weightdevice,gpus}.go, docker/go-units ulimit.go
"""

from __future__ import annotations

import os
import re
from typing import Any

from dockerlayers._record import Record
from dockerlayers.cli.commands.runopts import (  # noqa: F401 - the value checks, re-exported
    _CGROUP_RULE,
    _DOMAIN,
    _SYSCTLS,
    _ULIMITS,
    ParseError,
    _bad,
    _device_path,
    _parse_int,
    _path_error,
    kv_map,
    parse_gpus,
    parse_kv_file,
    parse_ulimit,
    validate_attach,
    validate_device_cgroup_rule,
    validate_dns_search,
    validate_extra_host,
    validate_ip,
    validate_label,
    validate_link,
    validate_sysctl,
    validate_throttle_bps,
    validate_throttle_iops,
    validate_weight_device,
)
from dockerlayers.cli.flags import Flag, Parsed

_CGROUPNS_HELP = """Cgroup namespace to use (host|private)
'host':    Run the container in the Docker host's cgroup namespace
'private': Run the container in its own private cgroup namespace
'':        Use the cgroup namespace as configured by the
           default-cgroupns-mode option on the daemon (default)"""


def _s(name: str, help: str, short: str = "", type_name: str = "", **kw: Any) -> Flag:
    return Flag(name, short, "string", help=help, type_name=type_name, **kw)


def _l(name: str, help: str, short: str = "", type_name: str = "", **kw: Any) -> Flag:
    return Flag(name, short, "list", help=help, type_name=type_name, **kw)


def _i(name: str, help: str, short: str = "", **kw: Any) -> Flag:
    return Flag(name, short, "int", help=help, **kw)


def _b(name: str, help: str, short: str = "", **kw: Any) -> Flag:
    return Flag(name, short, "bool", help=help, **kw)


def _d(name: str, help: str) -> Flag:
    return Flag(name, "", "duration", help=help, type_name="duration")


def container_flags() -> list[Flag]:
    """opts.go addFlags: the flags `run` and `create` share, with 20.10's help texts
    (pflag prints them sorted; hidden ones are the old spellings --dns-opt, --net,
    --net-alias)."""
    return [
        # general purpose
        _l("attach", "Attach to STDIN, STDOUT or STDERR", "a"),
        _l("device-cgroup-rule", "Add a rule to the cgroup allowed devices list"),
        _l("device", "Add a host device to the container"),
        _s(
            "gpus",
            "GPU devices to add to the container ('all' to pass all GPUs)",
            type_name="gpu-request",
        ),
        _l("env", "Set environment variables", "e"),
        _l("env-file", "Read in a file of environment variables"),
        _s("entrypoint", "Overwrite the default ENTRYPOINT of the image"),
        _l("group-add", "Add additional groups to join"),
        _s("hostname", "Container host name", "h"),
        _s("domainname", "Container NIS domain name"),
        _b("interactive", "Keep STDIN open even if not attached", "i"),
        _l("label", "Set meta data on a container", "l"),
        _l("label-file", "Read in a line delimited file of labels"),
        _b("read-only", "Mount the container's root filesystem as read only"),
        _s("restart", "Restart policy to apply when a container exits", default="no"),
        _s("stop-signal", "Signal to stop a container", default="SIGTERM"),
        _i("stop-timeout", "Timeout (in seconds) to stop a container"),
        _l("sysctl", "Sysctl options (default map[])", type_name="map"),
        _b("tty", "Allocate a pseudo-TTY", "t"),
        _l("ulimit", "Ulimit options (default [])", type_name="ulimit"),
        _s("user", "Username or UID (format: <name|uid>[:<group|gid>])", "u"),
        _s("workdir", "Working directory inside the container", "w"),
        _b("rm", "Automatically remove the container when it exits"),
        # security
        _l("cap-add", "Add Linux capabilities"),
        _l("cap-drop", "Drop Linux capabilities"),
        _b("privileged", "Give extended privileges to this container"),
        _l("security-opt", "Security Options"),
        _s("userns", "User namespace to use"),
        _s("cgroupns", _CGROUPNS_HELP),
        # network and port publishing
        _l("add-host", "Add a custom host-to-IP mapping (host:ip)"),
        _l("dns", "Set custom DNS servers"),
        _l("dns-opt", "Set DNS options", hidden=True),
        _l("dns-option", "Set DNS options"),
        _l("dns-search", "Set custom DNS search domains"),
        _l("expose", "Expose a port or a range of ports"),
        _s("ip", "IPv4 address (e.g., 172.30.100.104)"),
        _s("ip6", "IPv6 address (e.g., 2001:db8::33)"),
        _l("link", "Add link to another container"),
        _l("link-local-ip", "Container IPv4/IPv6 link-local addresses"),
        _s("mac-address", "Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
        _l("publish", "Publish a container's port(s) to the host", "p"),
        _b("publish-all", "Publish all exposed ports to random ports", "P"),
        _s("net", "Connect a container to a network", type_name="network", hidden=True),
        _s("network", "Connect a container to a network", type_name="network"),
        _l("net-alias", "Add network-scoped alias for the container", hidden=True),
        _l("network-alias", "Add network-scoped alias for the container"),
        # logging and storage
        _s("log-driver", "Logging driver for the container"),
        _s("volume-driver", "Optional volume driver for the container"),
        _l("log-opt", "Log driver options"),
        _l("storage-opt", "Storage driver options for the container"),
        _l("tmpfs", "Mount a tmpfs directory"),
        _l("volumes-from", "Mount volumes from the specified container(s)"),
        _l("volume", "Bind mount a volume", "v"),
        _l("mount", "Attach a filesystem mount to the container", type_name="mount"),
        # health-checking
        _s("health-cmd", "Command to run to check health"),
        _d("health-interval", "Time between running the check (ms|s|m|h) (default 0s)"),
        _i("health-retries", "Consecutive failures needed to report unhealthy"),
        _d("health-timeout", "Maximum time to allow one check to run (ms|s|m|h) (default 0s)"),
        _d(
            "health-start-period",
            "Start period for the container to initialize before starting health-retries "
            "countdown (ms|s|m|h) (default 0s)",
        ),
        _b("no-healthcheck", "Disable any container-specified HEALTHCHECK"),
        # resource management
        _s(
            "blkio-weight",
            "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)",
            type_name="uint16",
        ),
        _l("blkio-weight-device", "Block IO weight (relative device weight) (default [])"),
        _s("cidfile", "Write the container ID to the file"),
        _s("cpuset-cpus", "CPUs in which to allow execution (0-3, 0,1)"),
        _s("cpuset-mems", "MEMs in which to allow execution (0-3, 0,1)"),
        _i("cpu-period", "Limit CPU CFS (Completely Fair Scheduler) period"),
        _i("cpu-quota", "Limit CPU CFS (Completely Fair Scheduler) quota"),
        _i("cpu-rt-period", "Limit CPU real-time period in microseconds"),
        _i("cpu-rt-runtime", "Limit CPU real-time runtime in microseconds"),
        _i("cpu-shares", "CPU shares (relative weight)", "c"),
        _s("cpus", "Number of CPUs", type_name="decimal"),
        _l("device-read-bps", "Limit read rate (bytes per second) from a device (default [])"),
        _l("device-read-iops", "Limit read rate (IO per second) from a device (default [])"),
        _l("device-write-bps", "Limit write rate (bytes per second) to a device (default [])"),
        _l("device-write-iops", "Limit write rate (IO per second) to a device (default [])"),
        _s("kernel-memory", "Kernel memory limit", type_name="bytes"),
        _s("memory", "Memory limit", "m", type_name="bytes"),
        _s("memory-reservation", "Memory soft limit", type_name="bytes"),
        _s(
            "memory-swap",
            "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
            type_name="bytes",
        ),
        _i("memory-swappiness", "Tune container memory swappiness (0 to 100)", default=-1),
        _b("oom-kill-disable", "Disable OOM Killer"),
        _i("oom-score-adj", "Tune host's OOM preferences (-1000 to 1000)"),
        _i("pids-limit", "Tune container pids limit (set -1 for unlimited)"),
        # low-level execution
        _s("cgroup-parent", "Optional parent cgroup for the container"),
        _s("ipc", "IPC mode to use"),
        _s("isolation", "Container isolation technology"),
        _s("pid", "PID namespace to use"),
        _s("shm-size", "Size of /dev/shm", type_name="bytes"),
        _s("uts", "UTS namespace to use"),
        _s("runtime", "Runtime to use for this container"),
        _b("init", "Run an init inside the container that forwards signals and reaps processes"),
    ]


def create_flags(command: str) -> list[Flag]:
    """run.go / create.go: the command's own flags, then addFlags."""
    verb = "running" if command == "run" else "creating"
    own = [
        _s("name", "Assign a name to the container"),
        _s("pull", f'Pull image before {verb} ("always"|"missing"|"never")', default="missing"),
        # run/create add a visible --help without -h (that is --hostname's)
        _b("help", "Print usage"),
        _s(
            "platform",
            "Set platform if server is multi-platform capable",
            default=os.environ.get("DOCKER_DEFAULT_PLATFORM", ""),
        ),
        _b("disable-content-trust", "Skip image verification", default=True),
    ]
    if command == "run":
        own = [
            _b("detach", "Run container in background and print container ID", "d"),
            _b("sig-proxy", "Proxy received signals to the process", default=True),
            *own[:1],
            _s("detach-keys", "Override the key sequence for detaching a container"),
            *own[1:],
        ]
    return [*own, *container_flags()]


# -- flag values (pflag Set: `invalid argument "X" for "--f" flag: ...`) ------------------------
def _flag_values(p: Parsed) -> dict[str, Any]:
    """Every value pflag's Set would check, checked in the order of the flag table."""
    from dockerlayers.cli.commands.runtime import mem_bytes, nano_cpus, parse_mount

    def each(dest: str, flag: str, fn: Any) -> list[Any]:
        out = []
        for v in p.values.get(dest) or []:
            try:
                out.append(fn(v))
            except ValueError as e:
                raise _bad(flag, v, str(e)) from None
        return out

    v: dict[str, Any] = {}
    v["attach"] = each("attach", "-a, --attach", validate_attach)
    v["device_cgroup_rules"] = each(
        "device_cgroup_rule", "--device-cgroup-rule", validate_device_cgroup_rule
    )
    if p.gpus:
        try:
            v["gpus"] = [parse_gpus(p.gpus)]
        except ValueError as e:
            raise _bad("--gpus", p.gpus, str(e)) from None
    v["labels"] = each("label", "-l, --label", validate_label)
    v["sysctls"] = each("sysctl", "--sysctl", validate_sysctl)
    ulimits: dict[str, dict[str, Any]] = {}
    for u in each("ulimit", "--ulimit", parse_ulimit):
        ulimits[u["Name"]] = u
    v["ulimits"] = list(ulimits.values())
    v["extra_hosts"] = each("add_host", "--add-host", validate_extra_host)
    v["dns"] = each("dns", "--dns", validate_ip)
    v["dns_search"] = each("dns_search", "--dns-search", validate_dns_search)
    v["links"] = each("link", "--link", validate_link)
    if p.blkio_weight:
        try:
            weight = _parse_int(p.blkio_weight, "ParseUint")
            if not 0 <= weight <= 65535:
                raise ValueError(
                    f'strconv.ParseUint: parsing "{p.blkio_weight}": value out of range'
                )
        except ValueError as e:
            raise _bad("--blkio-weight", p.blkio_weight, str(e)) from None
        v["blkio_weight"] = weight
    v["blkio_weight_device"] = each(
        "blkio_weight_device", "--blkio-weight-device", validate_weight_device
    )
    for dest, fn in (
        ("device_read_bps", validate_throttle_bps),
        ("device_read_iops", validate_throttle_iops),
        ("device_write_bps", validate_throttle_bps),
        ("device_write_iops", validate_throttle_iops),
    ):
        v[dest] = each(dest, "--" + dest.replace("_", "-"), fn)
    for dest, flag in (
        ("kernel_memory", "--kernel-memory"),
        ("memory", "-m, --memory"),
        ("memory_reservation", "--memory-reservation"),
        ("shm_size", "--shm-size"),
    ):
        if p.values.get(dest):
            v[dest] = mem_bytes(flag, p.values[dest])
    if p.memory_swap:
        v["memory_swap"] = (
            -1 if p.memory_swap == "-1" else mem_bytes("--memory-swap", p.memory_swap)
        )
    if p.cpus:
        v["cpus"] = nano_cpus(p.cpus)
    v["mounts"] = [parse_mount(m) for m in p.mount]
    return v


# -- parse(): Config and HostConfig ------------------------------------------------------------
class RunOptions(Record):
    """What `run`/`create` do with the flags: the daemon's create arguments (CreateConfig's
    names; `host_config` and `config` in the Engine API's), and the client's own options.
    (A plain record: `ps` and `inspect` import this module, and dataclasses cost them.)"""

    _fields = ("kwargs", "cidfile", "pull", "platform", "attach", "warnings")

    def __init__(
        self,
        kwargs: dict[str, Any],
        cidfile: str = "",
        pull: str = "missing",
        platform: str = "",
        attach: set[str] | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.kwargs = kwargs
        self.cidfile = cidfile
        self.pull = pull
        self.platform = platform
        self.attach = set() if attach is None else attach
        self.warnings = [] if warnings is None else warnings


def _valid_mac(text: str) -> bool:
    """net.ParseMAC: 6, 8 or 20 octets, `:`/`-` separated pairs or `.`-separated quads."""
    t = text.strip()
    for sep in ":-":
        parts = t.split(sep)
        if len(parts) in (6, 8, 20) and all(re.fullmatch(r"[0-9a-fA-F]{2}", x) for x in parts):
            return True
    parts = t.split(".")
    return len(parts) in (3, 4, 10) and all(re.fullmatch(r"[0-9a-fA-F]{4}", x) for x in parts)


def _expose(values: list[str]) -> list[str]:
    """`--expose port[-end][/proto]` as port keys."""
    out = []
    for e in values:
        if ":" in e:
            raise ParseError(f"invalid port format for --expose: {e}")
        port, _, proto = e.partition("/")
        proto = proto or "tcp"
        start, dash, end = port.partition("-")
        try:
            lo = _parse_int(start, "ParseUint")
            hi = _parse_int(end, "ParseUint") if dash else lo
            if lo < 0 or hi < 0:
                raise ValueError(f'strconv.ParseUint: parsing "{port}": invalid syntax')
            if hi < lo:
                raise ValueError(f"Invalid range specified for the Port: {port}")
        except ValueError as err:
            raise ParseError(f"invalid range format for --expose: {e}, error: {err}") from None
        out.extend(f"{i}/{proto}" for i in range(lo, hi + 1))
    return out


def _validate_device(value: str) -> dict[str, str]:
    """validateLinuxPath + parseLinuxDevice: `host[:container][:rwm]`."""
    import posixpath

    def mode_ok(m: str) -> bool:
        return bool(m) and all(c in "rwm" for c in m) and len(set(m)) == len(m)

    if value.count(":") > 2 or not value.split(":", 1)[0]:
        raise ParseError(f"bad format for path: {value}")
    split = value.split(":")
    if len(split) == 1:
        target = split[0]
    elif len(split) == 2:
        target = split[0] if mode_ok(split[1]) else split[1]
    else:
        target = split[1]
        if not mode_ok(split[2]):
            raise ParseError(f"bad mode specified: {split[2]}")
    if not target.startswith("/"):
        raise ParseError(f"{target} is not an absolute path")
    src, dst, perms = split[0], "", "rwm"
    if len(split) >= 2:
        if mode_ok(split[1]):
            perms = split[1]
        else:
            dst = split[1]
    if len(split) == 3:
        perms = split[2]
        dst = split[1]
    if len(split) == 1:
        src = posixpath.normpath(src)
    return {"PathOnHost": src, "PathInContainer": dst or src, "CgroupPermissions": perms}


def _mode_valid(kind: str, value: str) -> bool:
    """api/types/container hostconfig.go PidMode/UTSMode/UsernsMode/CgroupnsMode.Valid."""
    parts = value.split(":")
    if kind == "pid":
        return parts[0] in ("", "host") or (
            parts[0] == "container" and len(parts) == 2 and bool(parts[1])
        )
    if kind == "uts":
        return parts[0] in ("", "host")
    if kind == "userns":
        return value == "" or parts[0] == "host"
    return value in ("", "host", "private")


def _security_opts(values: list[str]) -> tuple[list[str], bool]:
    """parseSecurityOpts + parseSystemPaths: a seccomp profile is read (compacted JSON);
    `systempaths=unconfined` is the client's, and empties the masked/read-only paths."""
    import json

    out, unconfined = [], False
    for opt in values:
        key, eq, val = opt.partition("=")
        if not eq and opt != "no-new-privileges":
            if ":" in opt:
                key, _, val = opt.partition(":")
            else:
                raise ParseError(f'Invalid --security-opt: "{opt}"')
        if key == "seccomp" and val != "unconfined":
            try:
                with open(val, "rb") as f:
                    text = f.read()
            except OSError as e:
                raise ParseError(
                    f"opening seccomp profile ({val}) failed: {_path_error('open', val, e)}"
                ) from None
            try:
                profile = json.loads(text)
            except ValueError as e:
                raise ParseError(
                    f"compacting json for seccomp profile ({val}) failed: {e}"
                ) from None
            opt = "seccomp=" + json.dumps(profile, separators=(",", ":"))
        if opt == "systempaths=unconfined":
            unconfined = True
            continue
        out.append(opt)
    return out, unconfined


def _health(p: Parsed) -> dict[str, Any] | None:
    """The healthcheck flags as Config.Healthcheck (nanoseconds)."""
    have = bool(
        p.health_cmd
        or p.health_interval
        or p.health_timeout
        or p.health_start_period
        or p.health_retries
    )
    if p.no_healthcheck:
        if have:
            raise ParseError("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    if not have:
        return None
    for name in ("interval", "timeout", "retries", "start_period"):
        if p.values[f"health_{name}"] < 0:
            raise ParseError(f"--health-{name.replace('_', '-')} cannot be negative")
    hc: dict[str, Any] = {}
    if p.health_cmd:
        hc["Test"] = ["CMD-SHELL", p.health_cmd]
    for key, dest in (
        ("Interval", "interval"),
        ("Timeout", "timeout"),
        ("StartPeriod", "start_period"),
    ):
        ns = round(p.values[f"health_{dest}"] * 1_000_000_000)
        if ns:
            hc[key] = ns
    if p.health_retries:
        hc["Retries"] = p.health_retries
    return hc


def _parse_restart(policy: str) -> dict[str, Any]:
    """opts.ParseRestartPolicy."""
    parts = policy.split(":")
    if len(parts) > 2:
        raise ParseError("invalid restart policy format")
    count = 0
    if len(parts) == 2:
        try:
            count = int(parts[1])
        except ValueError:
            raise ParseError("maximum retry count must be an integer") from None
    return {"Name": parts[0], "MaximumRetryCount": count}


def parse(p: Parsed, command: str) -> RunOptions:
    """opts.go parse: the flags as the daemon's create arguments; FlagError for a value a
    flag refuses, ParseError for the rest (Docker's order)."""
    from dockerlayers.cli.commands.runtime import parse_publish

    v = _flag_values(p)
    attach = set(v["attach"])
    if p.mac_address and not _valid_mac(p.mac_address):
        raise ParseError(f"{p.mac_address} is not a valid mac address")
    if p.interactive:
        attach.add("stdin")
    if not v["attach"]:
        attach |= {"stdout", "stderr"}
    swappiness = p.memory_swappiness
    if swappiness != -1 and not 0 <= swappiness <= 100:
        raise ParseError(f"invalid value: {swappiness}. Valid memory swappiness range is 0-100")
    ports = parse_publish(p.publish) if p.publish else {}
    exposed = _expose(p.expose)
    devices = [_validate_device(d) for d in p.device]
    env = [*_env_files(p.env_file), *_env(p.env)]
    labels = [*(x for f in p.label_file for x in parse_kv_file(f, lookup=False)), *v["labels"]]
    for kind, text, what in (
        ("pid", p.pid, "PID"),
        ("uts", p.uts, "UTS"),
        ("userns", p.userns, "USER"),
        ("cgroupns", p.cgroupns, "CGROUP"),
    ):
        if not _mode_valid(kind, text):
            raise ParseError(f"--{kind}: invalid {what} mode")
    policy = _parse_restart(p.restart)
    log_opts = kv_map(p.log_opt)
    if p.log_driver == "none" and p.log_opt:
        raise ParseError(f"invalid logging opts for driver {p.log_driver}")
    security, unconfined = _security_opts(p.security_opt)
    storage: dict[str, str] = {}
    for opt in p.storage_opt:
        if "=" not in opt:
            raise ParseError("invalid storage option")
        k, _, val = opt.partition("=")
        storage[k] = val
    health = _health(p)
    if p.rm and policy["Name"] not in ("", "no"):
        raise ParseError("Conflicting options: --restart and --rm")

    kwargs: dict[str, Any] = {
        "name": p.name or None,
        "environment": env or None,
        "working_dir": p.workdir or None,
        "hostname": p.hostname or None,
        "user": p.user or None,
        "labels": kv_map(labels) or None,
        "restart_policy": policy,
        "auto_remove": p.rm and (command == "create" or p.detach),
        "volumes": list(p.volume) or None,
        "tty": p.tty,
    }
    if p.entrypoint:
        kwargs["entrypoint"] = [p.entrypoint]
    elif "entrypoint" in p.changed:
        kwargs["entrypoint"] = [""]
    if "stop_signal" in p.changed:
        kwargs["stop_signal"] = p.stop_signal
    if "stop_timeout" in p.changed:
        kwargs["stop_timeout"] = p.stop_timeout
    if v["mounts"]:
        kwargs["mounts"] = v["mounts"]
    if p.read_only:
        kwargs["read_only"] = True
    if p.tmpfs:
        kwargs["tmpfs"] = list(p.tmpfs)
    if "init" in p.changed:
        kwargs["init"] = p.init
    if ports:
        kwargs["ports"] = ports
    if v.get("memory"):
        kwargs["mem_limit"] = v["memory"]
    if v.get("cpus"):
        kwargs["nano_cpus"] = v["cpus"]
    if p.privileged:
        kwargs["privileged"] = True

    detached = command == "run" and p.detach
    config: dict[str, Any] = {
        "AttachStdin": "stdin" in attach and not detached,
        "AttachStdout": "stdout" in attach and not detached,
        "AttachStderr": "stderr" in attach and not detached,
        "OpenStdin": p.interactive,
        "StdinOnce": p.interactive and "stdin" in attach and not detached,
    }
    if p.domainname:
        config["Domainname"] = p.domainname
    if p.mac_address:
        config["MacAddress"] = p.mac_address
    if health is not None:
        config["Healthcheck"] = health
    if exposed:
        config["ExposedPorts"] = {
            **{k: {} for k in exposed},
            **{k: {} for k in sorted(ports)},
        }
    network = p.network or p.net
    hc: dict[str, Any] = {
        "ContainerIDFile": p.cidfile,
        "OomScoreAdj": p.oom_score_adj,
        "PublishAllPorts": p.publish_all,
        "Dns": v["dns"],
        "DnsOptions": [*p.dns_opt, *p.dns_option],
        "DnsSearch": v["dns_search"],
        "ExtraHosts": v["extra_hosts"] or None,
        "VolumesFrom": list(p.volumes_from) or None,
        "Links": v["links"] or None,
        "CapAdd": list(p.cap_add) or None,
        "CapDrop": list(p.cap_drop) or None,
        "GroupAdd": list(p.group_add) or None,
        "SecurityOpt": security or None,
        "VolumeDriver": p.volume_driver,
        "Isolation": p.isolation,
        "Runtime": p.runtime,
        "CgroupParent": p.cgroup_parent,
        "CpuShares": p.cpu_shares,
        "CpuPeriod": p.cpu_period,
        "CpuQuota": p.cpu_quota,
        "CpuRealtimePeriod": p.cpu_rt_period,
        "CpuRealtimeRuntime": p.cpu_rt_runtime,
        "CpusetCpus": p.cpuset_cpus,
        "CpusetMems": p.cpuset_mems,
        "BlkioWeight": v.get("blkio_weight", 0),
        "BlkioWeightDevice": v["blkio_weight_device"],
        "BlkioDeviceReadBps": v["device_read_bps"] or None,
        "BlkioDeviceWriteBps": v["device_write_bps"] or None,
        "BlkioDeviceReadIOps": v["device_read_iops"] or None,
        "BlkioDeviceWriteIOps": v["device_write_iops"] or None,
        "Devices": devices,
        "DeviceCgroupRules": v["device_cgroup_rules"] or None,
        "DeviceRequests": v.get("gpus"),
        "KernelMemory": v.get("kernel_memory", 0),
        "MemoryReservation": v.get("memory_reservation", 0),
        "MemorySwappiness": swappiness,
        "OomKillDisable": p.oom_kill_disable,
        "PidsLimit": p.pids_limit,
        "Ulimits": v["ulimits"] or None,
        "ShmSize": v.get("shm_size", 0),
        "IpcMode": p.ipc,
        "PidMode": p.pid,
        "UTSMode": p.uts,
        "UsernsMode": p.userns,
        "CgroupnsMode": p.cgroupns,
        "LogConfig": {"Type": p.log_driver, "Config": log_opts},
        "NetworkMode": network or "default",
    }
    if "memory_swap" in v:
        hc["MemorySwap"] = v["memory_swap"]
    if p.sysctl:
        hc["Sysctls"] = kv_map(v["sysctls"])
    if storage:
        hc["StorageOpt"] = storage
    if unconfined:
        hc["MaskedPaths"] = []
        hc["ReadonlyPaths"] = []
    kwargs["host_config"] = hc
    kwargs["config"] = config
    return RunOptions(
        kwargs=kwargs,
        cidfile=p.cidfile,
        pull=p.pull,
        platform=p.platform,
        attach=set() if detached else attach,
    )


def _env(values: list[str]) -> list[str]:
    """opts.ValidateEnv: `KEY` alone takes the host's value when it has one."""
    out = []
    for v in values:
        if "=" not in v and v in os.environ:
            v = f"{v}={os.environ[v]}"
        out.append(v)
    return out


def _env_files(files: list[str]) -> list[str]:
    return [x for f in files for x in parse_kv_file(f, lookup=True)]


# -- createContainer: cidfile, pull policy, platform ---------------------------------------------
def check_cidfile(path: str) -> None:
    """newCIDFile: refuse a file that exists (before the container is made)."""
    if path and os.path.lexists(path):
        raise CIDFileError(
            f"container ID file found, make sure the other container isn't running or delete {path}"
        )


def write_cidfile(path: str, cid: str) -> None:
    """cidFile.Write: the ID, no newline."""
    if not path:
        return
    try:
        with open(path, "x") as f:
            f.write(cid)
    except OSError as e:
        raise CIDFileError(
            f"failed to create the container ID file: {_path_error('open', path, e)}"
        ) from None


class CIDFileError(Exception):
    """newCIDFile's refusal (`create`: the error alone, exit 1; `run`: reported, 125)."""


def check_platform(text: str) -> str:
    """containerd platforms.Parse of `--platform` (`os[/arch[/variant]]`), lower-cased;
    PlatformError `error parsing specified platform: ...` for a malformed one."""
    parts = text.split("/")
    for part in parts:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", part):
            raise PlatformError(
                f'error parsing specified platform: "{text}": platform specifier component '
                'must match "^[A-Za-z0-9_-]+$": invalid argument'
            )
    if len(parts) > 3:
        raise PlatformError(
            f'error parsing specified platform: "{text}": cannot parse platform specifier: '
            "invalid argument"
        )
    return text.lower()


class PlatformError(Exception):
    """createContainer's refusal of a malformed `--platform`."""
