"""Container commands: run, create, start, stop, restart, kill, pause, unpause, rm, exec,
diff, ps, logs, commit, rename, wait, container prune.

docker/cli 20.10: cli/command/container/{run,create,start,stop,restart,kill,pause,unpause,
rm,exec,diff,list,logs,commit,rename,wait,prune,opts,utils}.go
"""

from __future__ import annotations

import os
import time
from typing import Any

from dockerlayers.baseimage import BASE_REFERENCE
from dockerlayers.cli.app import CLIError, Command, Env, StatusError, daemon_error
from dockerlayers.cli.commands import runflags
from dockerlayers.cli.commands.common import (
    Attachment,
    die_events,
    each,
    not_found,
    parse_filters,
    prune,
    split_repo_tag,
    validate_output_path,
)
from dockerlayers.cli.commands.logs import run_logs
from dockerlayers.cli.commands.runtime import (
    container_inspect_command,
    runtime_commands,
)
from dockerlayers.cli.flags import Flag, FlagError, Parsed
from dockerlayers.errors import DockerException, ImageNotFound, NotFound


# -- create / run ---------------------------------------------------------------------------------
def _parse_env(values: list[str]) -> list[str]:
    """opts.ValidateEnv: `KEY` alone takes the host's value when it has one."""
    out = []
    for v in values:
        if "=" not in v and v in os.environ:
            v = f"{v}={os.environ[v]}"
        out.append(v)
    return out


def _report(env: Env, name: str, text: str, with_help: bool) -> None:
    """reportError: `dockerlayers: <error>.` (+ `See 'dockerlayers run --help'.`)."""
    text = text.removesuffix(".") + "."
    if with_help:
        text += f"\nSee '{env_prog()} {name} --help'."
    env.eprint(f"{env_prog()}: {text}")


def env_prog() -> str:
    from dockerlayers.cli.app import PROG

    return PROG


def _image_ref(image: str) -> str:
    """reference.FamiliarString of a name without a tag: `busybox` -> `busybox:latest`."""
    last = image.rsplit("/", 1)[-1]
    if "@" in image or ":" in last:
        return image
    return image + ":latest"


def _create(
    env: Env, client: Any, image: str, command: list[str] | None, opts: runflags.RunOptions
) -> str:
    """createContainer: the cidfile checked, `--pull always` first, create, a missing image
    pulled (`--pull missing`), the ID written to the cidfile.

    docker/cli 20.10: cli/command/container/create.go createContainer
    """
    runflags.check_cidfile(opts.cidfile)
    kwargs = dict(opts.kwargs)
    if opts.platform:
        kwargs["platform"] = runflags.check_platform(opts.platform)
    hc = kwargs["host_config"]
    if hc.get("OomKillDisable") and not kwargs.get("mem_limit"):
        env.err.write(
            "WARNING: Disabling the OOM killer on containers without setting a "
            "'-m/--memory' limit may be dangerous.\n"
        )
    for ip in hc.get("Dns") or []:
        if ip.startswith("127.") or ip == "::1":
            env.err.write(f"WARNING: Localhost DNS setting (--dns={ip}) may fail in containers.\n")
            break
    ref = _image_ref(image)
    is_base = ref in (
        BASE_REFERENCE,
        f"library/{BASE_REFERENCE}",
        f"docker.io/library/{BASE_REFERENCE}",
    )
    if opts.pull == "always":
        _pull(env, client, ref, is_base)
    try:
        cid = client.daemon.create(image, command, **kwargs).id
    except ImageNotFound:
        if opts.pull != "missing" or not _named(image):
            raise
        env.err.write(f"Unable to find image '{ref}' locally\n")
        _pull(env, client, ref, is_base)
        cid = client.daemon.create(image, command, **kwargs).id
    runflags.write_cidfile(opts.cidfile, cid)
    return cid


def _named(image: str) -> bool:
    """reference.ParseAnyReference gives a Named reference (not a bare image ID)."""
    import re

    return not re.fullmatch(r"(sha256:)?[0-9a-f]{64}", image)


