"""Exits, restart policies and time: what happens to a container when nobody is asking.

`advance_to` is the scheduler: it runs, in time order, every process wake-up, exit and
policy restart that falls due up to a time, moving a virtual clock along. A process that
exits is handled by `handle_container_exit`, which asks the restart manager whether (and
after which back-off) the container is started again.

moby: daemon/monitor.go handleContainerExit, restartmanager/restartmanager.go
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from dockerlayers.container.container import Container
from dockerlayers.daemon.errors import waits_for_nothing
from dockerlayers.daemon.restartmanager import RestartManager
from dockerlayers.errors import APIError

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

#: A process that spins without sleeping runs at most this many slices per look.
BUSY_SLICES_PER_LOOK = 5


def handle_container_exit(daemon: Daemon, c: Container, exit_code: int, at: float) -> None:
    """The task exited: restart policy, unmount, state, die event (and --rm).

    moby: daemon/monitor.go handleContainerExit
    """
    from dockerlayers.daemon.delete import container_rm
    from dockerlayers.daemon.mounts import unmount_container

    daemon.logger.flush(c, at)
    rt = daemon.runtime_of(c)
    rm = rt.restart_manager(c)
    rm.restart_count = c.restart_count
    duration = at - (c.state.started_at or at)
    restart, delay = rm.should_restart(
        exit_code, daemon.shutting_down or c.has_been_manually_stopped, duration
    )
    unmount_container(daemon, c)
    rt.process = None
    if restart:
        c.restart_count += 1
        c.state.set_restarting(exit_code, at)
        rt.restart_at = at + delay
    else:
        c.state.set_stopped(exit_code, at)
    c.checkpoint()
    attrs = daemon.attrs(c)
    attrs["exitCode"] = str(exit_code)
    daemon.events.log("container", "die", c.id, attrs, at=at)
    daemon.save_runtime(c.id)
    if not restart and c.host_config.get("AutoRemove"):
        container_rm(daemon, c, force=True, remove_volumes=True)


def should_restart(c: Container) -> bool:
    """The policy's verdict on a stopped container, as at daemon start.

    moby: container/container.go ShouldRestart (a fresh restart manager, the stored
    exit code, HasBeenManuallyStopped and RestartCount)
    """
    rm = RestartManager(c.host_config.get("RestartPolicy") or {})
    rm.restart_count = c.restart_count
    duration = (c.state.finished_at or 0.0) - (c.state.started_at or 0.0)
    restart, _ = rm.should_restart(c.state.exit_code, c.has_been_manually_stopped, duration)
    return restart


def next_event(
    daemon: Daemon, skip: set[str] | frozenset[str] = frozenset(), now: float | None = None
) -> tuple[float, str, str] | None:
    """The earliest thing that will happen: (time, kind, container id), kind being
    "restart", "wake" or "exited"; containers in `skip` are left out. `now`: the time the
    caller looks from (the clock's by default)."""
    best: tuple[float, str, str] | None = None
    if now is None:
        now = daemon.clock.now()
    for cid, c in daemon.containers.items():
        if cid in skip:
            continue
        rt = daemon.runtime.get(cid)
        if c.state.restarting and rt is not None and rt.restart_at is not None:
            cand = (float(rt.restart_at), "restart", cid)
        elif c.state.running and not c.state.paused and cid in daemon.procs:
            proc = daemon.procs[cid]
            if proc.exited:
                cand = (now, "exited", cid)
            elif proc.wake_at is None:
                continue
            else:
                resume_at = rt.resume_at if rt is not None else None
                t = max(float(proc.wake_at), float(resume_at or 0))
                if proc.busy:  # it spun on while nobody looked: it goes on from now
                    t = max(t, now)
                cand = (t, "wake", cid)
        else:
            continue
        if best is None or cand < best:
            best = cand
    return best


def advance_to(daemon: Daemon, target: float) -> None:
    """Run everything that falls due up to `target` in time order, moving a virtual
    clock along (a real clock is only read).

    A process that spins without sleeping runs a slice per BUSY_SLICE seconds, at most
    BUSY_SLICES_PER_LOOK of them here: a long jump of the clock does not replay hours
    of spinning (the process is at `target` when it next runs, like a job that ran
    while nobody looked)."""
    with daemon.lock:
        skip: set[str] = set()
        slices: dict[str, int] = {}
        while True:
            # looked at from `target`: a real clock has moved on since it was read, and a
            # busy process, due "now", would otherwise always fall after it and never run
            ev = next_event(daemon, skip, now=target)
            if ev is None or ev[0] > target:
                break
            t, kind, cid = ev
            daemon.clock.set_time(t)
            c = daemon.containers[cid]
            if kind == "restart":
                from dockerlayers.daemon.start import container_start

                try:
                    container_start(daemon, c, reset_restart_manager=False)
                except APIError:
                    c.state.set_stopped(c.state.exit_code, t)
                    daemon.runtime_of(c).restart_at = None
                    c.checkpoint()
                continue
            proc = daemon.procs[cid]
            if kind == "wake":
                before = proc.wake_at
                proc.run(t)
                if proc.exited:
                    pass
                elif proc.busy:
                    slices[cid] = slices.get(cid, 0) + 1
                    if slices[cid] >= BUSY_SLICES_PER_LOOK:
                        skip.add(cid)
                elif proc.wake_at is not None and before is not None and proc.wake_at <= before:
                    skip.add(cid)  # wakes without time passing: once per look
            if proc.exited:
                handle_container_exit(daemon, c, proc.exit_code, t)
        daemon.clock.set_time(target)


def wait_until(daemon: Daemon, done: Callable[[], bool], deadline: float | None) -> bool:
    """Let time pass until `done()` or the deadline (None = no deadline); True if done.

    On a real clock the daemon's lock is let go while sleeping."""
    while True:
        advance_to(daemon, daemon.clock.now())
        if done():
            return True
        now = daemon.clock.now()
        if deadline is not None and now >= deadline:
            return False
        if daemon.clock.virtual:
            ev = next_event(daemon)
            if ev is None:
                if deadline is None:
                    raise waits_for_nothing()
                advance_to(daemon, deadline)
                continue
            advance_to(daemon, ev[0] if deadline is None else min(ev[0], deadline))
        else:
            step = 0.05 if deadline is None else max(0.0, min(0.05, deadline - now))
            daemon.lock.release()
            try:
                time.sleep(step)
            finally:
                daemon.lock.acquire()
