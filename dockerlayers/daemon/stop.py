"""`docker stop`: the stop signal, then SIGKILL after the timeout (default 10 s).

moby: daemon/stop.go (ContainerStop, containerStop), container/container_unix.go
(StopSignal, StopTimeout)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerlayers.container.container import Container
from dockerlayers.daemon.kill import kill_with_signal
from dockerlayers.daemon.monitor import wait_until
from dockerlayers.process.signals import parse_signal

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

SIGKILL, SIGTERM = 9, 15
DEFAULT_STOP_TIMEOUT = 10


def stop_timeout(c: Container) -> float:
    """The container's StopTimeout, else 10 s (moby: container/container_unix.go)."""
    value = c.config.get("StopTimeout")
    return float(value) if value is not None else float(DEFAULT_STOP_TIMEOUT)


def stop_signal(c: Container) -> int:
    """The container's StopSignal if it is a valid one, else SIGTERM.

    moby: container/container.go StopSignal
    """
    sig = c.config.get("StopSignal")
    if sig:
        try:
            return parse_signal(sig)
        except ValueError:
            pass
    return SIGTERM


def stop(daemon: Daemon, ref: str, timeout: float | None = None) -> None:
    """`docker stop`; stopping a stopped container is a no-op (the API's 304).

    moby: daemon/stop.go ContainerStop
    """
    with daemon.operation(ref) as c:
        if not c.state.running:
            return  # 304: Container is already stopped
        container_stop(daemon, c, stop_timeout(c) if timeout is None else float(timeout))
        daemon.write_state()


def container_stop(daemon: Daemon, c: Container, timeout: float) -> None:
    """The stop signal; wait up to `timeout` (negative: for ever); then SIGKILL and wait
    2 s more. Event `stop`.

    moby: daemon/stop.go containerStop
    """
    if not c.state.running:
        return
    kill_with_signal(daemon, c, stop_signal(c))
    if c.state.running:
        deadline = None if timeout < 0 else daemon.clock.now() + timeout
        exited = wait_until(daemon, lambda: not c.state.running, deadline)
        if not exited:
            kill_with_signal(daemon, c, SIGKILL)
            wait_until(daemon, lambda: not c.state.running, daemon.clock.now() + 2)
    daemon.events.log("container", "stop", c.id, daemon.attrs(c))
