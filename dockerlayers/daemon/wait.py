"""`docker wait`: block until the container stops (or exits next, or is removed).

moby: daemon/wait.go ContainerWait, container/state.go Wait
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dockerlayers.daemon.errors import invalid_wait_condition, wait_timed_out
from dockerlayers.daemon.monitor import wait_until

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def wait(
    daemon: Daemon, ref: str, condition: str = "not-running", timeout: float | None = None
) -> dict[str, Any]:
    """{"StatusCode": exit code, "Error": {"Message": ...} or None}; conditions
    `not-running` (default), `next-exit`, `removed`.

    moby: daemon/wait.go ContainerWait
    """
    with daemon.operation(ref) as c:
        cid = c.id
        deadline = None if timeout is None else daemon.clock.now() + timeout
        done: Callable[[], bool]
        mark = (c.state.finished_at, c.restart_count)
        if condition == "not-running":
            # a waiter is told at the next exit even when the restart policy starts the
            # container again at once (moby: container/state.go SetRestarting notifies the
            # waiters as SetStopped does), so `wait` returns with a restarting container
            def done() -> bool:
                return (
                    cid not in daemon.containers
                    or not c.state.running
                    or (c.state.finished_at, c.restart_count) != mark
                )

        elif condition == "next-exit":

            def done() -> bool:
                return (
                    cid not in daemon.containers
                    or (
                        c.state.finished_at,
                        c.restart_count,
                    )
                    != mark
                )

        elif condition == "removed":

            def done() -> bool:
                return cid not in daemon.containers

        else:
            raise invalid_wait_condition(condition)
        if not wait_until(daemon, done, deadline):
            raise wait_timed_out(ref)
        error = {"Message": c.state.error} if c.state.error else None
        return {"StatusCode": c.state.exit_code, "Error": error}
