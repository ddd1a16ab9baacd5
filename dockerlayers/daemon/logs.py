"""The json-file log driver: a container's output as JSON lines in `<id>-json.log`.

The writer keeps what follows the last newline of each stream until the next write (or the
exit, where json-file logs the partial line as it is); the reader is `docker logs`.

moby: daemon/logger/jsonfilelog (writer and reader), daemon/logger/copier.go, daemon/logs.go
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from dockerlayers.container.container import Container
from dockerlayers.errors import InvalidParameter
from dockerlayers.image.jsonenc import marshal
from dockerlayers.process.clock import format_rfc3339nano, parse_rfc3339nano

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

STREAMS = ("stdout", "stderr")


class JSONFileLogger:
    """The writers of every container's log, with each stream's unfinished line."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self._partial: dict[tuple[str, str], bytes] = {}

    def output(self, c: Container) -> Callable[[str, bytes], None]:
        """The function a container's process writes its output to: each full line becomes
        a log entry stamped with the clock's time.

        moby: daemon/logger/copier.go, daemon/logger/jsonfilelog Log
        """

        tty = bool(c.config.get("Tty"))

        def write(stream: str, data: bytes) -> None:
            if not _reads_json_file(c):
                return
            if tty:
                # a terminal's output processing (termios ONLCR): every newline goes out
                # as CR LF, so the log and `docker logs` hold "line\r\n"
                data = data.replace(b"\n", b"\r\n")
            key = (c.id, stream)
            lines = (self._partial.get(key, b"") + data).split(b"\n")
            self._partial[key] = lines.pop()
            if lines and os.path.isdir(c.root):
                t = format_rfc3339nano(self.now())
                _append(c, [((line + b"\n"), stream, t) for line in lines])

        return write

    def flush(self, c: Container, at: float) -> None:
        """At exit, log what is left of a last line without its newline (json-file does).

        moby: daemon/logger/copier.go (the partial line flushed at EOF)
        """
        for stream in STREAMS:
            rest = self._partial.pop((c.id, stream), b"")
            if rest and os.path.isdir(c.root):
                _append(c, [(rest, stream, format_rfc3339nano(at))])

    def drop(self, cid: str) -> None:
        """Forget a removed container's unfinished lines."""
        for stream in STREAMS:
            self._partial.pop((cid, stream), None)


def _append(c: Container, entries: list[tuple[bytes, str, str]]) -> None:
    # Go's JSON, as jsonlog.MarshalJSONBuf writes it: compact, `<>&` escaped, UTF-8 kept
    # moby: daemon/logger/jsonfilelog/jsonlog/jsonlogbytes.go
    with open(c.log_path, "ab") as f:
        for data, stream, t in entries:
            text = data.decode("utf-8", errors="replace")
            f.write(marshal({"log": text, "stream": stream, "time": t}) + b"\n")


def read_log(c: Container) -> Iterator[dict[str, Any]]:
    """Every entry of the container's json-file log, read as it goes (lines that do not
    parse are skipped).

    moby: daemon/logger/jsonfilelog/read.go
    """
    if os.path.exists(c.log_path):
        with open(c.log_path) as f:
            yield from _entries(f)


def _entries(f: Any) -> Iterator[dict[str, Any]]:
    for line in f:
        e = _parse(line)
        if e is not None:
            yield e


#: moby: daemon/logs.go (a driver without a reader: none, syslog, ...)
NO_READER = "configured logging driver does not support reading"


def _reads_json_file(c: Container) -> bool:
    """The model's one log driver is json-file (`local`/`journald` are recorded as it);
    `none` keeps nothing."""
    return ((c.host_config.get("LogConfig") or {}).get("Type") or "json-file") != "none"


def _select(
    entries: Iterable[dict[str, Any]],
    stdout: bool,
    stderr: bool,
    since: float | None,
    until: float | None,
) -> Iterator[dict[str, Any]]:
    wanted = {"stdout": stdout, "stderr": stderr}
    for e in entries:
        if not wanted.get(e["stream"], True):
            continue
        t = parse_rfc3339nano(e["time"]) or 0.0
        if since is not None and t < since or until is not None and t > until:
            continue
        yield e


def _reversed_lines(f: Any, block: int = 1 << 16) -> Iterator[str]:
    """The lines of an open binary file, last first, reading blocks from its end
    (moby: pkg/tailfile TailFile, which the json-file reader uses for --tail)."""
    f.seek(0, os.SEEK_END)
    pos, rest = f.tell(), b""
    while pos > 0:
        step = min(block, pos)
        pos -= step
        f.seek(pos)
        lines = (f.read(step) + rest).split(b"\n")
        rest = lines.pop(0)
        for line in reversed(lines):
            if line:
                yield line.decode("utf-8", "replace")
    if rest:
        yield rest.decode("utf-8", "replace")


