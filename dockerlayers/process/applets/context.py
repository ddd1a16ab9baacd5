"""What an applet sees: the container's filesystem (a RootFS), its environment, working
directory, clock, stdin and the writers for stdout/stderr. Applets never touch the host.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Block:
    """Returned by `sleep`: the program blocks until `until` (then exits 0)."""

    until: float


@dataclass
class Exec:
    """Returned by `env CMD ...`: replace this program by `argv` with `env`."""

    argv: list[str]
    env: dict[str, str]


@dataclass
class AppletContext:
    name: str
    rootfs: object
    cwd: str
    env: dict[str, str]
    now: float
    hostname: str
    pid: int
    stdin: Callable[[], bytes]
    write: Callable[[int, bytes], None]
    kill: Callable[[int, int], bool] = field(default=lambda pid, sig: False)
    uid: int = 0
    gid: int = 0
    groups: list[int] = field(default_factory=lambda: [0])
    #: At most N bytes of stdin (all with None); a line of it (None at its end).
    read: Callable[[int | None], bytes] = field(default=lambda n: b"")
    readline: Callable[[], str | None] = field(default=lambda: None)
    #: stdout is a pipe to a later stage: an endless writer is stopped there (SIGPIPE).
    pipe_out: bool = False
    #: The container's processes as `ps` sees them (shell/ptable.py rows).
    procs: Callable[[], list] = field(default=lambda: [])

    @property
    def fs(self):  # noqa: ANN201 - a RootFS
        return self.rootfs

    def out(self, data: str | bytes) -> None:
        self.write(1, data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape"))

    def err(self, data: str | bytes) -> None:
        self.write(2, data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape"))

    def error(self, msg: str) -> None:
        """`<applet>: msg` on stderr, busybox's bb_error_msg."""
        self.err(f"{self.name}: {msg}\n")

    def path(self, p: str) -> str:
        """An in-container absolute path for `p` (relative to the working directory)."""
        return p if p.startswith("/") else posixpath.join(self.cwd, p)
