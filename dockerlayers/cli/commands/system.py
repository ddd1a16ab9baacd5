"""inspect, events, info, version, volume, and the model's own `clock` command.

docker/cli 20.10: cli/command/system/{inspect,events,info,version}.go,
cli/command/inspect/inspector.go, cli/command/volume/*.go
"""

from __future__ import annotations

from typing import Any

from dockerlayers._lazy import LazyModule
from dockerlayers.cli.app import PROG, CLIError, Command, Env, StatusError, daemon_error
from dockerlayers.cli.commands.common import get_timestamp, go_json, not_found, parse_filters, prune
from dockerlayers.cli.flags import Flag, Parsed
from dockerlayers.errors import DockerException, NotFound
from dockerlayers.process.clock import format_rfc3339nano
from dockerlayers.timetypes import parse_go_duration

# loaded when a format needs them: `inspect` without -f, `version` ... start faster
formatter = LazyModule("dockerlayers.cli.formatter")
templates = LazyModule("dockerlayers.cli.templates")


# -- inspect ------------------------------------------------------------------------------------
def _inspect_items(env: Env, refs: list[str], getter: Any, fmt: str) -> int:
    """inspect.Inspect: every element through the template (or indented JSON), then the
    errors joined (exit 1)."""
    tmpl = None
    if fmt:
        try:
            tmpl = templates.parse(fmt)
        except templates.TemplateError as e:
            # docker 20.10 cli/command/inspect: a bad template is exit status 64
            raise StatusError(64, f"template parsing error: {e}") from None
    elements, errs = [], []
    written = False
    for ref in refs:
        try:
            element = getter(ref)
        except DockerException as e:
            errs.append(str(e))
            continue
        if tmpl is not None:
            try:
                text = tmpl.execute(element, templates.BASIC_FUNCS, missing_key_error=True)
            except templates.TemplateError as e:
                errs.append(f"template parsing error: {e}")
                continue
            env.out.write(text + "\n")
            written = True
        else:
            elements.append(element)
    if tmpl is None:
        env.out.write((go_json(elements, indent=True) if elements else "[]") + "\n")
    elif not written:
        env.out.write("\n")  # TemplateInspector.Flush: an empty buffer still ends a line
    if errs:
        raise StatusError(1, "\n".join(errs))
    return 0


class _Missing(DockerException):
    pass


def run_inspect(env: Env, p: Parsed) -> int:
    kinds = {
        "": ("container", "image", "volume"),
        "container": ("container",),
        "image": ("image",),
        "volume": ("volume",),
    }
    if p.type not in kinds:
        raise CLIError(f'"{p.type}" is not a valid value for --type')
    with env.client() as client:

        def get(ref: str) -> Any:
            for kind in kinds[p.type]:
                try:
                    if kind == "container":
                        return client.daemon.inspect(ref, size=p.size)
                    if kind == "image":
                        return client.daemon.image_inspect(ref)
                    return client.daemon.volumes.inspect(ref)
                except NotFound:
                    continue
                except DockerException as e:
                    raise _Missing(daemon_error(e)) from None
            raise _Missing(f"Error: No such {p.type or 'object'}: {ref}")

        return _inspect_items(env, p.args, get, p.format)


# -- events -------------------------------------------------------------------------------------
def run_events(env: Env, p: Parsed) -> int:
    """`events`: the events between --since and --until (default: until now; the model
    does not follow a live stream)."""
    filters = parse_filters(p.filter)
    with env.client() as client:
        now = client.daemon.clock.now()
        since = get_timestamp(p.since, now) if p.since else None
        until = get_timestamp(p.until, now) if p.until else now
        events = client.daemon.events.list(since=since, until=until, filters=filters or None)
    if p.format:
        try:
            env.out.write(formatter.render(p.format, events))
        except templates.TemplateError as e:
            raise CLIError(str(e)) from None
        return 0
    for ev in events:
        stamp = formatter.rfc3339_nano_fixed(ev["timeNano"])
        line = f"{stamp} {ev['Type']} {ev['Action']} {ev['Actor']['ID']}"
        attrs = ev["Actor"].get("Attributes") or {}
        if attrs:
            line += " (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")"
        env.print(line)
    return 0