def _tail_from_end(
    path: str,
    n: int,
    stdout: bool,
    stderr: bool,
    since: float | None,
    until: float | None,
) -> list[dict[str, Any]]:
    """The last `n` entries that pass the filters, parsing only from the end of the log."""
    out: list[dict[str, Any]] = []
    if n <= 0 or not os.path.exists(path):
        return out
    with open(path, "rb") as f:
        for e in _select(
            (x for x in map(_parse, _reversed_lines(f)) if x is not None),
            stdout,
            stderr,
            None,
            until,
        ):
            t = parse_rfc3339nano(e["time"]) or 0.0
            if since is not None and t < since:
                break  # the log is in time order: nothing older can pass
            out.append(e)
            if len(out) == n:
                break
    out.reverse()
    return out


def _render(e: dict[str, Any], timestamps: bool) -> bytes:
    return ((e["time"] + " ") if timestamps else "").encode() + e["log"].encode()


def follow_logs(
    daemon: Daemon,
    ref: str,
    stdout: bool = True,
    stderr: bool = True,
    timestamps: bool = False,
    tail: int | str = "all",
    since: float | None = None,
    until: float | None = None,
    follow: bool = False,
) -> Iterator[bytes]:
    """`docker logs [-f]` as a stream: one chunk per log entry. The log file is opened
    now (as the API request is made), so what the container wrote is still read after it
    is removed; with `follow`, time passes (the clock's way) until the container stops.

    moby: daemon/logs.go ContainerLogs (follow: jsonfilelog followLogs)
    """
    with daemon.operation(ref, check_open=False) as c:
        if not _reads_json_file(c):
            raise InvalidParameter(NO_READER)
        f = open(c.log_path) if os.path.exists(c.log_path) else None  # noqa: SIM115
        cid = c.id
        first: Iterator[dict[str, Any]] = iter(())
        if f is not None and tail != "all" and int(tail) >= 0:
            # a tail is read now, from the end of the file; a follow goes on from there
            first = iter(_tail_from_end(c.log_path, int(tail), stdout, stderr, since, until))
            f.seek(0, os.SEEK_END)
        elif f is not None:
            first = _select(_entries(f), stdout, stderr, since, until)

    def stream() -> Iterator[bytes]:
        try:
            for e in first:
                yield _render(e, timestamps)
            if not follow or f is None:
                return
            pending = ""
            while True:
                chunk = f.read(1 << 16)
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split("\n")
                    for e in _select(
                        (x for x in map(_parse, lines) if x is not None),
                        stdout,
                        stderr,
                        since,
                        until,
                    ):
                        yield _render(e, timestamps)
                    continue
                c2 = daemon.containers.get(cid)
                if c2 is None or not c2.state.running or daemon.closed:
                    return
                if not _let_time_pass(daemon):
                    return
        finally:
            if f is not None:
                f.close()

    return stream()


def _parse(line: str) -> dict[str, Any] | None:
    try:
        return json.loads(line)
    except ValueError:
        return None


def _let_time_pass(daemon: Daemon) -> bool:
    """One step of a follower's wait: a virtual clock jumps to the next thing that happens
    (False when nothing will); a real one sleeps a little with the daemon's lock let go."""
    import time

    from dockerlayers.daemon.monitor import advance_to, next_event

    if daemon.clock.virtual:
        with daemon.lock:
            ev = next_event(daemon)
            if ev is None:
                return False
            advance_to(daemon, ev[0])
        return True
    time.sleep(0.05)
    with daemon.lock:
        advance_to(daemon, daemon.clock.now())
    return True


def container_logs(
    daemon: Daemon,
    ref: str,
    stdout: bool = True,
    stderr: bool = True,
    timestamps: bool = False,
    tail: int | str = "all",
    since: float | None = None,
    until: float | None = None,
) -> bytes:
    """`docker logs`: the container's output from its json-file log.

    moby: daemon/logs.go ContainerLogs
    """
    entries = log_messages(daemon, ref, stdout, stderr, tail, since, until)
    prefix = (lambda e: e["time"] + " ") if timestamps else (lambda e: "")
    return b"".join((prefix(e) + e["log"]).encode() for e in entries)


def log_messages(
    daemon: Daemon,
    ref: str,
    stdout: bool = True,
    stderr: bool = True,
    tail: int | str = "all",
    since: float | None = None,
    until: float | None = None,
) -> Iterator[dict[str, str]]:
    """The log's messages (`log`, `stream`, `time`) in order, read as they are consumed;
    `tail` counts the last N of both streams together, as the json-file reader does.

    moby: daemon/logger/jsonfilelog/read.go (tail over the file), daemon/logs.go
    """
    with daemon.operation(ref, check_open=False) as c:
        if not _reads_json_file(c):
            raise InvalidParameter(NO_READER)
        if tail != "all" and int(tail) >= 0:
            return iter(_tail_from_end(c.log_path, int(tail), stdout, stderr, since, until))
        return _select(read_log(c), stdout, stderr, since, until)
