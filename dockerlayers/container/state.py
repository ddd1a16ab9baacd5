"""A container's state: the flags moby keeps, the status string and the human status.

Running, Paused and Restarting are not exclusive: a paused container is also running, and so
is one waiting to be restarted by its policy.

moby: container/state.go
"""

from __future__ import annotations

from typing import Any

from dockerlayers._record import Record
from dockerlayers.process.clock import (
    ZERO_TIME,
    format_rfc3339nano,
    human_duration,
    parse_rfc3339nano,
)

#: Every status `docker inspect` can report.
STATUSES = ("created", "running", "paused", "restarting", "removing", "exited", "dead")


class State(Record):
    """moby's container.State, persisted in config.v2.json under "State"."""

    _fields = (
        *("running", "paused", "restarting", "oom_killed", "removal_in_progress", "dead"),
        *("pid", "exit_code", "error", "started_at", "finished_at", "health", "extra"),
    )

    def __init__(
        self,
        running: bool = False,
        paused: bool = False,
        restarting: bool = False,
        oom_killed: bool = False,
        removal_in_progress: bool = False,
        dead: bool = False,
        pid: int = 0,
        exit_code: int = 0,
        error: str = "",
        started_at: float | None = None,
        finished_at: float | None = None,
        health: Any = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.running = running
        self.paused = paused
        self.restarting = restarting
        self.oom_killed = oom_killed
        self.removal_in_progress = removal_in_progress
        self.dead = dead
        self.pid = pid
        self.exit_code = exit_code
        self.error = error
        self.started_at = started_at
        self.finished_at = finished_at
        self.health = health
        self.extra: dict[str, Any] = extra if extra is not None else {}

    def state_string(self) -> str:
        """The `Status` field: checked in moby's order.

        moby: container/state.go StateString
        """
        if self.running:
            if self.paused:
                return "paused"
            if self.restarting:
                return "restarting"
            return "running"
        if self.removal_in_progress:
            return "removing"
        if self.dead:
            return "dead"
        if self.started_at is None:
            return "created"
        return "exited"

    def human(self, now: float) -> str:
        """The STATUS column of `docker ps`.

        moby: container/state.go String
        """
        if self.running:
            if self.paused:
                return f"Up {human_duration(now - (self.started_at or now))} (Paused)"
            if self.restarting:
                since = human_duration(now - (self.finished_at or now))
                return f"Restarting ({self.exit_code}) {since} ago"
            return f"Up {human_duration(now - (self.started_at or now))}"
        if self.removal_in_progress:
            return "Removal In Progress"
        if self.dead:
            return "Dead"
        if self.started_at is None:
            return "Created"
        if self.finished_at is None:
            return ""
        return f"Exited ({self.exit_code}) {human_duration(now - self.finished_at)} ago"

    # -- transitions (moby: container/state.go Set*) -------------------------------------
    def set_running(self, pid: int, started_at: float) -> None:
        self.error = ""
        self.paused = False
        self.restarting = False
        self.oom_killed = False
        self.running = True
        self.exit_code = 0
        self.pid = pid
        self.started_at = started_at

    def set_stopped(self, exit_code: int, finished_at: float) -> None:
        self.running = False
        self.paused = False
        self.restarting = False
        self.pid = 0
        self.finished_at = finished_at
        self.exit_code = exit_code

    def set_restarting(self, exit_code: int, finished_at: float) -> None:
        self.running = True
        self.restarting = True
        self.paused = False
        self.pid = 0
        self.finished_at = finished_at
        self.exit_code = exit_code

    def set_removal_in_progress(self) -> bool:
        """Mark removal; True if it was already marked."""
        if self.removal_in_progress:
            return True
        self.removal_in_progress = True
        return False

    def reset_removal_in_progress(self) -> None:
        self.removal_in_progress = False

    # -- JSON ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """As config.v2.json keeps it (moby 20.10 field names)."""
        return {
            "Running": self.running,
            "Paused": self.paused,
            "Restarting": self.restarting,
            "OOMKilled": self.oom_killed,
            "RemovalInProgress": self.removal_in_progress,
            "Dead": self.dead,
            "Pid": self.pid,
            "ExitCode": self.exit_code,
            "Error": self.error,
            "StartedAt": format_rfc3339nano(self.started_at),
            "FinishedAt": format_rfc3339nano(self.finished_at),
            "Health": self.health,
        }

    def inspect(self) -> dict[str, Any]:
        """The `State` object of `docker inspect`.

        moby: daemon/inspect.go
        """
        return {
            "Status": self.state_string(),
            "Running": self.running,
            "Paused": self.paused,
            "Restarting": self.restarting,
            "OOMKilled": self.oom_killed,
            "Dead": self.dead,
            "Pid": self.pid,
            "ExitCode": self.exit_code,
            "Error": self.error,
            "StartedAt": format_rfc3339nano(self.started_at),
            "FinishedAt": format_rfc3339nano(self.finished_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        return cls(
            running=bool(data.get("Running")),
            paused=bool(data.get("Paused")),
            restarting=bool(data.get("Restarting")),
            oom_killed=bool(data.get("OOMKilled")),
            removal_in_progress=bool(data.get("RemovalInProgress")),
            dead=bool(data.get("Dead")),
            pid=int(data.get("Pid") or 0),
            exit_code=int(data.get("ExitCode") or 0),
            error=data.get("Error") or "",
            started_at=parse_rfc3339nano(data.get("StartedAt") or ZERO_TIME),
            finished_at=parse_rfc3339nano(data.get("FinishedAt") or ZERO_TIME),
            health=data.get("Health"),
        )
