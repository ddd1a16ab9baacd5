"""`docker pause` / `docker unpause`: freeze and thaw the processes (the cgroup freezer);
the mount stays and State.Running stays true.

moby: daemon/pause.go containerPause, daemon/unpause.go containerUnpause
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerlayers.daemon.errors import already_paused, not_paused, not_running, restarting
from dockerlayers.daemon.monitor import advance_to

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def pause(daemon: Daemon, ref: str) -> None:
    """moby: daemon/pause.go containerPause"""
    with daemon.operation(ref) as c:
        if not c.state.running:
            raise not_running(c.id)
        if c.state.paused:
            raise already_paused(c.id)
        if c.state.restarting:
            raise restarting(c.id)
        c.state.paused = True
        c.checkpoint()
        daemon.events.log("container", "pause", c.id, daemon.attrs(c))
        daemon.save_runtime(c.id)


def unpause(daemon: Daemon, ref: str) -> None:
    """moby: daemon/unpause.go containerUnpause"""
    with daemon.operation(ref) as c:
        if not c.state.paused:
            raise not_paused(c.id)
        c.state.paused = False
        now = daemon.clock.now()
        daemon.runtime_of(c).resume_at = now
        proc = daemon.procs.get(c.id)
        if proc is not None and not proc.exited:
            proc.thaw(now)  # frozen time is not replayed
        c.checkpoint()
        daemon.events.log("container", "unpause", c.id, daemon.attrs(c))
        daemon.save_runtime(c.id)
        advance_to(daemon, daemon.clock.now())
