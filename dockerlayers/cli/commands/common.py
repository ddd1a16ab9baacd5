"""Helpers the commands share: error wording, per-item loops, timestamps, filters,
references, the prune prompt, waiting. The command modules import from here, never from
each other's verbs, so there is no cycle among them.

docker/cli: cli/command/container/utils.go (waitExitOrRemoved), opts/ (GetTimestamp,
FilterOpt), cli/command/utils.go (PromptForConfirmation), client/errors.go
(objectNotFoundError: `Error: No such container: x`)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from dockerlayers import timetypes
from dockerlayers.cli.app import CLIError, Env, daemon_error
from dockerlayers.errors import DockerException, InvalidParameter, NotFound


def is_missing(e: DockerException) -> bool:
    """A 404 for the thing itself (an ambiguous prefix is a 404 too, but not "missing")."""
    return isinstance(e, NotFound) and not str(e).startswith("multiple IDs")


def not_found(kind: str, ref: str, e: DockerException) -> str:
    """The client's wording for calls that wrap a 404 (rm, inspect, logs, exec, start -a)."""
    if is_missing(e):
        return f"Error: No such {kind}: {ref}"
    return daemon_error(e)


def each(
    env: Env,
    refs: list[str],
    op: Callable[[str], None],
    wrap: str | None = None,
    missing_ok: bool = False,
) -> int:
    """Run `op` on every ref, printing the ref on success; then fail with every error
    joined (docker's stop/kill/rm/pause/... loops). `missing_ok`: a ref that does not
    exist is reported but is no failure (`rm -f`: docker/cli rm.go, IsNotFound)."""
    errs = []
    for ref in refs:
        try:
            op(ref)
        except DockerException as e:
            text = not_found(wrap, ref, e) if wrap else daemon_error(e)
            if missing_ok and is_missing(e):
                env.err.write(text + "\n")
                continue
            errs.append(text)
            continue
        env.print(ref)
    if errs:
        raise CLIError("\n".join(errs))
    return 0


def get_timestamp(value: str, now: float) -> float:
    """opts/GetTimestamp (see `dockerlayers.timetypes`), its error as the CLI's."""
    try:
        return timetypes.get_timestamp(value, now)
    except ValueError as e:
        raise CLIError(str(e)) from None


def go_json(value: Any, indent: bool = False) -> str:
    """JSON as Go's encoder writes it (`<`, `>`, `&` escaped; non-ASCII kept)."""
    text = json.dumps(
        value,
        ensure_ascii=False,
        indent=4 if indent else None,
        separators=None if indent else (",", ":"),
    )
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def split_repo_tag(ref: str) -> tuple[str, str | None]:
    """`repo:tag` -> (repo, tag); the tag is after the last `:` that follows the last `/`."""
    name, sep, tag = ref.rpartition(":")
    if sep and "/" not in tag:
        return name, tag
    return ref, None


def parse_filters(values: list[str]) -> dict[str, list[str]]:
    """opts.FilterOpt: `key=value` pairs; a bad one is `bad format of filter (expected name=value)`."""  # noqa: E501
    out: dict[str, list[str]] = {}
    for v in values:
        if "=" not in v:
            raise CLIError("bad format of filter (expected name=value)")
        k, _, val = v.partition("=")
        out.setdefault(k.strip().lower(), []).append(val.strip())
    return out


def confirm(env: Env, message: str) -> bool:
    """command.PromptForConfirmation: `<message> [y/N] `, yes only for y/Y."""
    env.out.write(f"{message} [y/N] ")
    env.out.flush()
    line = env.stdin.readline() if env.stdin is not None else ""
    if isinstance(line, bytes):
        line = line.decode()
    return line.strip() in ("y", "Y")


def prune(
    env: Env, force: bool, warning: str, run: Callable[[Any], dict], deleted_key: str, title: str
) -> int:
    """Ask (unless forced), prune, then print what went and the space reclaimed, as
    `docker container prune` / `docker volume prune` do."""
    if not force and not confirm(env, warning):
        env.print("Total reclaimed space: 0B")
        return 0
    with env.client() as client:
        report = run(client)
    deleted = report.get(deleted_key) or []
    if deleted:
        env.print(f"{title}:\n" + "".join(f"{d}\n" for d in deleted))
    from dockerlayers.cli.formatter import human_size

    reclaimed = human_size(report.get("SpaceReclaimed") or 0) if deleted else "0B"
    env.print(f"Total reclaimed space: {reclaimed}")
    return 0


