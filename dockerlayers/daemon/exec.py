"""`docker exec`: run a command in a running container, to completion.

moby: daemon/exec.go (getActiveContainer, ContainerExecCreate, ContainerExecStart)
"""

from __future__ import annotations

import shlex
import time
from typing import TYPE_CHECKING

from dockerlayers.container.container import Container
from dockerlayers.daemon.create import env_list
from dockerlayers.daemon.errors import (
    exec_paused,
    exec_user_not_found,
    not_running,
    restarting,
    runtime_exec_failed,
)
from dockerlayers.daemon.monitor import advance_to
from dockerlayers.daemon.mounts import mount_container
from dockerlayers.daemon.start import get_user, process_env
from dockerlayers.errors import DockerException, InvalidParameter

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def exec_run(
    daemon: Daemon,
    ref: str,
    cmd: list[str] | str,
    *,
    environment: list[str] | dict[str, str] | None = None,
    workdir: str | None = None,
    user: str | None = None,
    stdin: bytes | None = None,
) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr); events exec_create, exec_start, exec_die. `stdin`: the
    input attached with `exec -i`.

    moby: daemon/exec.go ContainerExecCreate / ContainerExecStart
    """
    from dockerlayers.process.process import Process
    from dockerlayers.process.resolve import ExecError
    from dockerlayers.process.users import UserError

    argv = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
    if not argv:
        # moby: api/server/router/container/exec.go (checked before the daemon is asked)
        raise InvalidParameter("No exec command specified")
    with daemon.operation(ref) as c:
        get_active_container(c, ref)
        exec_id = daemon.ids.generate_random_id()
        attrs = daemon.attrs(c)
        attrs["execID"] = exec_id
        action = " ".join(argv)
        daemon.events.log("container", f"exec_create: {action}", c.id, attrs)
        daemon.events.log("container", f"exec_start: {action}", c.id, attrs)
        out: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
        fs = mount_container(daemon, c)
        try:
            # no -u: the container's user (moby: ContainerExecCreate copies Config.User)
            who = get_user(fs, user if user else c.config.get("User"))
        except UserError as e:
            attrs["exitCode"] = "126"
            daemon.events.log("container", "exec_die", c.id, attrs)
            return 126, exec_user_not_found(str(e)).encode(), b""
        try:
            proc = Process.spawn(
                argv,
                env=process_env(c, who.home) + env_list(environment),
                cwd=workdir or c.config.get("WorkingDir") or "/",
                rootfs=fs,
                clock_now=daemon.clock.now(),
                hostname=c.config.get("Hostname") or c.short_id,
                output=lambda s, d: out[s].append(d),
                pid=daemon.next_pid,
                user=who.to_state(),  # type: ignore[arg-type]
                stdin=stdin,
                peers=lambda: _peers(daemon, c.id),  # `ps` in the exec sees PID 1's processes
            )
        except ExecError as e:
            code = 126 if e.exit_code in (126, 127) else e.exit_code
            attrs["exitCode"] = str(code)
            daemon.events.log("container", "exec_die", c.id, attrs)
            return code, runtime_exec_failed(e.message).encode(), b""
        daemon.allocate_pid()
        proc.run(daemon.clock.now())
        while not proc.exited:
            if proc.wake_at is None:
                raise DockerException(f"exec {action!r} waits for nothing that can happen")
            if daemon.clock.virtual:
                advance_to(daemon, proc.wake_at)
            else:
                daemon.lock.release()
                try:
                    time.sleep(max(0.0, proc.wake_at - daemon.clock.now()))
                finally:
                    daemon.lock.acquire()
                advance_to(daemon, daemon.clock.now())
            proc.run(max(daemon.clock.now(), proc.wake_at))
        attrs["exitCode"] = str(proc.exit_code)
        daemon.events.log("container", "exec_die", c.id, attrs)
        daemon.save_runtime(c.id)
        return proc.exit_code, b"".join(out["stdout"]), b"".join(out["stderr"])


def _peers(daemon: Daemon, cid: str) -> list:
    """The container's main process and its children, as `ps` rows (process/shell/ptable)."""
    proc = daemon.procs.get(cid)
    return [] if proc is None or proc.exited else proc.table()


def get_active_container(c: Container, ref: str) -> None:
    """Refuse an exec in a container that is not running, paused or restarting (the
    paused text names the container as the caller did).

    moby 20.10: daemon/exec.go getActiveContainer
    """
    if not c.state.running:
        raise not_running(c.id)
    if c.state.paused:
        raise exec_paused(ref)
    if c.state.restarting:
        raise restarting(c.id)
