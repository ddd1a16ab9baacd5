"""Commands on a container's runtime and settings: inspect, update, top, port, attach,
stats; and the units their flags take.

docker/cli 20.10: cli/command/container/{inspect,update,top,port,attach,stats}.go,
opts/opts.go (MemBytes, NanoCPUs), docker/go-units RAMInBytes
"""

from __future__ import annotations

from typing import Any

from dockerlayers.cli.app import CLIError, Command, Env, StatusError, daemon_error
from dockerlayers.cli.commands.common import Attachment, die_events, not_found
from dockerlayers.cli.flags import Flag, FlagError, Parsed
from dockerlayers.errors import DockerException, NotFound


def ram_in_bytes(text: str) -> int:
    """go-units RAMInBytes (see dockerlayers.image.units)."""
    from dockerlayers.image.units import parse_ram_bytes

    return parse_ram_bytes(text)


def mem_bytes(flag: str, text: str) -> int:
    """opts.MemBytes.Set, with pflag's wording of a bad value."""
    try:
        return ram_in_bytes(text)
    except ValueError as e:
        raise FlagError(f'invalid argument "{text}" for "{flag}" flag: {e}') from None


def nano_cpus(text: str) -> int:
    """opts.NanoCPUs.Set: `1.5` -> 1500000000."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text) * 1_000_000_000
    except InvalidOperation:
        raise FlagError(
            f'invalid argument "{text}" for "--cpus" flag: failed to parse {text} as a rational number'  # noqa: E501
        ) from None
    if value != value.to_integral_value():
        raise FlagError(f'invalid argument "{text}" for "--cpus" flag: value is too precise')
    return int(value)


# -- container inspect --------------------------------------------------------------------------
def run_container_inspect(env: Env, p: Parsed) -> int:
    from dockerlayers.cli.commands.system import _inspect_items, _Missing

    with env.client() as client:

        def get(ref: str) -> Any:
            try:
                return client.daemon.inspect(ref, size=p.size)
            except DockerException as e:
                raise _Missing(not_found("container", ref, e)) from None

        return _inspect_items(env, p.args, get, p.format)


# -- update ---------------------------------------------------------------------------------------
_UPDATE_FLAGS = {
    # flag dest: (HostConfig field, kind)
    "blkio_weight": ("BlkioWeight", "int"),
    "cpu_period": ("CpuPeriod", "int"),
    "cpu_quota": ("CpuQuota", "int"),
    "cpu_rt_period": ("CpuRealtimePeriod", "int"),
    "cpu_rt_runtime": ("CpuRealtimeRuntime", "int"),
    "cpu_shares": ("CpuShares", "int"),
    "cpus": ("NanoCpus", "cpus"),
    "cpuset_cpus": ("CpusetCpus", "string"),
    "cpuset_mems": ("CpusetMems", "string"),
    "kernel_memory": ("KernelMemory", "bytes"),
    "memory": ("Memory", "bytes"),
    "memory_reservation": ("MemoryReservation", "bytes"),
    "memory_swap": ("MemorySwap", "swap"),
    "pids_limit": ("PidsLimit", "int"),
}


def run_update(env: Env, p: Parsed) -> int:
    """`update`: every container in turn; `you must provide one or more flags` without any."""
    if not p.changed:
        raise CLIError("you must provide one or more flags when using this command")
    resources: dict[str, Any] = {}
    try:
        for dest, (field, kind) in _UPDATE_FLAGS.items():
            if dest not in p.changed:
                continue
            raw = p.values[dest]
            if kind == "bytes":
                resources[field] = mem_bytes("--" + dest.replace("_", "-"), raw)
            elif kind == "swap":
                resources[field] = -1 if raw == "-1" else mem_bytes("--memory-swap", raw)
            elif kind == "cpus":
                resources[field] = nano_cpus(raw)
            else:
                resources[field] = raw
    except FlagError as e:
        from dockerlayers.cli.app import flag_error

        raise flag_error(_update_cmd(), e) from None
    policy = None
    if "restart" in p.changed:
        name, _, count = p.restart.partition(":")
        try:
            policy = {"Name": name, "MaximumRetryCount": int(count) if count else 0}
        except ValueError:
            raise CLIError("maximum retry count must be an integer") from None
    errs = []
    with env.client() as client:
        for ref in p.args:
            try:
                for w in client.daemon.update(ref, resources, policy)["Warnings"]:
                    env.eprint(w)
            except DockerException as e:
                errs.append(daemon_error(e))
                continue
            env.print(ref)
    if errs:
        raise CLIError("\n".join(errs))
    return 0


# -- top / port -----------------------------------------------------------------------------------
def run_top(env: Env, p: Parsed) -> int:
    from dockerlayers.cli.tabwriter import tabwrite

    ref, ps_args = p.args[0], " ".join(p.args[1:]) or "-ef"
    with env.client() as client:
        try:
            result = client.daemon.top(ref, ps_args)
        except DockerException as e:
            raise CLIError(daemon_error(e)) from None
    lines = ["\t".join(result["Titles"])] + ["\t".join(row) for row in result["Processes"]]
    env.out.write(tabwrite("\n".join(lines) + "\n", minwidth=20, tabwidth=1, padding=3))
    return 0


def run_port(env: Env, p: Parsed) -> int:
    """`port`: the model publishes nothing, so a container has no public port."""
    ref = p.args[0]
    with env.client() as client:
        try:
            info = client.daemon.inspect(ref)
        except DockerException as e:
            raise CLIError(daemon_error(e)) from None
    if len(p.args) > 1:
        port = p.args[1]
        if "/" not in port:
            port += "/tcp"
        raise CLIError(f"Error: No public port '{port}' published for {info['Name'].lstrip('/')}")
    return 0


# -- attach ---------------------------------------------------------------------------------------
def run_attach(env: Env, p: Parsed) -> int:
    """`attach`: the running container's output from now on, and its exit code."""
    ref = p.args[0]
    with env.client() as client:
        try:
            info = client.daemon.inspect(ref)
        except DockerException as e:
            raise CLIError(daemon_error(e)) from None
        state = info["State"]
        if not state["Running"]:
            raise CLIError("You cannot attach to a stopped container, start it first")
        if state["Paused"]:
            raise CLIError("You cannot attach to a paused container, unpause it first")
        if state["Restarting"]:
            raise CLIError("You cannot attach to a restarting container, wait until it is running")
        cid = info["Id"]
        att = Attachment(env, cid, len(die_events(client, cid)), tty=bool(info["Config"]["Tty"]))
        att.skip_existing(client)
        code = att.wait(client)
    if code < 0:
        code = att.poll()
    if code:
        raise StatusError(code)
    return 0