# -- info / version -------------------------------------------------------------------------------
def run_info(env: Env, p: Parsed) -> int:
    with env.client() as client:
        info = dict(client.daemon.info() or {}) if hasattr(client.daemon, "info") else {}
        containers = client.daemon.list(all=True)
        images = client.daemon.image_service.images()
        info.setdefault("Images", len(images))
        driver = client.daemon.driver.name
        root = client.daemon.root
    states = [c["State"] for c in containers]
    info.setdefault("Containers", len(containers))
    info.setdefault("ContainersRunning", sum(s in ("running", "restarting") for s in states))
    info.setdefault("ContainersPaused", states.count("paused"))
    info.setdefault(
        "ContainersStopped", len(states) - info["ContainersRunning"] - info["ContainersPaused"]
    )
    info.setdefault("Images", len(images))
    info.setdefault("Driver", driver)
    info.setdefault("DockerRootDir", root)
    if p.format:
        try:
            env.out.write(templates.parse(p.format).execute(info, templates.BASIC_FUNCS) + "\n")
        except templates.TemplateError as e:
            raise CLIError(f"template parsing error: {e}") from None
        return 0
    from dockerlayers import __version__

    lines = [
        "Client:",
        " Context:    default",
        " Debug Mode: false",
        "",
        "Server:",
        f" Containers: {info['Containers']}",
        f"  Running: {info['ContainersRunning']}",
        f"  Paused: {info['ContainersPaused']}",
        f"  Stopped: {info['ContainersStopped']}",
        f" Images: {info['Images']}",
        f" Server Version: {info.get('ServerVersion') or __version__ + ' (dockerlayers)'}",
        f" Storage Driver: {info['Driver']}",
    ]
    for k, v in info.get("DriverStatus") or []:
        lines.append(f"  {k}: {v}")
    lines += [
        " Logging Driver: json-file",
        " Cgroup Driver: none",
        " Runtimes: dockerlayers (simulated processes)",
        " Default Runtime: dockerlayers",
        f" Operating System: {info.get('OperatingSystem') or 'dockerlayers model'}",
        f" OSType: {info.get('OSType') or 'linux'}",
        f" Docker Root Dir: {info['DockerRootDir']}",
        f" Clock: {'virtual' if env.virtual else 'real'}",
    ]
    env.out.write("\n".join(lines) + "\n")
    return 0


def version_info() -> dict[str, Any]:
    """What `version --format` templates see: `.Client` and `.Server` (types.Version)."""
    import platform

    from dockerlayers import __version__

    return {
        "Client": {
            "Platform": {"Name": ""},
            "Version": __version__,
            "ApiVersion": "1.41",
            "DefaultAPIVersion": "1.41",
            "GitCommit": "",
            "GoVersion": f"python{platform.python_version()}",
            "Os": platform.system().lower(),
            "Arch": platform.machine(),
            "BuildTime": "",
            "Context": "default",
            "Experimental": True,
        },
        "Server": {
            "Platform": {"Name": "dockerlayers (a model of Docker Engine 20.10)"},
            "Components": [],
            "Version": __version__,
            "ApiVersion": "1.41",
            "MinAPIVersion": "1.12",
            "GitCommit": "",
            "GoVersion": f"python{platform.python_version()}",
            "Os": platform.system().lower(),
            "Arch": platform.machine(),
            "KernelVersion": platform.release(),
            "BuildTime": "",
        },
    }


