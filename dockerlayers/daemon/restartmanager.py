"""Restart policies: whether and when a container that exited is started again.

moby: restartmanager/restartmanager.go, api/types/container/hostconfig.go (validation)
"""

from __future__ import annotations

from typing import Any

from dockerlayers._record import Record
from dockerlayers.errors import InvalidParameter

BACKOFF_MULTIPLIER = 2
DEFAULT_TIMEOUT = 0.1  # seconds
MAX_RESTART_TIMEOUT = 60.0
MIN_RUN_TO_RESET = 10.0  # a container that ran this long gets the short back-off again

POLICIES = ("no", "always", "unless-stopped", "on-failure")


def validate_restart_policy(policy: dict[str, Any]) -> None:
    """Docker 20.10's checks and texts.

    moby 20.10: daemon/container.go validateRestartPolicy
    """
    name = policy.get("Name") or "no"
    count = int(policy.get("MaximumRetryCount") or 0)
    if name in ("always", "unless-stopped", "no"):
        if count != 0:
            raise InvalidParameter(
                f"maximum retry count cannot be used with restart policy '{name}'"
            )
    elif name == "on-failure":
        if count < 0:
            raise InvalidParameter("maximum retry count cannot be negative")
    else:
        raise InvalidParameter(f"invalid restart policy '{name}'")


def parse_restart_policy(value: str | dict[str, Any] | None) -> dict[str, Any]:
    """`"on-failure:3"` / `{"Name": "always"}` -> {"Name", "MaximumRetryCount"}."""
    if value is None or value == "":
        return {"Name": "no", "MaximumRetryCount": 0}
    if isinstance(value, dict):
        return {
            "Name": value.get("Name") or "no",
            "MaximumRetryCount": int(value.get("MaximumRetryCount") or 0),
        }
    name, _, count = value.partition(":")
    if count and name != "on-failure":
        raise InvalidParameter(f"maximum retry count cannot be used with restart policy '{name}'")
    try:
        n = int(count) if count else 0
    except ValueError:
        raise InvalidParameter(f"maximum retry count must be an integer: {count}") from None
    return {"Name": name, "MaximumRetryCount": n}


class RestartManager(Record):
    """One container's restart bookkeeping (persisted with the container's runtime state)."""

    _fields = ("policy", "restart_count", "timeout", "canceled")

    def __init__(
        self,
        policy: dict[str, Any],
        restart_count: int = 0,
        timeout: float = 0.0,
        canceled: bool = False,
    ) -> None:
        self.policy = policy
        self.restart_count = restart_count
        self.timeout = timeout
        self.canceled = canceled

    def should_restart(
        self, exit_code: int, has_been_manually_stopped: bool, execution_duration: float
    ) -> tuple[bool, float]:
        """Decide, and if so return the back-off to wait before starting again.

        moby: restartmanager/restartmanager.go ShouldRestart
        """
        if self.canceled:
            return False, 0.0
        if self.timeout == 0 or execution_duration >= MIN_RUN_TO_RESET:
            self.timeout = DEFAULT_TIMEOUT
        else:
            self.timeout = min(self.timeout * BACKOFF_MULTIPLIER, MAX_RESTART_TIMEOUT)
        name = self.policy.get("Name") or "no"
        restart = False
        if name == "always":
            restart = True
        elif name == "unless-stopped":
            restart = not has_been_manually_stopped
        elif name == "on-failure":
            maximum = int(self.policy.get("MaximumRetryCount") or 0)
            if exit_code != 0 and (maximum == 0 or self.restart_count < maximum):
                restart = True
        if not restart:
            return False, 0.0
        self.restart_count += 1
        return True, self.timeout

    def cancel(self) -> None:
        """Stop/kill: no more restarts until the next manual start (moby: Cancel)."""
        self.canceled = True

    def to_json(self) -> dict[str, Any]:
        return {
            "Policy": self.policy,
            "RestartCount": self.restart_count,
            "Timeout": self.timeout,
            "Canceled": self.canceled,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RestartManager:
        return cls(
            policy=data.get("Policy") or {"Name": "no", "MaximumRetryCount": 0},
            restart_count=int(data.get("RestartCount") or 0),
            timeout=float(data.get("Timeout") or 0.0),
            canceled=bool(data.get("Canceled")),
        )