def _pull(env: Env, client: Any, ref: str, is_base: bool) -> None:
    """The pull of `run`/`create`: the built-in base is made here (no registry)."""
    if not is_base:
        _pull_for_create(env, client, ref)
        return
    try:
        client.daemon.image_inspect(BASE_REFERENCE)
        status = "Image is up to date for"
    except DockerException:
        status = "Downloaded newer image for"
    client.daemon.base_image()
    env.err.write(f"Status: {status} {BASE_REFERENCE}\n")


def _pull_for_create(env: Env, client: Any, ref: str) -> None:
    """The pull `run`/`create` make of a missing image: from its registry, progress on
    stderr (moby (cli): cli/command/container/create.go pullImage)."""
    from dockerlayers.cli.commands.registry import JSONMessageDisplay
    from dockerlayers.distribution import service

    display = JSONMessageDisplay(env.err, False)
    try:
        service.pull(client.daemon.image_service, ref, progress=display)
    except DockerException as e:
        raise DockerException(f"Error response from daemon: {e}") from None


def _start_error_code(text: str) -> int:
    """runStartContainerErr: 127 for not found, 126 for permission denied, else 125."""
    t = text.removeprefix("Error response from daemon: ")
    if (
        "executable file not found" in t
        or "no such file or directory" in t
        or "system cannot find the file specified" in t
    ):
        return 127
    if "permission denied" in t or "is a directory" in t:
        return 126
    return 125


def _run_options(env: Env, p: Parsed, name: str) -> runflags.RunOptions:
    """The flags parsed (reportError: `docker: <err>.` + the usage hint, 125)."""
    try:
        return runflags.parse(p, name)
    except runflags.ParseError as e:
        _report(env, name, str(e), True)
        raise StatusError(125) from None
    except FlagError as e:
        raise StatusError(125, f"{e}\nSee '{env_prog()} {name} --help'.") from None


def run_create(env: Env, p: Parsed) -> int:
    """`create`: print the new container's ID."""
    image, command = p.args[0], p.args[1:] or None
    opts = _run_options(env, p, "create")
    with env.client() as client:
        try:
            cid = _create(env, client, image, command, opts)
        except (runflags.CIDFileError, runflags.PlatformError) as e:
            raise CLIError(str(e)) from None
        except DockerException as e:
            text = str(e) if str(e).startswith("Error response") else daemon_error(e)
            raise CLIError(text) from None
    env.print(cid)
    return 0


def run_run(env: Env, p: Parsed) -> int:
    """`run`: create + start; detached prints the ID, attached follows the output (the
    streams of `-a`) and exits with the container's code (`--rm` removes it after)."""
    image, command = p.args[0], p.args[1:] or None
    opts = _run_options(env, p, "run")
    if not p.detach:
        _check_tty(env, p.interactive, p.tty)
    if p.detach and p.attach:
        raise CLIError("Conflicting options: -a and -d")  # runContainer, after parse
    with env.client() as client:
        try:
            cid = _create(env, client, image, command, opts)
        except (runflags.CIDFileError, runflags.PlatformError) as e:
            _report(env, "run", str(e), True)
            raise StatusError(125) from None
        except DockerException as e:
            text = str(e) if str(e).startswith("Error response") else daemon_error(e)
            _report(env, "run", text, True)
            raise StatusError(_start_error_code(text)) from None
        if p.detach or not opts.attach & {"stdout", "stderr"}:
            env.print(cid)
        att = Attachment(env, cid, 0, tty=p.tty)
        att.streams = opts.attach
        try:
            client.daemon.start(
                cid, stdin=_attached_stdin(env, "stdin" in opts.attach and p.interactive)
            )
        except DockerException as e:
            text = daemon_error(e)
            _report(env, "run", text, False)
            if p.rm:
                _remove_quietly(client, cid)
            raise StatusError(_start_error_code(text)) from None
        if p.detach:
            return 0
        code = att.wait(client)
        if code >= 0 and p.rm:
            _remove_quietly(client, cid)
    if code < 0:
        code = att.poll()
        if p.rm:
            with env.client() as client:
                _remove_quietly(client, cid)
    if code:
        raise StatusError(code)
    return 0