def die_events(client: Any, cid: str) -> list[dict[str, Any]]:
    return client.daemon.events.list(filters={"container": [cid], "event": ["die"]})


class Attachment:
    """Follow a container's output and its next exit, like `docker run`/`start -a`:
    output is read from the daemon's log as it grows; the exit code is that of the first
    `die` event after `dies_before` (so an exit that happened during start is not missed).
    """

    def __init__(self, env: Env, cid: str, dies_before: int, tty: bool = False) -> None:
        self.env = env
        self.cid = cid
        self.dies_before = dies_before
        self.tty = tty
        #: log messages (both streams, in the order written) already shown
        self.seen = 0
        #: the streams shown (`run -a stdout` shows one)
        self.streams = {"stdout", "stderr"}

    def _messages(self, client: Any) -> list[dict[str, str]]:
        try:
            return list(client.daemon.log_messages(self.cid))
        except (NotFound, InvalidParameter):  # removed, or a log driver that keeps nothing
            return []

    def skip_existing(self, client: Any) -> None:
        """Start after what the log already holds (attaching shows only new output)."""
        self.seen = len(self._messages(client))

    def pump(self, client: Any) -> None:
        """Write the output produced since the last call, stdout and stderr interleaved in
        the order the process wrote them (the attach stream multiplexes both)."""
        messages = self._messages(client)
        new, self.seen = messages[self.seen :], max(self.seen, len(messages))
        for m in new:
            if m["stream"] not in self.streams:
                continue  # `run -a` without that stream
            target = self.env.out if m["stream"] != "stderr" or self.tty else self.env.err
            target.write(m["log"])
            target.flush()

    def exit_code(self, client: Any) -> int | None:
        dies = die_events(client, self.cid)
        if len(dies) > self.dies_before:
            return int(dies[self.dies_before]["Actor"]["Attributes"].get("exitCode", "0"))
        try:
            client.daemon.inspect(self.cid)
        except NotFound:
            return 125  # removed without a die event we could see
        return None

    def wait(self, client: Any) -> int:
        """Block until the exit: in the session with a virtual clock (time jumps to the
        exit), else by polling in fresh sessions so other invocations can use the root."""
        code = self.exit_code(client)
        if code is None and self.env.virtual:
            client.daemon.wait(self.cid, condition="next-exit")
            code = self.exit_code(client)
        self.pump(client)
        if code is not None:
            return code
        return -1  # caller polls

    def poll(self) -> int:
        while True:
            time.sleep(0.1)
            with self.env.client() as client:
                client.daemon.tick()
                code = self.exit_code(client)
                self.pump(client)
                if code is not None:
                    return code


def validate_output_path(path: str) -> str | None:
    """Why `-o PATH` cannot be written (None: it can), in the docker 20.10 CLI's words;
    callers prefix `failed to save image: ` or `failed to export container: `.

    docker/cli 20.10: cli/command/utils.go ValidateOutputPath, ValidateOutputPathFileMode
    """
    import stat as _stat

    from dockerlayers.gostrings import go_quote

    folder = os.path.dirname(os.path.normpath(path))
    if folder and folder != "." and not os.path.exists(folder):
        return f"invalid output path: directory {go_quote(folder)} does not exist"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"stat {path}: {(e.strerror or str(e)).lower()}"
    if _stat.S_ISDIR(mode) or _stat.S_ISREG(mode):
        return None
    why = "got a device" if _stat.S_ISCHR(mode) or _stat.S_ISBLK(mode) else None
    if _stat.S_ISSOCK(mode):
        why = "got an irregular file"
    if why is None:  # a FIFO: Go's ModeIrregular does not cover it, the write goes ahead
        return None
    return f"invalid output path: {go_quote(path)} must be a directory or a regular file: {why}"
