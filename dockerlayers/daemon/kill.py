"""`docker kill`: SIGKILL by default, or any signal, to the container's process.

moby: daemon/kill.go (ContainerKill, killWithSignal), api/server/router/container
postContainersKill (the signal is parsed first)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerlayers.container.container import Container
from dockerlayers.daemon.errors import cannot_kill, not_running
from dockerlayers.errors import APIError, InvalidParameter
from dockerlayers.process.signals import parse_signal

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

SIGKILL = 9


def kill(daemon: Daemon, ref: str, signal: str | int = "SIGKILL") -> None:
    """`docker kill`.

    The API parses the signal first (`Invalid signal: X`, 400); every error of the kill
    itself comes back as `Cannot kill container: <ref>: <error>`, keeping its kind.

    moby 20.10: api/server/router/container/container_routes.go postContainersKill,
    daemon/kill.go ContainerKill
    """
    try:
        sig = parse_signal(signal)
    except ValueError as e:
        raise InvalidParameter(str(e)) from None
    with daemon.locked():
        try:
            c = daemon.get_container(ref)
            if not c.state.running:
                raise not_running(c.id)
            kill_with_signal(daemon, c, sig)
        except APIError as e:
            raise cannot_kill(ref, e) from None
        daemon.write_state()


def kill_with_signal(daemon: Daemon, c: Container, sig: int) -> None:
    """Send `sig` to the container's process. SIGKILL or the stop signal cancels the
    restart policy; a restarting container just stops; a paused one is thawed so the
    signal lands. The exit, if any, is handled at once.

    moby: daemon/kill.go killWithSignal
    """
    from dockerlayers.daemon.monitor import handle_container_exit
    from dockerlayers.daemon.stop import stop_signal

    if not c.state.running:
        raise not_running(c.id)
    rt = daemon.runtime_of(c)
    if sig == SIGKILL or not c.config.get("StopSignal") or sig == stop_signal(c):
        rt.restart_manager(c).cancel()
    if not daemon.shutting_down:
        c.has_been_manually_stopped = True
        c.checkpoint()
    if c.state.restarting:
        # The pending restart is cancelled; the container stops where it is.
        rt.restart_at = None
        c.state.set_stopped(c.state.exit_code, daemon.clock.now())
        c.checkpoint()
        daemon.save_runtime(c.id)
        return
    attrs = daemon.attrs(c)
    attrs["signal"] = str(sig)
    now = daemon.clock.now()
    daemon.events.log("container", "kill", c.id, attrs, at=now)
    proc = daemon.procs.get(c.id)
    was_paused = c.state.paused
    if was_paused and proc is not None and not proc.exited:
        proc.thaw(now)  # frozen time is not replayed
    if proc is not None and not proc.exited:
        proc.signal(sig, now)
    if was_paused:
        c.state.paused = False
        rt.resume_at = now
        daemon.events.log("container", "unpause", c.id, daemon.attrs(c), at=now)
    if proc is not None and not proc.exited:
        proc.run(now)
    if proc is not None and proc.exited:
        handle_container_exit(daemon, c, proc.exit_code, now)
    daemon.save_runtime(c.id)