def _check_tty(env: Env, attach_stdin: bool, tty: bool) -> None:
    """`-it` needs a terminal on stdin (docker/cli: streams.In.CheckTty)."""
    stream = env.stdin
    is_terminal = stream is not None and hasattr(stream, "isatty") and stream.isatty()
    if tty and attach_stdin and not is_terminal:
        raise CLIError("the input device is not a TTY")


def _attached_stdin(env: Env, interactive: bool) -> bytes | None:
    """With `-i`, what is piped in: the process reads it on fd 0 up to its end (a terminal
    is not read: the model runs no interactive session). Without `-i`, nothing."""
    stream = env.stdin
    if not interactive:
        return None
    if stream is None or (hasattr(stream, "isatty") and stream.isatty()):
        return b""  # end of file at once, not an open stdin nobody can type into
    data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
    return data.encode() if isinstance(data, str) else data


def _remove_quietly(client: Any, cid: str) -> None:
    try:
        client.daemon.remove(cid, force=True, v=True)
    except DockerException:
        pass


# -- start / stop / ... -------------------------------------------------------------------------
def run_start(env: Env, p: Parsed) -> int:
    """`start`: each container, or one attached (`-a`) with its exit code."""
    if p.attach or p.interactive:
        if len(p.args) > 1:
            raise CLIError("you cannot start and attach multiple containers at once")
        ref = p.args[0]
        with env.client() as client:
            try:
                info = client.daemon.inspect(ref)
            except DockerException as e:
                raise CLIError(not_found("container", ref, e)) from None
            cid = info["Id"]
            att = Attachment(
                env, cid, len(die_events(client, cid)), tty=bool(info["Config"].get("Tty"))
            )
            att.skip_existing(client)
            client.daemon.start(cid, stdin=_attached_stdin(env, p.interactive))
            code = att.wait(client)
        if code < 0:
            code = att.poll()
        if code:
            raise StatusError(code)
        return 0
    failed = []
    with env.client() as client:
        for ref in p.args:
            try:
                client.daemon.start(ref)
            except DockerException as e:
                env.eprint(daemon_error(e))
                failed.append(ref)
                continue
            env.print(ref)
    if failed:
        raise CLIError(f"Error: failed to start containers: {', '.join(failed)}")
    return 0


def run_stop(env: Env, p: Parsed) -> int:
    timeout = p.time if "time" in p.changed else None
    with env.client() as client:
        return each(env, p.args, lambda ref: client.daemon.stop(ref, timeout))


def run_restart(env: Env, p: Parsed) -> int:
    timeout = p.time if "time" in p.changed else None
    with env.client() as client:
        return each(env, p.args, lambda ref: client.daemon.restart(ref, timeout))


def run_kill(env: Env, p: Parsed) -> int:
    with env.client() as client:
        return each(env, p.args, lambda ref: client.daemon.kill(ref, p.signal))


def run_pause(env: Env, p: Parsed) -> int:
    with env.client() as client:
        return each(env, p.args, client.daemon.pause)


def run_unpause(env: Env, p: Parsed) -> int:
    with env.client() as client:
        return each(env, p.args, client.daemon.unpause)


def run_rm(env: Env, p: Parsed) -> int:
    def op(ref: str) -> None:
        ref = ref.strip("/")
        if not ref:
            raise DockerException("Container name cannot be empty")
        client.daemon.remove(ref, force=p.force, v=p.volumes)

    with env.client() as client:
        return each(env, p.args, op, wrap="container", missing_ok=p.force)


def run_rename(env: Env, p: Parsed) -> int:
    old, new = p.args[0].strip(), p.args[1].strip()
    if not old or not new:
        raise CLIError("Error: Neither old nor new names may be empty")
    with env.client() as client:
        try:
            client.daemon.rename(old, new)
        except DockerException as e:
            # docker/cli rename.go: the daemon's error, then its own line
            env.err.write(daemon_error(e) + "\n")
            raise CLIError(f"Error: failed to rename container named {old}") from None
    return 0