def run_version(env: Env, p: Parsed) -> int:
    import platform

    from dockerlayers import __version__

    if p.format:
        info = version_info()
        data = {
            "Client": {**info["Client"], "APIVersion": info["Client"]["ApiVersion"]},
            "Server": info["Server"],
        }
        try:
            tmpl = templates.parse(p.format)
        except templates.TemplateError as e:
            raise CLIError(f"Template parsing error: {e}") from None
        import re

        for m in re.finditer(r"(?<![\w)\]])\.([A-Za-z_]\w*)", p.format):
            if m.group(1) not in data:
                env.out.write("\n")
                raise CLIError(
                    f'template: version:1:{m.start()}: executing "version" at <.{m.group(1)}>: '
                    f"can't evaluate field {m.group(1)} in type system.versionInfo"
                )
        try:
            env.out.write(tmpl.execute(data, templates.BASIC_FUNCS) + "\n")
        except templates.TemplateError as e:
            env.out.write("\n")
            raise CLIError(
                f'template: version:1:2: executing "version" at <{p.format.strip("{} ")}>: {e}'
            ) from None
        return 0

    env.out.write(
        "Client:\n"
        f" Version:           {__version__}\n"
        " API version:       1.41\n"
        f" Python version:    {platform.python_version()}\n"
        f" OS/Arch:           {platform.system().lower()}/{platform.machine()}\n"
        " Context:           default\n"
        "\n"
        "Server: dockerlayers (a model of Docker Engine 20.10)\n"
        " Engine:\n"
        f"  Version:          {__version__}\n"
        "  API version:      1.41 (minimum version 1.12)\n"
    )
    return 0


# -- volumes --------------------------------------------------------------------------------------
def run_volume_create(env: Env, p: Parsed) -> int:
    labels = dict(item.partition("=")[::2] for item in p.label)
    name = p.args[0] if p.args else (p.name or None)
    with env.client() as client:
        vol = client.daemon.volumes.create(name, labels or None)
    env.print(vol["Name"])
    return 0


def run_volume_ls(env: Env, p: Parsed) -> int:
    with env.client() as client:
        vols = client.daemon.list_volumes(parse_filters(p.filter))
    fmt = formatter.volume_format(p.format or formatter.TABLE, p.quiet)
    try:
        env.out.write(
            formatter.render(
                fmt,
                [formatter.VolumeContext(v) for v in sorted(vols, key=lambda v: v["Name"])],
                formatter.VOLUME_HEADER,
            )
        )
    except templates.TemplateError as e:
        raise CLIError(str(e)) from None
    return 0


def run_volume_inspect(env: Env, p: Parsed) -> int:
    with env.client() as client:

        def get(ref: str) -> Any:
            try:
                return client.daemon.volumes.inspect(ref)
            except DockerException as e:
                raise _Missing(not_found("volume", ref, e)) from None

        return _inspect_items(env, p.args, get, p.format)


def run_volume_rm(env: Env, p: Parsed) -> int:
    errs = []
    with env.client() as client:
        for name in p.args:
            try:
                client.daemon.volumes.remove(name, client.daemon.volume_users(name), p.force)
            except DockerException as e:
                # the API client's wording for a 404 (docker/cli volume/remove.go)
                errs.append(not_found("volume", name, e))
                continue
            env.print(name)
    if errs:
        raise CLIError("\n".join(errs))
    return 0


def run_volume_prune(env: Env, p: Parsed) -> int:
    warning = "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?"  # noqa: E501
    return prune(
        env,
        p.force,
        warning,
        lambda c: c.daemon.prune_volumes(parse_filters(p.filter)),
        "VolumesDeleted",
        "Deleted Volumes",
    )


def volume_management() -> Command:
    group = Command("volume", "Manage volumes")
    group.add(
        Command(
            "create [OPTIONS] [VOLUME]",
            "Create a volume",
            run_volume_create,
            [
                Flag("driver", "d", "string", "local", "Specify volume driver name"),
                Flag("label", kind="list", help="Set metadata for a volume"),
                Flag("name", kind="string", help="Specify volume name", hidden=True),
                Flag("opt", "o", "list", type_name="map", help="Set driver specific options"),
            ],
            (0, 1),
        )
    )
    group.add(
        Command(
            "ls [OPTIONS]",
            "List volumes",
            run_volume_ls,
            [
                Flag(
                    "filter",
                    "f",
                    "list",
                    type_name="filter",
                    help="Provide filter values (e.g. 'dangling=true')",
                ),
                Flag("format", kind="string", help="Pretty-print volumes using a Go template"),
                Flag("quiet", "q", help="Only display volume names"),
            ],
            (0, 0),
            aliases=("list",),
        )
    )
    group.add(
        Command(
            "inspect [OPTIONS] VOLUME [VOLUME...]",
            "Display detailed information on one or more volumes",
            run_volume_inspect,
            [
                Flag("format", "f", "string", help="Format the output using the given Go template"),
            ],
            (1, None),
        )
    )
    group.add(
        Command(
            "rm [OPTIONS] VOLUME [VOLUME...]",
            "Remove one or more volumes",
            run_volume_rm,
            [
                Flag("force", "f", help="Force the removal of one or more volumes"),
            ],
            (1, None),
            aliases=("remove",),
        )
    )
    group.add(
        Command(
            "prune [OPTIONS]",
            "Remove all unused local volumes",
            run_volume_prune,
            [
                Flag(
                    "filter",
                    kind="list",
                    type_name="filter",
                    help="Provide filter values (e.g. 'label=<label>')",
                ),
                Flag("force", "f", help="Do not prompt for confirmation"),
            ],
            (0, 0),
        )
    )
    return group


