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

from dockerlayers.cli.app import PROG, Command, run_main

__all__ = ["PROG", "build_root", "main"]


def build_root() -> Command:
    """The command tree: top-level commands plus `container`, `image`, `volume`, `clock`."""
    from dockerlayers.cli.commands.container import container_commands, container_management
    from dockerlayers.cli.commands.cp import cp_command
    from dockerlayers.cli.commands.image import image_commands, image_management
    from dockerlayers.cli.commands.registry import registry_commands
    from dockerlayers.cli.commands.system import (
        clock_management,
        system_commands,
        system_management,
        volume_management,
    )

    root = Command(
        f"{PROG} [OPTIONS] COMMAND", "A model of Docker's storage and container lifecycle"
    )
    for cmd in [
        *container_commands(),
        cp_command(),
        *image_commands(),
        *system_commands(),
        *registry_commands(),
    ]:
        root.add(cmd)
    containers = container_management()
    containers.add(cp_command())
    for group in (
        containers,
        image_management(),
        volume_management(),
        system_management(),
        clock_management(),
    ):
        root.add(group)
    return root


def main(
    argv: list[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[Any] | None = None,
) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    code = run_main(
        build_root(),
        list(sys.argv[1:] if argv is None else argv),
        out,
        err,
        stdin if stdin is not None else sys.stdin,
    )
    out.flush()
    err.flush()
    return code