# -- stats ----------------------------------------------------------------------------------------
STATS_TABLE = (
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t"
    "{{.BlockIO}}\t{{.PIDs}}"
)


class StatsContext:
    """One `docker stats` row. The model has no cgroups: CPU, memory and I/O are zero,
    PIDS counts the model's one process of a running container (docs/differences.md)."""

    GO_TYPE = "*formatter.statsContext"
    FIELDS = (
        "BlockIO",
        "CPUPerc",
        "Container",
        "ID",
        "MemPerc",
        "MemUsage",
        "Name",
        "NetIO",
        "PIDs",
    )

    def __init__(self, info: dict[str, Any], ref: str, trunc: bool) -> None:
        self.info = info
        self.ref = ref
        self.trunc = trunc

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name)() for name in sorted(self.FIELDS)}

    def Container(self) -> str:  # noqa: N802
        return self.ref

    def ID(self) -> str:  # noqa: N802
        return self.info["Id"][:12] if self.trunc else self.info["Id"]

    def Name(self) -> str:  # noqa: N802
        return self.info["Name"].lstrip("/")

    def CPUPerc(self) -> str:  # noqa: N802
        return "0.00%"

    def MemUsage(self) -> str:  # noqa: N802
        limit = self.info["HostConfig"].get("Memory") or 0
        if not self.info["State"]["Running"]:
            return "0B / 0B"
        from dockerlayers.cli.formatter import human_size

        return f"0B / {_binary_size(limit) if limit else human_size(0)}"

    def MemPerc(self) -> str:  # noqa: N802
        return "0.00%"

    def NetIO(self) -> str:  # noqa: N802
        return "0B / 0B"

    def BlockIO(self) -> str:  # noqa: N802
        return "0B / 0B"

    def PIDs(self) -> str:  # noqa: N802
        return "1" if self.info["State"]["Running"] else "0"