# -- clock (the model's own) ----------------------------------------------------------------------
def run_clock_show(env: Env, p: Parsed) -> int:
    with env.client() as client:
        now = client.daemon.clock.now()
    env.print(f"{format_rfc3339nano(now)} ({'virtual' if env.virtual else 'real'})")
    return 0


def run_clock_advance(env: Env, p: Parsed) -> int:
    if not env.virtual:
        raise CLIError(
            f"{PROG}: the clock is real; set DOCKERLAYERS_CLOCK=virtual to move time by hand"
        )
    try:
        seconds = parse_go_duration(p.args[0])
    except ValueError:
        try:
            seconds = float(p.args[0])
        except ValueError:
            raise CLIError(f'time: invalid duration "{p.args[0]}"') from None
    if seconds < 0:
        raise CLIError("a clock cannot go backwards")
    with env.client() as client:
        now = client.daemon.clock.advance(seconds)
    env.print(format_rfc3339nano(now))
    return 0


def clock_management() -> Command:
    group = Command("clock", "Show or move the model's clock (with DOCKERLAYERS_CLOCK=virtual)")
    group.add(Command("show", "Print the daemon's current time", run_clock_show, [], (0, 0)))
    group.add(
        Command(
            "advance DURATION",
            "Move virtual time forward (e.g. 10s, 1m30s), running what falls due",
            run_clock_advance,
            [],
            (1, 1),
        )
    )
    return group


def system_commands() -> list[Command]:
    return [
        Command(
            "inspect [OPTIONS] NAME|ID [NAME|ID...]",
            "Return low-level information on Docker objects",
            run_inspect,
            [
                Flag("format", "f", "string", help="Format the output using the given Go template"),
                Flag("size", "s", help="Display total file sizes if the type is container"),
                Flag("type", kind="string", help="Return JSON for specified type"),
            ],
            (1, None),
        ),
        Command(
            "events [OPTIONS]",
            "Get real time events from the server",
            run_events,
            [
                Flag(
                    "filter",
                    "f",
                    "list",
                    type_name="filter",
                    help="Filter output based on conditions provided",
                ),
                Flag("format", kind="string", help="Format the output using the given Go template"),
                Flag("since", kind="string", help="Show all events created since timestamp"),
                Flag("until", kind="string", help="Stream events until this timestamp"),
            ],
            (0, 0),
        ),
        Command(
            "info [OPTIONS]",
            "Display system-wide information",
            run_info,
            [
                Flag("format", "f", "string", help="Format the output using the given Go template"),
            ],
            (0, 0),
        ),
        Command(
            "version [OPTIONS]",
            "Show the Docker version information",
            run_version,
            [
                Flag("format", "f", "string", help="Format the output using the given Go template"),
            ],
            (0, 0),
        ),
    ]


def system_management() -> Command:
    """`dockerlayers system ...`: df, events, info, prune."""
    from dockerlayers.cli.commands.prune import system_df_command, system_prune_command

    group = Command("system", "Manage Docker")
    group.add(system_df_command())
    for cmd in system_commands():
        if cmd.name in ("events", "info"):
            group.add(cmd)
    group.add(system_prune_command())
    return group


__all__ = ["clock_management", "system_commands", "system_management", "volume_management"]
