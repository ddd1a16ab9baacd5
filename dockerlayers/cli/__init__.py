"""`dockerlayers ...`: a command line shaped like the docker 20.10 CLI, on the model.

    dockerlayers run -d --name web busybox sh -c 'while true; do sleep 1; done'
    dockerlayers ps
    DOCKERLAYERS_CLOCK=virtual dockerlayers clock advance 10s

State lives in the root (`--root`, `$DOCKERLAYERS_ROOT`, else `~/.local/share/dockerlayers`)
and persists between invocations. `$DOCKERLAYERS_CLOCK=virtual` keeps a persisted virtual
clock (moved by `dockerlayers clock advance`), `$DOCKERLAYERS_SEED` makes IDs and names
reproducible, `$DOCKERLAYERS_MOUNTS` picks the union (auto, user, kernel).

Texts, tables and exit codes are docker 20.10's. The one systematic change: wherever docker
names itself (`docker: ...`, `See 'docker run --help'.`, usage lines, `is not a docker
command`) we print `dockerlayers`, so replacing `dockerlayers` by `docker` in our output gives
docker's text (what a conformance scenario compares). Known differences, by design:
- the only image that can be "pulled" is the built-in `base`; any other missing image fails
  as on a daemon without network (`Get "https://registry-1.docker.io/v2/": ... no such host`);
- no networking: PORTS and NETWORKS are empty; no stdin: `-i` is accepted and ignored;
- `events` prints the recorded events up to `--until` (default: now) and returns instead of
  following the live stream; `logs -f` does not follow either;
- attached `run --rm` removes the container from the CLI after the exit (to read its output
  first), so inspecting it meanwhile shows `AutoRemove: false`;
- `info` and `version` describe the model, in docker's layout;
- `-p`, `-m`, `--cpus`, `--privileged`, `--init` and `update`'s limits are recorded in
  HostConfig as Docker records them and have no effect; `stats` prints one snapshot with
  zero usage; `top` shows the one simulated process (docs/differences.md);
- `dockerlayers clock show|advance DURATION` is the model's own command (virtual clock).

docker/cli: cmd/docker/docker.go, cli/command/commands/commands.go
"""

from __future__ import annotations

import sys
from typing import IO, Any

from dockerlayers.cli.app import PROG, ROOT_FLAGS, Command, run_main
from dockerlayers.cli.flags import Flag, FlagError, parse_flags

__all__ = ["PROG", "build_root", "main"]


#: Which part of the command tree each top-level word is in: a command line builds (and
#: imports) only the part its command is in. A word not listed (`help`, a typo, none)
#: builds the whole tree. tests/cli/test_lazy_imports.py checks this table against it.
_PART_OF = {
    **dict.fromkeys(
        (
            *("run", "create", "start", "stop", "restart", "kill", "pause", "unpause", "rm"),
            *("rename", "wait", "exec", "diff", "export", "logs", "commit", "ps", "update"),
            *("top", "port", "attach", "stats", "container"),
        ),
        "containers",
    ),
    "cp": "cp",
    **dict.fromkeys(
        ("images", "history", "rmi", "tag", "save", "load", "import", "build", "image"), "images"
    ),
    **dict.fromkeys(
        ("inspect", "events", "info", "version", "volume", "system", "clock"), "system"
    ),
    **dict.fromkeys(("pull", "push", "login", "logout"), "registry"),
}


Part = tuple[list[Command], list[Command]]  # top-level commands, management groups


def _containers() -> Part:
    from dockerlayers.cli.commands.container import container_commands, container_management
    from dockerlayers.cli.commands.cp import cp_command

    group = container_management()
    group.add(cp_command())
    return container_commands(), [group]


def _cp() -> Part:
    from dockerlayers.cli.commands.cp import cp_command

    return [cp_command()], []


def _images() -> Part:
    from dockerlayers.cli.commands.image import image_commands, image_management

    return image_commands(), [image_management()]


def _system() -> Part:
    from dockerlayers.cli.commands.system import (
        clock_management,
        system_commands,
        system_management,
        volume_management,
    )

    return system_commands(), [volume_management(), system_management(), clock_management()]


def _registry() -> Part:
    from dockerlayers.cli.commands.registry import registry_commands

    return registry_commands(), []


_PARTS = {
    "containers": _containers,
    "cp": _cp,
    "images": _images,
    "system": _system,
    "registry": _registry,
}


def build_root(command: str | None = None) -> Command:
    """The command tree: top-level commands plus `container`, `image`, `volume`, `clock`.

    `command`: the word a command line starts with; then only the part of the tree that
    holds it is built, so that a command imports its own module and not every command's
    (issue 16: each command is a fresh process).
    """
    part = _PART_OF.get(command) if command else None
    parts = [_PARTS[part]()] if part else [make() for make in _PARTS.values()]
    root = Command(
        f"{PROG} [OPTIONS] COMMAND", "A model of Docker's storage and container lifecycle"
    )
    for commands, _ in parts:
        for cmd in commands:
            root.add(cmd)
    for _, groups in parts:
        for group in groups:
            root.add(group)
    return root


def command_word(argv: list[str]) -> str | None:
    """The command a command line runs: its first word after the global options (None
    when there is none or the options do not parse; the whole tree then answers)."""
    try:
        top = parse_flags([*ROOT_FLAGS, Flag("help", "h")], argv, interspersed=False)
    except FlagError:
        return None
    return top.args[0] if top.args else None


def main(
    argv: list[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[Any] | None = None,
) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    args = list(sys.argv[1:] if argv is None else argv)
    code = run_main(
        build_root(command_word(args)),
        args,
        out,
        err,
        stdin if stdin is not None else sys.stdin,
    )
    try:
        out.flush()
        err.flush()
    except BrokenPipeError:
        return 141
    return code
