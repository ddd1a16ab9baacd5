"""`-i`/`-t` with nothing attached: the process's stdin stays open and empty, so what reads
it waits (`docker run -dit IMAGE sh` keeps running for `exec`). Recorded on the 20.10.24
engine with base:1: `run -di ... sh`, `run -di ... cat`, `run -dt ... sh`, `run -dt ... cat`
are all `Up`; `run -d ... sh` has exited 0; `stop -t 1` of `-di sh` gives 137 (PID 1 ignores
TERM); the logs of `-dt sh` hold ash's interactive banner."""

from __future__ import annotations

import pytest

from dockerlayers.process.applets.registry import BUSYBOX_VERSION

READ = ["sh", "-c", "read x; echo got $x"]


@pytest.mark.parametrize(
    "kw", [{"stdin_open": True}, {"tty": True}, {"stdin_open": True, "tty": True}]
)
@pytest.mark.parametrize("cmd", [["sh"], ["cat"], READ], ids=["sh", "cat", "read"])
def test_an_open_stdin_keeps_the_reader_waiting(client, base, kw, cmd):
    c = client.containers.run(base, cmd, detach=True, **kw)
    c.reload()
    assert c.status == "running"
    assert c.exec_run("echo hi").output == b"hi\n"  # what -dit is for
    c.stop(timeout=1)
    c.reload()
    assert c.attrs["State"]["ExitCode"] == 137
    # a restart gives it an open stdin again
    c.start()
    c.reload()
    assert c.status == "running"


@pytest.mark.parametrize("cmd", [["sh"], ["cat"], READ], ids=["sh", "cat", "read"])
def test_without_i_or_t_stdin_is_dev_null(client, base, cmd):
    c = client.containers.run(base, cmd, detach=True)
    c.reload()
    assert (c.status, c.attrs["State"]["ExitCode"]) == ("exited", 0)
    assert c.logs() == (b"got\n" if cmd == READ else b"")


def test_a_terminal_shell_greets(client, base):
    c = client.containers.run(base, "sh", detach=True, tty=True)
    # on a terminal every newline goes out as CR LF (the engine's log holds the same)
    assert (
        c.logs()
        == (
            f"\r\n\r\nBusyBox v{BUSYBOX_VERSION} built-in shell (ash)\r\n"
            "Enter 'help' for a list of built-in commands.\r\n\r\n"
        ).encode()
    )
    # piped-in stdin (`run -i` with input) still ends: data, then end of file
    c2 = client.containers.create(base, READ, stdin_open=True)
    client.daemon.start(c2.id, stdin=b"line\n")
    assert c2.logs() == b"got line\n"
