"""A daemon's start and end on a root: restore what the previous one left, detach (the
CLI after each command), shutdown.

moby: daemon/daemon.go (restore, Shutdown, ShutdownTimeout)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from dockerlayers.container.container import CONFIG_FILE, Container
from dockerlayers.daemon.kill import SIGKILL, kill_with_signal
from dockerlayers.daemon.monitor import advance_to, should_restart, wait_until
from dockerlayers.daemon.runtime import load_runtime, remove_runtime
from dockerlayers.daemon.stop import stop_signal, stop_timeout
from dockerlayers.errors import APIError
from dockerlayers.ioutils import remove_temp_files

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


#: the State.Error of a container whose mount record did not load (moby's log words)
LOST_MOUNT = "failed to load container mount"


def restore(daemon: Daemon, last: str) -> None:
    """Load every container, then carry on from how the previous daemon ended.

    `detached` (the CLI after each command): processes carried on and are revived, pending
    policy restarts keep their time. `closed` (a shutdown stopped everything) and
    `crashed` (no close: the processes died with it; exit 137): restart policies decide
    who is started again, as at dockerd start.

    moby: daemon/daemon.go restore
    """
    remove_incomplete_containers(daemon)
    for cid in sorted(os.listdir(daemon.repository)):
        folder = os.path.join(daemon.repository, cid)
        try:
            c = Container.from_disk(folder)
        except (OSError, ValueError, KeyError):
            continue
        if c.id != cid:
            continue
        if c.driver != daemon.driver.name:
            # not restoring container because it was created with another storage driver
            continue
        config_of = getattr(daemon.layer_store, "config_of", None)
        if config_of is not None:  # the containerd store: config.v2.json has the target
            config = config_of(c.image)
            if config:
                c.image_on_disk, c.image = c.image, config
        try:
            daemon.rw_layers[cid] = daemon.layer_store.get_rw_layer(cid)
        except Exception as e:
            # moby logs "Failed to load container mount" and skips the container, leaving
            # its folder and RW data on disk. Ours: the same data kept, and the container
            # shown Dead with the reason, so that the user sees it and `docker rm` works.
            c.state.dead = True
            c.state.running = c.state.paused = c.state.restarting = False
            c.state.error = f"{LOST_MOUNT}: {_go_text(e)}"
            c.checkpoint()
        daemon.containers[cid] = c
        daemon.runtime[cid] = load_runtime(daemon.runtime_dir, cid, daemon.runtime_on_disk)
    now = daemon.clock.now()
    # Only what changes here is written (a read-only command on a detached root writes
    # nothing); the rest is saved when it changes, and every runtime file at detach.
    for cid, c in daemon.containers.items():
        rt = daemon.runtime[cid]
        if c.state.removal_in_progress:
            # A crash in the middle of a removal: moby does not finish it (it cannot know
            # whether volumes were to go too); the container is dead, for the user to rm.
            c.state.removal_in_progress = False
            c.state.dead = True
        elif c.state.running and not c.state.restarting:
            if last == "detached" and rt.process is not None:
                revive(daemon, c, rt.process)
                continue
            # Lost with the daemon: no exit status but the kill (no event, as moby).
            c.state.set_stopped(128 + SIGKILL, now)
            rt.process = None
            rt.resume_at = None
        elif c.state.restarting and (last != "detached" or rt.restart_at is None):
            c.state.set_stopped(c.state.exit_code, now)
            rt.restart_at = None
        else:
            continue
        c.checkpoint()
        daemon.save_runtime(cid)
    if last != "detached":
        from dockerlayers.daemon.delete import container_rm
        from dockerlayers.daemon.start import container_start

        for c in list(daemon.containers.values()):
            if c.state.running or c.state.dead:
                continue
            if c.has_been_started_before and should_restart(c):
                try:
                    container_start(daemon, c, reset_restart_manager=True)
                except APIError:
                    pass
            elif c.host_config.get("AutoRemove"):
                try:
                    container_rm(daemon, c, force=True, remove_volumes=True)
                except APIError:
                    pass
    advance_to(daemon, daemon.clock.now())


def _go_text(e: BaseException) -> str:
    """An error as Go prints it (an OSError without Python's `[Errno N]`)."""
    if isinstance(e, OSError) and e.strerror:
        return f"{e.filename}: {e.strerror.lower()}" if e.filename else e.strerror.lower()
    return str(e)


def revive(daemon: Daemon, c: Container, proc_state: dict[str, Any]) -> None:
    """A process a detached daemon left running carries on in this one."""
    from dockerlayers.process.shell.version import STATE_VERSION

    fs = daemon.mounted.get(c.id) or _MountOnUse(daemon, c)
    output = daemon.logger.output(c)
    proc = _SavedProcess(proc_state, fs, output)
    if proc_state.get("version") != STATE_VERSION:
        proc.materialize()  # a state this model cannot run fails now, as before
    daemon.procs[c.id] = proc


class _SavedProcess:
    """A revived process, kept as its saved state until something must run or signal it:
    reading when it wakes, whether it exited, its pid or its state needs no shell, so a
    command that only lists or inspects containers does not load the process model.
    Ours: the CLI opens the daemon once per command (dockerd keeps its processes)."""

    def __init__(self, state: dict[str, Any], rootfs: Any, output: Any) -> None:
        self._state = state
        self._rootfs = rootfs
        self._output = output
        self._real: Any = None

    def materialize(self) -> Any:
        if self._real is None:
            from dockerlayers.process.process import Process

            self._real = Process.from_state(self._state, rootfs=self._rootfs, output=self._output)
        return self._real

    @property
    def pid(self) -> int:
        return self._real.pid if self._real is not None else self._state["pid"]

    @property
    def exited(self) -> bool:
        return self._real.exited if self._real is not None else self._state["exited"]

    @property
    def exit_code(self) -> int | None:
        return self._real.exit_code if self._real is not None else self._state["exit_code"]

    @property
    def wake_at(self) -> float | None:
        if self._real is not None:
            return self._real.wake_at
        w = self._state["wake_at"]
        return None if w is None or w == float("inf") else w

    @property
    def busy(self) -> bool:
        return self._real.busy if self._real is not None else self._state["busy"]

    @property
    def sleeping(self) -> bool:
        return not self.exited and not self.busy

    def to_state(self) -> dict[str, Any]:
        if self._real is not None:
            return self._real.to_state()
        return self._state  # never changed while saved (Process.from_state copies it)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.materialize(), name)


class _MountOnUse:
    """A revived process's root filesystem, mounted when the process first touches it: a
    command that only lists or inspects containers does not mount (and unmount) every
    running container's layers. Ours: the CLI opens the daemon once per command."""

    def __init__(self, daemon: Daemon, c: Container) -> None:
        self._daemon = daemon
        self._c = c

    def __getattr__(self, name: str) -> Any:
        from dockerlayers.daemon.mounts import mount_container

        fs = mount_container(self._daemon, self._c)
        return getattr(fs, name)


def remove_incomplete_containers(daemon: Daemon) -> None:
    """A create or an rm that a crash interrupted leaves a container that can never load:
    a folder without `config.v2.json` (create: after the RW layer, before the first
    checkpoint; rm: while its folder was being deleted), a folder whose RW layer record
    is gone (rm: after the RW layer was released), or an RW layer whose container folder
    was never made. Nobody can see or remove these; they are removed here. A container
    whose config loads but whose mount record is missing is not one of them: it is kept.

    Ours, for crash safety: moby skips them at restore and leaves them on disk.
    """
    import glob

    store = daemon.layer_store
    # the graph store's RW layer records (layerdb/mounts); the containerd store's are the
    # containers' leases (`store.rw`)
    ours = getattr(store.store, "mounts_dir", "")
    leased = getattr(store, "rw", {})
    others = [
        m
        for m in glob.glob(os.path.join(daemon.root, "image", "*", "layerdb", "mounts"))
        if not ours or os.path.realpath(m) != os.path.realpath(ours)
    ]
    removed = False
    for cid in sorted(os.listdir(daemon.repository)):
        folder = os.path.join(daemon.repository, cid)
        if not os.path.isdir(folder):
            continue
        remove_temp_files(folder)
        if any(os.path.isdir(os.path.join(m, cid)) for m in others):
            continue  # another driver's container: not ours to judge
        has_config = os.path.isfile(os.path.join(folder, CONFIG_FILE))
        if has_config and (cid in store.mounts or cid in leased):
            continue
        if has_config:
            # The RW layer's record is missing or does not load: only a removal that was
            # under way (rm marks the container dead first) may be finished. Anything else
            # is damage: the folder and the RW data stay, and restore shows it Dead, for
            # the user to inspect and `docker rm`.
            try:
                state = Container.from_disk(folder).state
                # (a container already found so is kept: only `docker rm` removes it)
                dead = state.dead and not state.error.startswith(LOST_MOUNT)
            except (OSError, ValueError, KeyError):
                dead = True  # its own files half deleted: an interrupted rm
            if not dead:
                continue
        if cid in store.mounts or cid in leased:
            store.release_rw_layer(store.get_rw_layer(cid))
        elif ours and os.path.isdir(store.store.mount_dir(cid)):
            store.store.remove_mount(cid)
        import shutil

        shutil.rmtree(folder)
        remove_runtime(daemon.runtime_dir, cid)
        removed = True
    for name in sorted(leased):
        if not os.path.isdir(os.path.join(daemon.repository, name)):
            store.release_rw_layer(store.get_rw_layer(name))  # its container was never made
            removed = True
    if ours and os.path.isdir(ours):
        for name in sorted(os.listdir(ours)):
            if os.path.isdir(os.path.join(daemon.repository, name)):
                continue
            if name in store.mounts:  # an RW layer whose container was never made
                store.release_rw_layer(store.get_rw_layer(name))
            else:
                store.store.remove_mount(name)
            removed = True
    if removed:
        store.cleanup()  # the driver folders these records held


def detach(daemon: Daemon) -> None:
    """Save everything and let go of the root, leaving containers running (what the CLI
    does after each command, like the docker CLI leaving dockerd up)."""
    with daemon.lock:
        if daemon.closed:
            return
        for cid in list(daemon.containers):
            daemon.save_runtime(cid)
        if daemon.mounted:
            from dockerlayers.daemon.mounts import unmount_container

            for cid in list(daemon.mounted):
                unmount_container(daemon, daemon.containers[cid], keep_process=True)
        daemon.driver.cleanup()
        daemon.write_state(open_=False, detached=True)
        daemon.closed = True
        daemon.release_root_lock(leave="")


def shutdown(daemon: Daemon, timeout: float | None = None) -> None:
    """dockerd's shutdown: stop every running container (its stop timeout, SIGTERM then
    SIGKILL), then clean up the layer store.

    moby stops them all at once (one goroutine each): the stop signal to every running
    container, then each gets its own timeout before SIGKILL.

    moby: daemon/daemon.go Shutdown
    """
    with daemon.lock:
        if daemon.closed:
            return
        daemon.shutting_down = True
        deadlines: dict[str, float | None] = {}
        for c in list(daemon.containers.values()):
            if not c.state.running:
                continue
            t = timeout if timeout is not None else stop_timeout(c)
            try:
                kill_with_signal(daemon, c, stop_signal(c))
            except APIError:
                continue
            deadlines[c.id] = None if t < 0 else daemon.clock.now() + t

        def running_of(cids: list[str]) -> list[Container]:
            found = (daemon.containers.get(cid) for cid in cids)
            return [c for c in found if c is not None and c.state.running]

        while True:
            running = [c.id for c in running_of(list(deadlines))]
            if not running:
                break
            due = [deadlines[cid] for cid in running if deadlines[cid] is not None]
            if not due:
                break  # only containers with no timeout left: dockerd waits forever
            wait_until(daemon, lambda running=running: not running_of(running), min(due))
            for c in running_of(running):
                deadline = deadlines[c.id]
                if deadline is not None and daemon.clock.now() >= deadline:
                    try:
                        kill_with_signal(daemon, c, SIGKILL)
                    except APIError:
                        pass
        for cid in deadlines:
            c = daemon.containers.get(cid)
            if c is not None:
                daemon.events.log("container", "stop", c.id, daemon.attrs(c))
        daemon.layer_store.cleanup()
        daemon.driver.cleanup()
        daemon.write_state(open_=False)
        daemon.closed = True
        daemon.release_root_lock(leave="")
