"""`docker start`: mount the RW layer and run the container's process.

moby: daemon/start.go (ContainerStart, containerStart), daemon/oci_linux.go (the process's
environment)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerlayers.container.container import Container
from dockerlayers.daemon.create import setup_container_dirs
from dockerlayers.daemon.errors import (
    marked_for_removal,
    runtime_create_failed,
    start_paused,
    user_not_found,
)
from dockerlayers.daemon.mounts import dev_folder, make_dev, mount_container, unmount_container
from dockerlayers.daemon.restartmanager import RestartManager
from dockerlayers.errors import APIError
from dockerlayers.graphdriver.rootfs import RootFS

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon
    from dockerlayers.process.users import ExecUser

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def start(daemon: Daemon, ref: str, stdin: bytes | None = None) -> None:
    """`docker start`; starting a running container is a no-op (the API's 304). `stdin`:
    the input attached with `-i` (what PID 1 reads on fd 0 until its end).

    moby: daemon/start.go ContainerStart
    """
    with daemon.operation(ref) as c:
        if c.state.paused:
            raise start_paused()
        if c.state.running:
            return  # 304: container is already running; a no-op for the caller
        if c.state.removal_in_progress or c.state.dead:
            raise marked_for_removal()
        container_start(daemon, c, reset_restart_manager=True, stdin=stdin)
        daemon.write_state()


def container_start(
    daemon: Daemon, c: Container, reset_restart_manager: bool, stdin: bytes | None = None
) -> None:
    """Mount, write Docker's files, spawn PID 1 and let it run up to now. A manual start
    resets the restart manager (RestartCount 0); a policy restart does not.

    moby: daemon/start.go containerStart
    """
    from dockerlayers.daemon.monitor import handle_container_exit
    from dockerlayers.process.process import Process
    from dockerlayers.process.resolve import ExecError
    from dockerlayers.process.users import UserError

    now = daemon.clock.now()
    rt = daemon.runtime_of(c)
    if c.state.removal_in_progress or c.state.dead:
        raise marked_for_removal()
    # hostname, hosts and resolv.conf first: they are bind-mounted over the rootfs
    setup_container_dirs(c)
    make_dev(dev_folder(daemon, c), now)  # /dev is a new tmpfs at every start
    if c.id not in daemon.mounted:
        from dockerlayers.daemon.mountspec import reset_tmpfs

        reset_tmpfs(c.root)  # a tmpfs starts empty
    fs = mount_container(daemon, c)
    try:
        setup_rootfs(c, fs)
    except BaseException:
        unmount_container(daemon, c)
        raise
    if reset_restart_manager:
        c.restart_count = 0
        c.has_been_manually_stopped = False
        rt.restart = RestartManager(c.host_config.get("RestartPolicy") or {})
    try:
        user = get_user(fs, c.config.get("User"))
    except UserError as e:
        c.state.error = str(e)
        if not c.state.exit_code:
            c.state.exit_code = 128  # moby: "make sure we don't leave it at zero"
        unmount_container(daemon, c)
        c.checkpoint()
        daemon.save_runtime(c.id)
        raise user_not_found(str(e)) from None
    if "/" in c.mount_points:
        # a volume over the whole rootfs (`VOLUME /data/../..`, `-v /`): runc's container
        # init no longer finds /proc/sys; the file it names first varies (Go's map order)
        c.state.error = runtime_create_failed(
            "error during container init: open /proc/sys/net/ipv4/ip_unprivileged_port_start: "
            "no such file or directory"
        )
        c.state.exit_code = 127
        unmount_container(daemon, c)
        c.checkpoint()
        daemon.save_runtime(c.id)
        raise APIError(c.state.error, 400)
    pid = daemon.allocate_pid()
    try:
        proc = Process.spawn(
            [c.path, *c.args],
            env=process_env(c, user.home),
            cwd=c.config.get("WorkingDir") or "/",
            rootfs=fs,
            clock_now=now,
            hostname=c.config.get("Hostname") or c.short_id,
            output=daemon.logger.output(c),
            pid=1,
            user=user.to_state(),  # type: ignore[arg-type]
            stdin=stdin,
            # nothing attached: `-i` keeps an open pipe, `-t` a terminal (moby:
            # daemon/start.go via containerd's stdio; Config.OpenStdin, Config.Tty)
            stdin_open=bool(c.config.get("OpenStdin") or c.config.get("Tty")),
            tty=bool(c.config.get("Tty")),
        )
    except ExecError as e:
        message = runtime_create_failed(e.message)
        c.state.error = message
        c.state.exit_code = e.exit_code if e.exit_code else 128
        unmount_container(daemon, c)
        c.checkpoint()
        daemon.save_runtime(c.id)
        raise APIError(message, 400) from None
    daemon.procs[c.id] = proc
    rt.restart_at = None
    rt.resume_at = None
    c.state.set_running(pid, now)
    c.has_been_started_before = True
    c.checkpoint()
    daemon.events.log("container", "start", c.id, daemon.attrs(c), at=now)
    proc.run(now)
    if proc.exited:
        handle_container_exit(daemon, c, proc.exit_code, now)
    daemon.save_runtime(c.id)


def get_user(fs: RootFS, spec: str | None) -> ExecUser:
    """Who the container's process runs as: `spec` (`-u`, `USER`) resolved in the
    container's /etc/passwd and /etc/group. UserError: moby/sys/user's text.

    moby: daemon/oci_linux.go getUser
    """
    from dockerlayers.process.users import get_exec_user

    return get_exec_user(getattr(fs, "base", fs), spec)


def process_env(c: Container, home: str = "/root") -> list[str]:
    """The process environment runc gets: PATH, HOSTNAME, the config's Env, and HOME (the
    user's home from /etc/passwd, `/` when it has none) unless the Env sets it.

    moby: daemon/oci_linux.go / container.CreateDaemonEnvironment; runc: HOME from ExecUser
    """
    env = list(c.config.get("Env") or [])
    keys = {e.split("=", 1)[0] for e in env}
    out = [f"PATH={DEFAULT_PATH}", f"HOSTNAME={c.config.get('Hostname') or c.short_id}"]
    if c.config.get("Tty"):
        out.append("TERM=xterm")
    # moby: container/env.go ReplaceOrAppendEnvValues: the config's values replace the
    # defaults in place (PATH stays first), the rest are appended; `KEY` alone unsets it
    at = {e.split("=", 1)[0]: i for i, e in enumerate(out)}
    for value in env:
        key = value.split("=", 1)[0]
        if "=" not in value:
            if key in at:
                out[at[key]] = ""
        elif key in at:
            out[at[key]] = value
        else:
            out.append(value)
    out = [e for e in out if e]
    if "HOME" not in keys:
        out.append(f"HOME={home}")
    return out


def setup_rootfs(c: Container, fs: RootFS) -> None:
    """Folders runc and dockerd make in the rootfs at start: the working dir and mount
    points (so they show in `docker diff`, as in Docker)."""
    wd = c.config.get("WorkingDir")
    base = getattr(fs, "base", fs)
    if wd and not base.exists(wd):
        base.mkdir(wd, 0o755, parents=True, exist_ok=True)
    for dst in [*c.mount_points, *(c.host_config.get("Tmpfs") or {})]:
        if not base.lexists(dst):
            base.mkdir(dst, 0o755, parents=True, exist_ok=True)
