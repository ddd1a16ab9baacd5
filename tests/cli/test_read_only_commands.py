"""A command that changes nothing writes nothing (issue 16: each command is a fresh process
that opens the root; dockerd answers `ps` or `inspect` without touching its disk). Only
the lock file's PID is written: it marks the root open, so that a command that dies is
still seen as a crash by the next one."""

from __future__ import annotations

import io
import os

import pytest

from dockerlayers.cli import main
from dockerlayers.daemon.daemon import LOCK_FILE
from dockerlayers.testing.faults import FaultInjector


@pytest.fixture
def real_clock_root(tmp_path, monkeypatch):
    """A root on the real clock (a virtual one moves at every operation, which is a change)
    with a running container, a stopped one with files, a volume and a tag."""
    root = tmp_path / "root"
    monkeypatch.setenv("DOCKERLAYERS_ROOT", str(root))
    monkeypatch.setenv("DOCKERLAYERS_MOUNTS", "user")
    monkeypatch.delenv("DOCKERLAYERS_CLOCK", raising=False)
    monkeypatch.delenv("DOCKERLAYERS_SEED", raising=False)
    for argv in (
        ["run", "-d", "--name", "up", "-v", "data:/data", "base", "sleep", "1000"],
        ["run", "--name", "done", "base", "sh", "-c", "echo hi > /f; echo out"],
        ["tag", "base", "other:1"],
    ):
        assert main(argv, stdout=io.StringIO(), stderr=io.StringIO()) == 0, argv
    return root


READ_ONLY = [
    ["ps", "-a"],
    ["ps", "-q", "--filter", "status=running"],
    ["inspect", "up"],
    ["inspect", "-f", "{{.State.Status}}", "done"],
    ["container", "inspect", "--size", "done"],
    ["diff", "done"],
    ["diff", "up"],
    ["images"],
    ["image", "inspect", "other:1"],
    ["history", "base"],
    ["logs", "done"],
    ["volume", "ls"],
    ["volume", "inspect", "data"],
    ["port", "up"],
]


@pytest.mark.parametrize("argv", READ_ONLY, ids=" ".join)
def test_a_read_only_command_writes_only_the_lock_files_pid(real_clock_root, argv):
    root = str(real_clock_root)
    with FaultInjector(root) as inj:
        code = main(argv, stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 0
    written = {os.path.basename(str(path)) for _, path in inj.points if isinstance(path, str)}
    assert written <= {LOCK_FILE}, "\n".join(map(str, inj.points))
    # open (O_CREAT), its truncate and our PID, the truncate at detach: nothing else
    assert [what for what, _ in inj.points] == ["open", "ftruncate", "write", "ftruncate"]
    with open(os.path.join(root, LOCK_FILE)) as f:
        assert f.read() == ""  # let go cleanly


def test_a_read_only_command_that_dies_is_still_a_crash(real_clock_root):
    """The previous command held the root and never let go: its PID is in the lock file, so
    the next one restores as after a dockerd crash (the processes are lost: exit 137)."""
    from dockerlayers.daemon.daemon import Daemon

    d = Daemon(str(real_clock_root), mounts="user")
    assert d.get_container("up").state.running
    d.abandon()  # killed while it ran `ps`: nothing written but the lock file's PID
    out = io.StringIO()
    assert main(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "up"], stdout=out) == 0
    assert out.getvalue() == "exited 137\n"
