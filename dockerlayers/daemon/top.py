"""`docker top` and `docker stats`: what the engine reads from `ps` and the cgroups.

The model runs one simulated process per container (its shell runs pipelines and applets
itself) and has no cgroups: top lists PID 1 as `ps -ef` shows it; stats has the Engine
API's shape with the numbers the model knows (pids) and zeros for what it does not
measure (CPU, memory, I/O).

moby: daemon/top_unix.go ContainerTop, daemon/stats.go ContainerStats,
api/types/stats.go StatsJSON
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from dockerlayers.daemon.errors import not_running, restarting
from dockerlayers.errors import InvalidParameter
from dockerlayers.process.clock import format_rfc3339nano

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

TITLES = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]


def top(daemon: Daemon, ref: str, ps_args: str | None = None) -> dict[str, Any]:
    """The API's /containers/{id}/top answer: Titles and Processes."""
    with daemon.operation(ref, check_open=False) as c:
        if not c.state.running:
            raise not_running(c.id)
        if c.state.restarting:
            raise restarting(c.id)
        started = c.state.started_at or daemon.clock.now()
        user = _user(c.config.get("User") or "")
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
        args = (ps_args or "-ef").split()
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


def _user(user: str) -> str:
    name = user.split(":", 1)[0]
    return "root" if name in ("", "0") else name


def stats(daemon: Daemon, ref: str) -> dict[str, Any]:
    """One sample of `GET /containers/{id}/stats?stream=false` (StatsJSON's keys).

    moby: daemon/stats.go ContainerStats, daemon/stats/collector.go
    """
    with daemon.operation(ref) as c:
        running = c.state.running
        now = format_rfc3339nano(daemon.clock.now()) if running else "0001-01-01T00:00:00Z"
        cpu = {
            "cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
            "system_cpu_usage": 0,
            "online_cpus": 0,
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
        }
        blkio = {
            k: None
            for k in (
                "io_service_bytes_recursive",
                "io_serviced_recursive",
                "io_queue_recursive",
                "io_service_time_recursive",
                "io_wait_time_recursive",
                "io_merged_recursive",
                "io_time_recursive",
                "sectors_recursive",
            )
        }
        return {
            "read": now,
            "preread": "0001-01-01T00:00:00Z",
            "pids_stats": {"current": 1} if running else {},
            "blkio_stats": blkio,
            "num_procs": 0,
            "storage_stats": {},
            "cpu_stats": cpu,
            "precpu_stats": {
                "cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
            },
            "memory_stats": {},
            "name": c.name,
            "id": c.id,
            "networks": {},
        }