def run_wait(env: Env, p: Parsed) -> int:
    """`wait`: block until each container stops, print its exit code."""
    errs = []
    for ref in p.args:
        with env.client() as client:
            try:
                info = client.daemon.inspect(ref)
            except DockerException as e:
                errs.append(daemon_error(e))
                continue
            if env.virtual or not info["State"]["Running"]:
                try:
                    result = client.daemon.wait(ref)
                except DockerException as e:
                    errs.append(daemon_error(e))
                    continue
                env.print(str(result["StatusCode"]))
                continue
        while True:  # real clock: poll, letting go of the root in between
            time.sleep(0.1)
            with env.client() as client:
                client.daemon.tick()
                try:
                    state = client.daemon.inspect(ref)["State"]
                except NotFound:
                    env.print("0")
                    break
                if not state["Running"]:
                    env.print(str(state["ExitCode"]))
                    break
    if errs:
        raise CLIError("\n".join(errs))
    return 0


#: what `exec -u` prints when the user or group is missing (daemon/errors.exec_user_not_found)
_EXEC_USER_ERRORS = (b"unable to find user ", b"unable to find group ", b"uids and gids must")


def run_exec(env: Env, p: Parsed) -> int:
    """`exec`: run a command in a running container; exit with its code."""
    ref, cmd = p.args[0], p.args[1:]
    if not p.detach:
        _check_tty(env, p.interactive, p.tty)
    with env.client() as client:
        try:
            client.daemon.inspect(ref)
        except DockerException as e:
            raise CLIError(not_found("container", ref, e)) from None
        code, out, err = client.daemon.exec_run(
            ref,
            cmd,
            environment=_parse_env(p.env) or None,
            workdir=p.workdir or None,
            user=p.user or None,
            stdin=_attached_stdin(env, p.interactive and not p.detach),
        )
    if p.detach and code == 126 and out.startswith(_EXEC_USER_ERRORS):
        # detached, the user lookup's failure is the API's answer (exit 1), not the stream's
        env.err.write("Error response from daemon: " + out.decode().rstrip("\r\n") + "\n")
        raise StatusError(1)
    if not p.detach:
        env.out.write(out.decode("utf-8", errors="replace"))
        (env.out if p.tty else env.err).write(err.decode("utf-8", errors="replace"))
    if code:
        raise StatusError(code)
    return 0


def run_diff(env: Env, p: Parsed) -> int:
    kinds = {0: "C", 1: "A", 2: "D"}
    with env.client() as client:
        changes = client.daemon.changes(p.args[0])
    for ch in changes:
        env.print(f"{kinds.get(ch['Kind'], '?')} {ch['Path']}")
    return 0


def run_export(env: Env, p: Parsed) -> int:
    """`export`: the container's merged filesystem as a tar (docker/cli container/export.go)."""
    if not p.output and env.out.isatty():
        raise CLIError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    if p.output:
        why = validate_output_path(p.output)
        if why:
            raise CLIError("failed to export container: " + why)
    with env.client() as client:
        try:
            data = client.daemon.export(p.args[0])
        except DockerException as e:
            raise CLIError(daemon_error(e)) from None
    if p.output:
        with open(p.output, "wb") as f:
            f.write(data)
    else:
        out = getattr(env.out, "buffer", None)
        if out is not None:
            out.write(data)
            out.flush()
        else:
            env.out.write(data.decode("latin-1"))
    return 0


def run_commit(env: Env, p: Parsed) -> int:
    from dockerlayers.image.refname import parse_normalized_named

    ref = p.args[0]
    repo, tag = None, None
    if len(p.args) > 1:
        # docker's client parses the reference before it calls the daemon (ContainerCommit)
        try:
            parse_normalized_named(p.args[1])
        except DockerException as e:
            raise CLIError(str(e)) from None
        repo, tag = split_repo_tag(p.args[1])
    with env.client() as client:
        image_id = client.daemon.commit(
            ref,
            repository=repo,
            tag=tag,
            comment=p.message or None,
            author=p.author or None,
            changes=list(p.change) or None,
            pause=p.pause,
        )
    env.print(image_id if str(image_id).startswith("sha256:") else f"sha256:{image_id}")
    return 0


