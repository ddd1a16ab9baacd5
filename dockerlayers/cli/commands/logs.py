"""`docker logs [-f] [--tail N] [--since/--until] [-t] [--details]`: the json-file log's
messages, both streams in order, and following them until the container stops.

docker/cli 20.10: cli/command/container/logs.go; moby: daemon/logs.go
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dockerlayers.cli.app import CLIError, Env
from dockerlayers.cli.commands.common import (
    get_timestamp,
    not_found,
)
from dockerlayers.cli.flags import Parsed
from dockerlayers.errors import DockerException


def run_logs(env: Env, p: Parsed) -> int:
    ref = p.args[0]
    with env.client() as client:
        try:
            info = client.daemon.inspect(ref)
        except DockerException as e:
            raise CLIError(not_found("container", ref, e)) from None
        now = client.daemon.clock.now()
        kwargs: dict[str, Any] = {
            "timestamps": p.timestamps,
            "tail": p.tail if p.tail != "all" else "all",
        }
        # docker/cli client/container_logs.go: errors.Wrap(err, `invalid value for "since"`)
        for key in ("since", "until"):
            value = getattr(p, key)
            if value:
                try:
                    kwargs[key] = get_timestamp(value, now)
                except CLIError as e:
                    raise CLIError(f'invalid value for "{key}": {e}') from None
        if kwargs["tail"] != "all":
            try:
                kwargs["tail"] = int(kwargs["tail"])
            except ValueError:
                kwargs["tail"] = "all"
        stamps = kwargs.pop("timestamps")
        messages = client.daemon.log_messages(info["Id"], **kwargs)
        # where following goes on from: the end of the whole log, whatever was selected
        seen = sum(1 for _ in client.daemon.log_messages(info["Id"])) if p.follow else 0
    # one `--tail N` over both streams; each message to the stream it came from, in order
    err_out = env.out if info["Config"].get("Tty") else env.err
    # --details: the message's attributes (the log options' labels and env; none here),
    # then a space (moby: daemon/logs.go, `strings.Join(attrs, ",") + " "`)
    lead = " " if p.details else ""

    def show(ms: Any) -> None:
        for m in ms:
            text = (m["time"] + " " if stamps else "") + lead + m["log"]
            target = err_out if m["stream"] == "stderr" else env.out
            target.write(text)
            target.flush()

    show(messages)
    if p.follow and info["State"]["Running"]:
        _follow_logs(env, info["Id"], seen, show)
    return 0


def _follow_logs(env: Env, cid: str, seen: int, show: Callable[[Any], None]) -> None:
    """`logs -f`: what the container writes from now on, until it stops. On a virtual
    clock time jumps to its exit (or as far as anything is due); on a real one each look
    is a fresh session, so other commands can use the root meanwhile.

    moby: daemon/logs.go (Follow: the reader stays open until the container stops)"""
    while True:
        if not env.virtual:
            time.sleep(0.1)
        with env.client() as client:
            if env.virtual:
                try:
                    client.daemon.wait(cid, condition="not-running")
                except DockerException:
                    pass  # it waits for nothing that can happen: nothing more comes
            else:
                client.daemon.tick()
            try:
                messages = list(client.daemon.log_messages(cid))
                running = client.daemon.inspect(cid)["State"]["Running"]
            except DockerException:
                return  # removed meanwhile
        show(messages[seen:])
        seen = len(messages)
        if env.virtual or not running:
            return
