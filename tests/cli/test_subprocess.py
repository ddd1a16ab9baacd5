"""`python -m dockerlayers` as separate processes: state persists between invocations,
a container started by one is still running in the next, and stop takes its timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from dockerlayers.daemon.daemon import OPERATION_STEP
from dockerlayers.process.clock import parse_rfc3339nano

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def dl(tmp_path):
    def run(*argv: str, clock: str | None = "virtual") -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERLAYERS_")}
        env.update(
            DOCKERLAYERS_ROOT=str(tmp_path / "root"),
            DOCKERLAYERS_SEED="3",
            DOCKERLAYERS_MOUNTS="user",
            TZ="UTC",
        )
        env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
        if clock:
            env["DOCKERLAYERS_CLOCK"] = clock
        return subprocess.run(
            [sys.executable, "-m", "dockerlayers", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    return run


def test_running_container_outlives_the_process_that_started_it(dl):
    r = dl("run", "-d", "--name", "web", "base", "sh", "-c", "while true; do sleep 1; done")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    assert dl("ps", "-q", "--no-trunc").stdout == cid + "\n"
    assert dl("clock", "advance", "90s").returncode == 0
    assert dl("ps", "--format", "{{.Names}} {{.Status}}").stdout == "web Up About a minute\n"
    before = dl("clock", "show").stdout
    r = dl("stop", "web")
    assert (r.returncode, r.stdout) == (0, "web\n")
    after = dl("clock", "show").stdout
    # 90 s after a few 1 ms operation steps; the stop waited its 10 s timeout (plus one step)
    assert before.startswith("2024-01-01T00:01:30.00") and before.endswith("Z (virtual)\n")
    t0, t1 = (parse_rfc3339nano(t.split()[0]) for t in (before, after))
    assert round(t1 - t0, 6) == 10 + OPERATION_STEP
    assert (
        dl("ps", "-a", "--format", "{{.Status}}").stdout == "Exited (137) Less than a second ago\n"
    )


def test_exit_code_and_errors_through_the_process(dl):
    dl("run", "base", "true")
    r = dl("run", "base", "sh", "-c", "exit 5")
    assert r.returncode == 5
    r = dl("nope")
    assert (r.returncode, r.stderr) == (
        1,
        "dockerlayers: 'nope' is not a dockerlayers command.\nSee 'dockerlayers --help'\n",
    )


@pytest.mark.slow
def test_real_clock_stop_takes_its_timeout(dl):
    assert (
        dl(
            "run",
            "-d",
            "--name",
            "loop",
            "base",
            "sh",
            "-c",
            "while true; do sleep 1; done",
            clock=None,
        ).returncode
        == 0
    )
    start = time.monotonic()
    r = dl("stop", "-t", "1", "loop", clock=None)
    took = time.monotonic() - start
    assert (r.returncode, r.stdout) == (0, "loop\n")
    assert took >= 1.0
    assert "Exited (137)" in dl("ps", "-a", "--format", "{{.Status}}", clock=None).stdout


@pytest.mark.slow
def test_real_clock_attached_run_follows_the_output(dl):
    start = time.monotonic()
    r = dl("run", "--rm", "base", "sh", "-c", "echo one; sleep 1; echo two", clock=None)
    assert (r.returncode, r.stdout) == (0, "one\ntwo\n"), r.stderr
    assert time.monotonic() - start >= 1.0
    assert dl("ps", "-aq", clock=None).stdout == ""
