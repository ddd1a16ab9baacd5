"""A container's (or an exec's) process: what the daemon starts, signals and waits for.

`Process.spawn` resolves the command like runc (PATH lookup inside the container's
filesystem; Docker's texts and exit codes on failure), then the process runs in steps:
`run(now)` runs it until it blocks (sleep, wait) or exits, `wake_at` says when it must
run again, `signal` delivers a signal with PID 1's semantics, and `to_state`/`from_state`
carry it between Python processes (a later CLI call finds it still running).

PID 1 semantics (moby.md 5.6): the kernel applies no default action to a PID namespace's
init for signals it does not handle, so a shell without a TERM trap ignores `docker
stop`'s SIGTERM and is killed by the SIGKILL after the timeout (137). A process that is not
PID 1 (an exec) dies of an unhandled signal with 128+N (SIGTERM → 143).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from . import signals
from .resolve import DEFAULT_PATH, ExecError, look_path
from .shell.programs import start_argv
from .shell.ptable import Row, rows
from .shell.state import Cred, State, load_state, new_state, stdio
from .shell.vm import MAX_STEPS, Machine, Output

__all__ = ["MAX_STEPS", "ExecError", "Process"]


def _env_dict(env: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in env:
        k, eq, v = item.partition("=")
        if eq:
            out[k] = v
    return out


class Process:
    """A simulated process; its whole state is `to_state()` (JSON-serializable, declared in
    shell/state.py)."""

    def __init__(self, state: State, rootfs: Any, output: Output) -> None:
        self._m = Machine(state, rootfs, output)

    @classmethod
    def spawn(
        cls,
        argv: list[str],
        *,
        env: list[str],
        cwd: str,
        rootfs: Any,
        clock_now: float,
        hostname: str,
        output: Output,
        pid: int = 1,
        user: Cred | None = None,
        stdin: bytes | None = None,
        stdin_open: bool = False,
        tty: bool = False,
        peers: Callable[[], list[Row]] | None = None,
    ) -> Process:
        """Start `argv` in the container whose files `rootfs` serves.

        Raises ExecError(127|126, Docker's message) when runc could not start it. Nothing
        runs yet: call `run(now)`. `user` (uid, gid, groups; see process/users.py) is who
        it runs as, root when None. `stdin`: what its fd 0 reads (`-i` with input piped in;
        None: nothing, as /dev/null, or, with `stdin_open`, a stdin that stays open and
        empty: `-i` or `-t` with nothing attached, where reads block). `tty`: that stdin
        is a terminal. `peers`: the container's other processes (its PID 1 for an exec),
        for `ps`.
        """
        if not argv:
            raise ExecError(127, "No command specified")
        envd = _env_dict(env)
        path = look_path(rootfs, argv[0], envd.get("PATH", DEFAULT_PATH), cwd or "/")
        state = new_state(pid, hostname, clock_now, user)
        state["argv"] = list(argv)
        proc = cls(state, rootfs, output)
        m = proc._m
        m.peers = peers
        job = m.new_job(pid, clock_now, None)
        fd0 = None
        if stdin is not None:
            fd0 = {"t": "data", "id": m.new_buf(stdin.decode("utf-8", "replace"))}
        elif stdin_open:
            fd0 = {"t": "open", "tty": tty}
        start_argv(m, job, list(argv), path, envd, cwd or "/", stdio(fd0))  # type: ignore[arg-type]
        return proc

    @classmethod
    def from_state(cls, state: State, *, rootfs: Any, output: Output) -> Process:
        """Rebuild a process saved by `to_state` (possibly in another Python process, or by
        an older version of this code: see state.load_state). ValueError: not a state."""
        return cls(load_state(copy.deepcopy(state)), rootfs, output)

    def to_state(self) -> State:
        """The whole process as plain JSON data (code is rebuilt from the kept sources)."""
        return copy.deepcopy(self._m.state)

    def table(self) -> list[Row]:
        """Its processes as `ps` lists them (shell/ptable.py): itself, its background
        jobs, children blocked in a program."""
        return rows(self._m)

    # -- properties ----------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self._m.state["pid"]

    @property
    def exited(self) -> bool:
        return self._m.state["exited"]

    @property
    def exit_code(self) -> int | None:
        return self._m.state["exit_code"]

    @property
    def wake_at(self) -> float | None:
        """When the process must be `run` again: its earliest sleeper wakes, or a busy
        process's next slice (BUSY_SLICE after this one); None if it waits for nothing
        timed (exited, or blocked forever, e.g. `sleep infinity`)."""
        w = self._m.state["wake_at"]
        return None if w is None or w == float("inf") else w

    @property
    def busy(self) -> bool:
        """True when the last `run` stopped after MAX_STEPS instructions without blocking
        (a loop with no sleep): the process is still running and continues at `wake_at`."""
        return self._m.state["busy"]

    @property
    def sleeping(self) -> bool:
        """Blocked in `sleep` or `wait` (neither exited nor busy)."""
        return not self.exited and not self.busy

    # -- driving -------------------------------------------------------------------------
    def run(self, now: float) -> None:
        """Run until every job is blocked or the process exits (or MAX_STEPS: `busy`)."""
        if not self.exited:
            self._m.run(now)

    def thaw(self, now: float) -> None:
        """Resume after a freeze (docker pause): a sleep that ran out while frozen returns
        once, at `now` (the monotonic clock kept going; the process could not run); sleeps
        still pending are unchanged.

        moby: daemon/unpause.go (cgroup freezer thaw)
        """
        st = self._m.state
        for job in st["jobs"]:
            block = job["block"]
            if job["status"] is None and block and "until" in block and block["until"] < now:
                block["until"] = now
        sleepers = [
            j["block"]["until"]
            for j in st["jobs"]
            if j["status"] is None and j["block"] and "until" in j["block"]
        ]
        st["wake_at"] = None if st["exited"] or not sleepers else min(sleepers)

    def signal(self, sig: int, now: float) -> None:
        """Deliver `sig` at time `now` (the process first catches up to `now`).

        SIGKILL: exit 137 at once. A trapped signal runs its handler, interrupting a
        blocking sleep/wait (busybox ash runs `sleep` in-process); `trap '' SIG` ignores
        it; an untrapped signal is ignored by PID 1 and kills any other process (128+N),
        except signals whose default action is to be ignored (SIGCHLD, SIGWINCH, ...).
        """
        if self.exited:
            return
        sig = signals.parse_signal(sig)
        if sig != signals.SIGKILL:
            self.run(now)
        self._m.signal(sig, now)
        if not self.exited:
            self.run(now)

    def __repr__(self) -> str:
        st = (
            f"exited({self.exit_code})"
            if self.exited
            else "busy"
            if self.busy
            else f"wake_at={self.wake_at}"
        )
        return f"<Process pid={self.pid} {st}>"
