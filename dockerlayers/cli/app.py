"""The command line's skeleton: global options, commands, usage and errors, exit codes.

Every invocation opens the daemon on the root (`Daemon(root)`), runs one command and
*detaches* — it never shuts the daemon down, so containers started by one invocation are
still running in the next, as with dockerd behind the docker CLI. Texts follow the docker
20.10 CLI byte for byte, except that where docker names itself (`docker: ...`,
`See 'docker run --help'.`, usage lines) we print `dockerlayers` (PROG).

docker/cli: cmd/docker/docker.go (main, unknown command), cli/cobra.go (FlagErrorFunc,
usage template), cli/required.go (argument counts), cli/error.go (StatusError)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from dockerlayers.cli.flags import Flag, FlagError, Parsed, flag_usages, parse_flags

PROG = "dockerlayers"
DRIVERS = ("overlay2", "aufs", "vfs")
#: How long a command waits for another dockerlayers process to let go of the root.
LOCK_WAIT = 60.0


class StatusError(Exception):
    """cli.StatusError: print `status` (if any) to stderr and exit with `code`."""

    def __init__(self, code: int, status: str = "") -> None:
        super().__init__(status)
        self.code = code or 1
        self.status = status


class CLIError(Exception):
    """A plain error: its text goes to stderr and the exit code is 1 (docker's main)."""


class Command:
    """A command: `use` is cobra's Use line (`start [OPTIONS] CONTAINER [CONTAINER...]`).

    (A plain class, not a dataclass: a command line builds a few dozen in a fresh process.)"""

    __slots__ = (
        "use",
        "short",
        "run",
        "flags",
        "args",
        "interspersed",
        "parent",
        "subcommands",
        "aliases",
        "hidden",
        "help_shorthand",
    )

    def __init__(
        self,
        use: str,
        short: str,
        run: Callable[[Env, Parsed], int | None] | None = None,
        flags: list[Flag] | None = None,
        args: tuple[int, int | None] | None = None,  # (min, max); None = any
        interspersed: bool = True,
        parent: Command | None = None,
        subcommands: dict[str, Command] | None = None,
        aliases: tuple[str, ...] = (),
        hidden: bool = False,
        help_shorthand: bool = True,  # run/create free -h for --hostname
    ) -> None:
        self.use = use
        self.short = short
        self.run = run
        self.flags: list[Flag] = flags if flags is not None else []
        self.args = args
        self.interspersed = interspersed
        self.parent = parent
        self.subcommands: dict[str, Command] = subcommands if subcommands is not None else {}
        self.aliases = aliases
        self.hidden = hidden
        self.help_shorthand = help_shorthand

    def __repr__(self) -> str:
        return f"<Command {self.use!r}>"

    @property
    def name(self) -> str:
        return self.use.split()[0]

    @property
    def path(self) -> str:
        """cobra CommandPath: `dockerlayers container ls`."""
        return f"{self.parent.path} {self.name}" if self.parent else PROG

    @property
    def use_line(self) -> str:
        """cobra UseLine: the path plus the Use line's arguments."""
        rest = self.use.split(" ", 1)[1] if " " in self.use else ""
        return (
            f"{self.parent.path} {self.name}" + (f" {rest}" if rest else "")
            if self.parent
            else self.use
        )

    def add(self, cmd: Command) -> Command:
        cmd.parent = self
        self.subcommands[cmd.name] = cmd
        for alias in cmd.aliases:
            self.subcommands.setdefault(alias, cmd)
        return cmd

    def all_flags(self) -> list[Flag]:
        return [
            *self.flags,
            Flag("help", "h" if self.help_shorthand else "", help="Print usage", hidden=True),
        ]

    def usage(self) -> str:
        """The usage text cobra prints for --help (docker's template, shortened)."""
        out = []
        if self.subcommands:
            out.append(f"\nUsage:  {self.path} COMMAND\n\n{self.short}\n")
        else:
            out.append(f"\nUsage:  {self.use_line}\n\n{self.short}\n")
        if self.aliases:
            out.append(f"\nAliases:\n  {', '.join((self.name, *self.aliases))}\n")
        visible = [f for f in self.flags if not f.hidden]
        if visible:
            out.append("\nOptions:\n" + flag_usages(visible).rstrip("\n") + "\n")
        if self.subcommands:
            subs = sorted(
                {c.name: c for c in self.subcommands.values() if not c.hidden}.values(),
                key=lambda c: c.name,
            )
            # cobra's template: {{rpad .Name .NamePadding}} with a padding of at least 11
            width = max(11, *(len(c.name) for c in subs))
            out.append("\nCommands:\n")
            out.extend(f"  {c.name.ljust(width)} {c.short}\n" for c in subs)
            out.append(f"\nRun '{self.path} COMMAND --help' for more information on a command.\n")
        return "".join(out)

    def check_args(self, args: list[str]) -> None:
        """cli/required.go: NoArgs, RequiresMinArgs, RequiresMaxArgs, ExactArgs, RangeArgs."""
        if self.args is None:
            return
        lo, hi = self.args
        n = len(args)
        if lo <= n and (hi is None or n <= hi):
            return
        tail = f"\nSee '{self.path} --help'.\n\nUsage:  {self.use_line}\n\n{self.short}"
        if hi == 0:
            raise CLIError(f'"{self.path}" accepts no arguments.{tail}')
        if hi is None:
            raise CLIError(f'"{self.path}" requires at least {lo} {_plural("argument", lo)}.{tail}')
        if lo == hi:
            raise CLIError(f'"{self.path}" requires exactly {lo} {_plural("argument", lo)}.{tail}')
        if lo == 0:
            raise CLIError(f'"{self.path}" requires at most {hi} {_plural("argument", hi)}.{tail}')
        raise CLIError(
            f'"{self.path}" requires at least {lo} and at most {hi} {_plural("argument", hi)}.{tail}'  # noqa: E501
        )


def _plural(word: str, n: int) -> str:
    return word if n == 1 else word + "s"


class Session:
    """A command's hold on the daemon, as the docker CLI's API client is: commands call
    `session.daemon`. (Not a DockerClient: the SDK's models are no command's business,
    and each command is a fresh process that would import them.)"""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon


class Env:
    """What a command works with: the streams, the global options, and `client()` sessions
    on the root (each opens the daemon and detaches at the end)."""

    def __init__(
        self, root: str, driver: str | None, out: IO[str], err: IO[str], stdin: IO[Any] | None
    ) -> None:
        self.root = root
        self.driver = driver
        self.out = out
        self.err = err
        self.stdin = stdin
        self.seed = _int_env("DOCKERLAYERS_SEED")
        self.clock = os.environ.get("DOCKERLAYERS_CLOCK") or None
        self.mounts = os.environ.get("DOCKERLAYERS_MOUNTS") or "auto"

    @property
    def virtual(self) -> bool:
        return self.clock == "virtual"

    def storage_driver(self) -> str:
        """--driver, else the driver this root was made with (dockerd's prior-driver
        check), else overlay2."""
        if self.driver:
            return self.driver
        for name in DRIVERS:
            if os.path.isdir(os.path.join(self.root, "image", name)):
                return name
        return "overlay2"

    @contextmanager
    def client(self) -> Iterator[Session]:
        """The daemon on the root for the duration of the block (`client.daemon`);
        detached after."""
        from dockerlayers.daemon.daemon import Daemon, RootInUse

        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                daemon = Daemon(
                    self.root,
                    self.storage_driver(),
                    seed=self.seed,
                    clock=self.clock,
                    mounts=self.mounts,
                )
                break
            except RootInUse:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
        try:
            yield Session(daemon)
        finally:
            daemon.detach()

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def eprint(self, text: str = "") -> None:
        self.err.write(text + "\n")


def _int_env(name: str) -> int | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def default_root() -> str:
    """$DOCKERLAYERS_ROOT, else $XDG_DATA_HOME/dockerlayers, else ~/.local/share/dockerlayers."""
    env = os.environ.get("DOCKERLAYERS_ROOT")
    if env:
        return env
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(data, "dockerlayers")


def flag_error(cmd: Command, err: Exception) -> StatusError:
    """cli.FlagErrorFunc: the error, `See '<path> --help'.`, exit 125."""
    usage = "\n\n" + cmd.usage() if cmd.subcommands else ""
    return StatusError(125, f"{err}\nSee '{cmd.path} --help'.{usage}")


ROOT_FLAGS = [
    Flag(
        "root",
        kind="string",
        help="Root folder of the model's state (default $DOCKERLAYERS_ROOT or ~/.local/share/dockerlayers)",  # noqa: E501
    ),
    Flag(
        "driver",
        kind="string",
        help="Storage driver: overlay2, aufs or vfs (default: the root's, else overlay2)",
    ),
    Flag("version", "v", help="Print version information and quit"),
]


def run_main(
    root_cmd: Command, argv: list[str], out: IO[str], err: IO[str], stdin: IO[Any] | None
) -> int:
    """Parse, dispatch, and turn every outcome into docker's output and exit code."""
    try:
        return _dispatch(root_cmd, argv, out, err, stdin)
    except StatusError as e:
        if e.status:
            err.write(e.status + "\n")
        return e.code
    except CLIError as e:
        err.write(f"{e}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`logs | head -1`): docker dies of SIGPIPE, quietly
        _quiet_stdout(out)
        return 141


def _quiet_stdout(out: IO[str]) -> None:
    """After a broken pipe: later flushes (ours, the interpreter's at exit) go nowhere."""
    import os

    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _dispatch(
    root_cmd: Command, argv: list[str], out: IO[str], err: IO[str], stdin: IO[Any] | None
) -> int:
    from dockerlayers.daemon.daemon import RootInUse
    from dockerlayers.errors import DockerException

    # global options come before the command (cobra TraverseChildren)
    try:
        top = parse_flags([*ROOT_FLAGS, Flag("help", "h")], argv, interspersed=False)
    except FlagError as e:
        raise flag_error(root_cmd, e) from None
    if top.version:
        from dockerlayers import __version__

        out.write(f"{PROG} version {__version__} (a model of Docker Engine 20.10)\n")
        return 0
    rest = top.args
    if not rest:
        out.write(root_cmd.usage())
        return 0
    driver = top.driver or None
    if driver and driver not in DRIVERS:
        raise CLIError(f"error initializing graphdriver: driver not supported: {driver}")
    cmd = root_cmd
    while rest and cmd.subcommands and rest[0] in cmd.subcommands:
        cmd = cmd.subcommands[rest[0]]
        rest = rest[1:]
    if cmd is root_cmd:
        if rest[0] == "help":
            out.write(root_cmd.usage())
            return 0
        raise CLIError(f"{PROG}: '{rest[0]}' is not a {PROG} command.\nSee '{PROG} --help'")
    try:
        parsed = parse_flags(cmd.all_flags(), rest, cmd.interspersed)
    except FlagError as e:
        raise flag_error(cmd, e) from None
    if parsed.help:
        out.write(cmd.usage())
        return 0
    if cmd.run is None:
        # a management command without a subcommand: its usage (cobra ShowHelp)
        if parsed.args:
            # cobra: an unknown subcommand of a group prints the group's usage to stderr
            raise StatusError(1, cmd.usage().rstrip("\n"))
        out.write(cmd.usage())
        return 0
    cmd.check_args(parsed.args)
    env = Env(os.path.abspath(top.root or default_root()), driver, out, err, stdin)
    try:
        return cmd.run(env, parsed) or 0
    except RootInUse as e:
        raise CLIError(str(e)) from None
    except DockerException as e:
        raise CLIError(daemon_error(e)) from None


def daemon_error(e: Exception) -> str:
    """How the docker client words a daemon error: `Error response from daemon: ...`."""
    from dockerlayers.errors import APIError

    if isinstance(e, APIError):
        return f"Error response from daemon: {e}"
    return str(e)