# -- ps --------------------------------------------------------------------------------------------
def run_ps(env: Env, p: Parsed) -> int:
    """`ps`: the container table (20.10 list.go: a custom format wins over -q)."""
    # (only ps formats: the other container commands do not load the formatter)
    from dockerlayers.cli.formatter import (
        CONTAINER_HEADER,
        TABLE,
        ContainerContext,
        container_format,
        render,
    )
    from dockerlayers.cli.templates import TemplateError, parse

    fmt = p.format
    size = p.size
    if fmt and not size:
        try:
            probe = ContainerContext({"Id": "", "Names": []}, True, 0)
            parse(fmt[len(TABLE) :] if fmt.startswith(TABLE) else fmt).execute(probe)
            size = probe.size_used
        except TemplateError as e:
            raise CLIError(f"failed to parse template: {e}") from None
    limit = p.last
    if p.latest and limit == -1:
        limit = 1
    filters = parse_filters(p.filter)
    with env.client() as client:
        rows = client.daemon.list(
            all=p.all or limit > 0, size=size, filters=filters or None, limit=limit
        )
        now = client.daemon.clock.now()
    fmt = container_format(fmt or TABLE, p.quiet, size)
    try:
        env.out.write(
            render(fmt, [ContainerContext(r, not p.no_trunc, now) for r in rows], CONTAINER_HEADER)
        )
    except TemplateError as e:
        raise CLIError(str(e)) from None
    return 0


def run_container_prune(env: Env, p: Parsed) -> int:
    warning = (
        "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"
    )
    return prune(
        env,
        p.force,
        warning,
        lambda c: c.daemon.prune(parse_filters(p.filter)),
        "ContainersDeleted",
        "Deleted Containers",
    )


