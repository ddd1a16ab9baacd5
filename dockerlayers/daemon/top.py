"""`docker top` and `docker stats`: what the engine reads from `ps` and the cgroups.

The model has one simulated process per container (PID 1, plus an exec while it runs) and no
cgroups: top lists PID 1 as `ps -ef` shows it; stats has the Engine API's shape with the
numbers the model knows (pids) and zeros for what it does not measure (CPU, memory, I/O).

moby: daemon/top_unix.go ContainerTop, daemon/stats.go ContainerStats,
api/types/stats.go StatsJSON
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from dockerlayers.daemon.errors import not_running
from dockerlayers.process.clock import format_rfc3339nano

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

#: `ps -ef`'s columns, the default of `docker top`
TITLES = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]


def top(daemon: Daemon, ref: str, ps_args: str | None = None) -> dict[str, Any]:
    """{"Titles": [...], "Processes": [[...], ...]}; a stopped container is refused.

    moby: daemon/top_unix.go ContainerTop (`ps -ef` filtered to the container's pids)
    """
    with daemon.operation(ref) as c:
        if not c.state.running or c.state.restarting:
            raise not_running(c.id)
        started = c.state.started_at or daemon.clock.now()
        cmd = " ".join([c.path, *c.args])
        row = [
            _user(c.config.get("User") or ""),
            str(c.state.pid),
            "0",
            "0",
            time.strftime("%H:%M", time.gmtime(started)),
            "?",
            "00:00:00",
            cmd,
        ]
        return {"Titles": list(TITLES), "Processes": [row]}


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
