"""`docker top`: the processes of a running container, as `ps -ef` lists them.

The model runs one simulated process per container (its shell runs pipelines and applets
itself), so the list has one line: PID 1's command as `ps` prints it.

moby: daemon/top_unix.go ContainerTop
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from dockerlayers.daemon.errors import not_running, restarting
from dockerlayers.errors import InvalidParameter

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

TITLES = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]


def top(daemon: Daemon, ref: str, ps_args: str = "-ef") -> dict[str, Any]:
    """The API's /containers/{id}/top answer: Titles and Processes."""
    with daemon.operation(ref, check_open=False) as c:
        if not c.state.running:
            raise not_running(c.id)
        if c.state.restarting:
            raise restarting(c.id)
        started = c.state.started_at or daemon.clock.now()
        user = c.config.get("User") or "root"
        cmd = " ".join([c.path, *c.args])
        row = {
            "UID": user,
            "PID": str(c.state.pid),
            "PPID": "0",
            "C": "0",
            "STIME": time.strftime("%H:%M", time.localtime(started)),
            "TTY": "pts/0" if c.config.get("Tty") else "?",
            "TIME": "00:00:00",
            "CMD": cmd,
        }
        titles = list(TITLES)
        args = ps_args.split()
        if len(args) == 2 and args[0] == "-o":
            names = {
                "pid": "PID",
                "ppid": "PPID",
                "user": "USER",
                "uid": "UID",
                "args": "COMMAND",
                "cmd": "CMD",
                "comm": "COMMAND",
                "stime": "STIME",
                "tty": "TT",
                "time": "TIME",
            }
            keys = {"USER": "UID", "COMMAND": "CMD", "TT": "TTY"}
            titles = [names.get(k, k.upper()) for k in args[1].split(",")]
            if "PID" not in titles:
                # moby: daemon/top_unix.go parsePSOutput
                raise InvalidParameter("Couldn't find PID field in ps output")
            return {
                "Titles": titles,
                "Processes": [[row.get(keys.get(t, t), "-") for t in titles]],
            }
        return {"Titles": titles, "Processes": [[row[t] for t in titles]]}