# -- the commands ------------------------------------------------------------------------------
def container_commands() -> list[Command]:
    """Fresh Command objects (a command may sit under `dockerlayers` and `container`)."""
    return [
        Command(
            "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
            "Run a command in a new container",
            run_run,
            runflags.create_flags("run"),
            (1, None),
            interspersed=False,
            help_shorthand=False,
        ),
        Command(
            "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
            "Create a new container",
            run_create,
            runflags.create_flags("create"),
            (1, None),
            interspersed=False,
            help_shorthand=False,
        ),
        Command(
            "start [OPTIONS] CONTAINER [CONTAINER...]",
            "Start one or more stopped containers",
            run_start,
            [
                Flag("attach", "a", help="Attach STDOUT/STDERR and forward signals"),
                Flag("interactive", "i", help="Attach container's STDIN"),
            ],
            (1, None),
        ),
        Command(
            "stop [OPTIONS] CONTAINER [CONTAINER...]",
            "Stop one or more running containers",
            run_stop,
            [
                Flag("time", "t", "int", 10, "Seconds to wait for stop before killing it"),
            ],
            (1, None),
        ),
        Command(
            "restart [OPTIONS] CONTAINER [CONTAINER...]",
            "Restart one or more containers",
            run_restart,
            [
                Flag(
                    "time", "t", "int", 10, "Seconds to wait for stop before killing the container"
                ),
            ],
            (1, None),
        ),
        Command(
            "kill [OPTIONS] CONTAINER [CONTAINER...]",
            "Kill one or more running containers",
            run_kill,
            [
                Flag("signal", "s", "string", "KILL", "Signal to send to the container"),
            ],
            (1, None),
        ),
        Command(
            "pause CONTAINER [CONTAINER...]",
            "Pause all processes within one or more containers",
            run_pause,
            [],
            (1, None),
        ),
        Command(
            "unpause CONTAINER [CONTAINER...]",
            "Unpause all processes within one or more containers",
            run_unpause,
            [],
            (1, None),
        ),
        Command(
            "rm [OPTIONS] CONTAINER [CONTAINER...]",
            "Remove one or more containers",
            run_rm,
            [
                Flag("force", "f", help="Force the removal of a running container (uses SIGKILL)"),
                Flag("volumes", "v", help="Remove anonymous volumes associated with the container"),
                Flag("link", "l", help="Remove the specified link"),
            ],
            (1, None),
        ),
        Command("rename CONTAINER NEW_NAME", "Rename a container", run_rename, [], (2, 2)),
        Command(
            "wait CONTAINER [CONTAINER...]",
            "Block until one or more containers stop, then print their exit codes",
            run_wait,
            [],
            (1, None),
        ),
        Command(
            "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
            "Run a command in a running container",
            run_exec,
            [
                Flag("detach", "d", help="Detached mode: run command in the background"),
                Flag("env", "e", "list", help="Set environment variables"),
                Flag("interactive", "i", help="Keep STDIN open even if not attached"),
                Flag("tty", "t", help="Allocate a pseudo-TTY"),
                Flag(
                    "user", "u", "string", help="Username or UID (format: <name|uid>[:<group|gid>])"
                ),
                Flag("workdir", "w", "string", help="Working directory inside the container"),
                Flag("privileged", help="Give extended privileges to the command"),
            ],
            (2, None),
            interspersed=False,
        ),
        Command(
            "diff CONTAINER",
            "Inspect changes to files or directories on a container's filesystem",
            run_diff,
            [],
            (1, 1),
        ),
        Command(
            "export [OPTIONS] CONTAINER",
            "Export a container's filesystem as a tar archive",
            run_export,
            [Flag("output", "o", "string", help="Write to a file, instead of STDOUT")],
            (1, 1),
        ),
        Command(
            "logs [OPTIONS] CONTAINER",
            "Fetch the logs of a container",
            run_logs,
            [
                Flag("details", help="Show extra details provided to logs"),
                Flag("follow", "f", help="Follow log output"),
                Flag(
                    "since",
                    kind="string",
                    help="Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)",  # noqa: E501
                ),
                Flag(
                    "tail", "n", "string", "all", "Number of lines to show from the end of the logs"
                ),
                Flag("timestamps", "t", help="Show timestamps"),
                Flag(
                    "until",
                    kind="string",
                    help="Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)",  # noqa: E501
                ),
            ],
            (1, 1),
        ),
        Command(
            "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
            "Create a new image from a container's changes",
            run_commit,
            [
                Flag(
                    "author",
                    "a",
                    "string",
                    help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")',
                ),
                Flag(
                    "change", "c", "list", help="Apply Dockerfile instruction to the created image"
                ),
                Flag("message", "m", "string", help="Commit message"),
                Flag("pause", "p", default=True, help="Pause container during commit"),
            ],
            (1, 2),
        ),
        Command("ps [OPTIONS]", "List containers", run_ps, _ps_flags(), (0, 0)),
        *runtime_commands(),
    ]


def _ps_flags() -> list[Flag]:
    return [
        Flag("all", "a", help="Show all containers (default shows just running)"),
        Flag(
            "filter",
            "f",
            "list",
            type_name="filter",
            help="Filter output based on conditions provided",
        ),
        Flag("format", kind="string", help="Pretty-print containers using a Go template"),
        Flag("last", "n", "int", -1, "Show n last created containers (includes all states)"),
        Flag("latest", "l", help="Show the latest created container (includes all states)"),
        Flag("no-trunc", help="Don't truncate output"),
        Flag("quiet", "q", help="Only display container IDs"),
        Flag("size", "s", help="Display total file sizes"),
    ]


def container_management() -> Command:
    """`dockerlayers container ...` (ls/list/ps, prune, and every container command)."""
    group = Command("container", "Manage containers")
    for cmd in container_commands():
        if cmd.name == "ps":
            cmd = Command(
                "ls [OPTIONS]",
                "List containers",
                run_ps,
                _ps_flags(),
                (0, 0),
                aliases=("ps", "list"),
            )
        group.add(cmd)
    group.add(container_inspect_command())
    group.add(
        Command(
            "prune [OPTIONS]",
            "Remove all stopped containers",
            run_container_prune,
            [
                Flag(
                    "filter",
                    kind="list",
                    type_name="filter",
                    help="Provide filter values (e.g. 'until=<timestamp>')",
                ),
                Flag("force", "f", help="Do not prompt for confirmation"),
            ],
            (0, 0),
        )
    )
    return group