def _binary_size(n: float) -> str:
    """go-units BytesSize: `64MiB`."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    i = 0
    while n >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return f"{n:.4g}{units[i]}"


def run_stats(env: Env, p: Parsed) -> int:
    """`stats`: one snapshot (the model has no live stream: `--no-stream` is implied)."""
    from dockerlayers.cli.formatter import Header, render
    from dockerlayers.cli.templates import TemplateError

    header = Header(
        ID="CONTAINER ID",
        Container="CONTAINER",
        Name="NAME",
        CPUPerc="CPU %",
        MemUsage="MEM USAGE / LIMIT",
        MemPerc="MEM %",
        NetIO="NET I/O",
        BlockIO="BLOCK I/O",
        PIDs="PIDS",
    )
    rows, errs = [], []
    with env.client() as client:
        if p.args:
            for ref in p.args:
                try:
                    rows.append(StatsContext(client.daemon.inspect(ref), ref, not p.no_trunc))
                except NotFound:
                    errs.append(f"Error response from daemon: No such container: {ref}")
        else:
            for c in client.daemon.list(all=p.all):
                rows.append(StatsContext(client.daemon.inspect(c["Id"]), c["Id"][:12], True))
    if errs:
        raise CLIError("\n".join(errs))
    fmt = p.format or STATS_TABLE
    if fmt == "table":
        fmt = STATS_TABLE
    try:
        env.out.write(render(fmt, rows, header))
    except TemplateError as e:
        raise CLIError(str(e)) from None
    return 0


def _update_cmd() -> Command:
    return Command(
        "update [OPTIONS] CONTAINER [CONTAINER...]",
        "Update configuration of one or more containers",
        run_update,
        [
            Flag(
                "blkio-weight",
                kind="int",
                type_name="uint16",
                help="Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)",
            ),  # noqa: E501
            Flag("cpu-period", kind="int", help="Limit CPU CFS (Completely Fair Scheduler) period"),
            Flag("cpu-quota", kind="int", help="Limit CPU CFS (Completely Fair Scheduler) quota"),
            Flag(
                "cpu-rt-period", kind="int", help="Limit the CPU real-time period in microseconds"
            ),
            Flag(
                "cpu-rt-runtime", kind="int", help="Limit the CPU real-time runtime in microseconds"
            ),  # noqa: E501
            Flag("cpu-shares", "c", "int", help="CPU shares (relative weight)"),
            Flag("cpus", kind="string", type_name="decimal", help="Number of CPUs"),
            Flag("cpuset-cpus", kind="string", help="CPUs in which to allow execution (0-3, 0,1)"),
            Flag("cpuset-mems", kind="string", help="MEMs in which to allow execution (0-3, 0,1)"),
            Flag("kernel-memory", kind="string", type_name="bytes", help="Kernel memory limit"),
            Flag("memory", "m", "string", type_name="bytes", help="Memory limit"),
            Flag("memory-reservation", kind="string", type_name="bytes", help="Memory soft limit"),
            Flag(
                "memory-swap",
                kind="string",
                type_name="bytes",
                help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
            ),
            Flag("pids-limit", kind="int", help="Tune container pids limit (set -1 for unlimited)"),
            Flag("restart", kind="string", help="Restart policy to apply when a container exits"),
        ],
        (1, None),
    )


def runtime_commands() -> list[Command]:
    """Fresh Command objects (each sits under `dockerlayers` and `container`)."""
    return [
        _update_cmd(),
        Command(
            "top CONTAINER [ps OPTIONS]",
            "Display the running processes of a container",
            run_top,
            [],
            (1, None),
            interspersed=False,
        ),
        Command(
            "port CONTAINER [PRIVATE_PORT[/PROTO]]",
            "List port mappings or a specific mapping for the container",
            run_port,
            [],
            (1, 2),
        ),
        Command(
            "attach [OPTIONS] CONTAINER",
            "Attach local standard input, output, and error streams to a running container",
            run_attach,
            [
                Flag(
                    "detach-keys",
                    kind="string",
                    help="Override the key sequence for detaching a container",
                ),  # noqa: E501
                Flag("no-stdin", help="Do not attach STDIN"),
                Flag("sig-proxy", default=True, help="Proxy all received signals to the process"),
            ],
            (1, 1),
        ),
        Command(
            "stats [OPTIONS] [CONTAINER...]",
            "Display a live stream of container(s) resource usage statistics",
            run_stats,
            [
                Flag("all", "a", help="Show all containers (default shows just running)"),
                Flag("format", kind="string", help="Pretty-print images using a Go template"),
                Flag("no-stream", help="Disable streaming stats and only pull the first result"),
                Flag("no-trunc", help="Do not truncate output"),
            ],
        ),
    ]


def container_inspect_command() -> Command:
    return Command(
        "inspect [OPTIONS] CONTAINER [CONTAINER...]",
        "Display detailed information on one or more containers",
        run_container_inspect,
        [
            Flag("format", "f", "string", help="Format the output using the given Go template"),
            Flag("size", "s", help="Display total file sizes"),
        ],
        (1, None),
    )


# -- run/create flags -----------------------------------------------------------------------------
def parse_mount(value: str) -> dict[str, Any]:
    """opts.MountOpt.Set: `type=volume|bind|tmpfs,source=..,target=..,readonly,...` as a
    docker-py Mount dict; FlagError with Docker's words."""
    import csv

    def bad(text: str) -> FlagError:
        return FlagError(f'invalid argument "{value}" for "--mount" flag: {text}')

    try:
        fields = next(csv.reader([value]))
    except (csv.Error, StopIteration):
        raise bad("invalid mount") from None
    m: dict[str, Any] = {"Type": "volume"}
    volume_opts = bind_opts = tmpfs_opts = None
    for field in fields:
        key, eq, val = field.partition("=")
        key = key.lower()
        if not eq:
            if key in ("readonly", "ro"):
                m["ReadOnly"] = True
                continue
            if key == "volume-nocopy":
                volume_opts = {**(volume_opts or {}), "NoCopy": True}
                continue
            if key == "bind-nonrecursive":
                bind_opts = {**(bind_opts or {}), "NonRecursive": True}
                continue
            raise bad(f"invalid field '{field}' must be a key=value pair")
        if key == "type":
            m["Type"] = val.lower()
        elif key in ("source", "src"):
            m["Source"] = val
        elif key in ("target", "dst", "destination"):
            m["Target"] = val
        elif key in ("readonly", "ro"):
            if val not in (
                "1",
                "t",
                "T",
                "TRUE",
                "true",
                "True",
                "0",
                "f",
                "F",
                "FALSE",
                "false",
                "False",
            ):  # noqa: E501
                raise bad(f"invalid value for {key}: {val}")
            m["ReadOnly"] = val in ("1", "t", "T", "TRUE", "true", "True")
        elif key == "consistency":
            m["Consistency"] = val.lower()
        elif key == "bind-propagation":
            bind_opts = {**(bind_opts or {}), "Propagation": val.lower()}
        elif key.startswith("volume-") and key in (
            "volume-nocopy",
            "volume-label",
            "volume-driver",
            "volume-opt",
        ):
            volume_opts = {**(volume_opts or {})}
            if key == "volume-label":
                k, _, v = val.partition("=")
                volume_opts.setdefault("Labels", {})[k] = v
            elif key == "volume-driver":
                volume_opts["DriverConfig"] = {"Name": val}
            elif key == "volume-nocopy":
                volume_opts["NoCopy"] = val in ("1", "t", "true", "True", "TRUE")
        elif key == "tmpfs-size":
            try:
                size = ram_in_bytes(val)
            except ValueError:
                raise bad(f"invalid value for {key}: {val}") from None
            tmpfs_opts = {**(tmpfs_opts or {}), "SizeBytes": size}
        elif key == "tmpfs-mode":
            try:
                mode = int(val, 8)
            except ValueError:
                raise bad(f"invalid value for {key}: {val}") from None
            tmpfs_opts = {**(tmpfs_opts or {}), "Mode": mode}
        else:
            raise bad(f"unexpected key '{key}' in '{field}'")
    if not m["Type"]:
        raise bad("type is required")
    if not m.get("Target"):
        raise bad("target is required")
    for opts, kind, name in (
        (volume_opts, "volume", "volume-*"),
        (bind_opts, "bind", "bind-*"),
        (tmpfs_opts, "tmpfs", "tmpfs-*"),
    ):
        if opts is not None and m["Type"] != kind:
            raise bad(f"cannot mix '{name}' options with mount type '{m['Type']}'")
    if volume_opts is not None:
        m["VolumeOptions"] = volume_opts
    if bind_opts is not None:
        m["BindOptions"] = bind_opts
    if tmpfs_opts is not None:
        m["TmpfsOptions"] = tmpfs_opts
    return m


def parse_publish(values: list[str]) -> dict[str, list[tuple[str, str]]]:
    """nat.ParsePortSpecs: `[ip:][hostPort:]containerPort[/proto]` as docker-py's `ports`."""
    out: dict[str, list[tuple[str, str]]] = {}
    for spec in values:
        raw, _, proto = spec.partition("/")
        proto = proto or "tcp"
        parts = raw.rsplit(":", 2) if raw.count(":") <= 2 else [raw]
        if len(parts) == 1:
            ip, host, port = "", "", parts[0]
        elif len(parts) == 2:
            ip, host, port = "", parts[0], parts[1]
        else:
            ip, host, port = parts
        if not port.isdigit():
            raise FlagError(
                f'invalid argument "{spec}" for "-p, --publish" flag: Invalid containerPort: {port}'
            )  # noqa: E501
        if proto not in ("tcp", "udp", "sctp"):
            raise FlagError(
                f'invalid argument "{spec}" for "-p, --publish" flag: Invalid proto: {proto}'
            )  # noqa: E501
        out.setdefault(f"{port}/{proto}", []).append((ip, host))
    return out
