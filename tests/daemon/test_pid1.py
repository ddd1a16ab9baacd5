"""PID 1 semantics (moby.md §5.6–5.7, reader question 4): a shell without a TERM trap ignores
`docker stop`'s SIGTERM, so stop waits its timeout and SIGKILLs (137); a trap makes it exit
at once; `stop -t 0` kills at once."""

from __future__ import annotations

import time

import pytest

from dockerlayers import DockerClient
from tests.daemon.daemontest import SLEEPER
from tests.support.clock import assert_took

TRAPPED = ["sh", "-c", "trap 'exit 0' TERM; sleep 1000"]


def actions(client, cid, skip=2):
    """(action, signal or exit code) of the container's events, after create and start."""
    return [
        (
            e["Action"],
            e["Actor"]["Attributes"].get("signal") or e["Actor"]["Attributes"].get("exitCode"),
        )
        for e in client.daemon.events.list()
        if e["Actor"]["ID"] == cid
    ][skip:]


def test_stop_waits_the_default_timeout_then_kills(client, base):
    c = client.containers.run(base, SLEEPER, detach=True)
    t0 = client.clock.now()
    c.stop()
    c.reload()
    assert_took(client, t0, 10.0)
    assert c.status == "exited"
    assert c.attrs["State"]["ExitCode"] == 137
    assert c.attrs["State"]["Pid"] == 0
    assert actions(client, c.id) == [
        ("kill", "15"),
        ("kill", "9"),
        ("die", "137"),
        ("stop", None),
    ]


def test_stop_with_a_trap_exits_at_once(client, base):
    c = client.containers.run(base, TRAPPED, detach=True)
    t0 = client.clock.now()
    c.stop()
    c.reload()
    assert_took(client, t0, 0)
    assert (c.status, c.attrs["State"]["ExitCode"]) == ("exited", 0)
    assert actions(client, c.id) == [("kill", "15"), ("die", "0"), ("stop", None)]


def test_stop_timeout_zero_kills_at_once(client, base):
    c = client.containers.run(base, SLEEPER, detach=True)
    t0 = client.clock.now()
    c.stop(timeout=0)
    c.reload()
    assert_took(client, t0, 0)
    assert c.attrs["State"]["ExitCode"] == 137


def test_stop_timeout_from_the_config(client, base):
    c = client.containers.run(base, SLEEPER, detach=True, stop_timeout=3)
    t0 = client.clock.now()
    c.stop()
    c.reload()
    assert_took(client, t0, 3.0)
    assert c.attrs["State"]["ExitCode"] == 137


def test_a_process_that_ends_within_the_timeout_keeps_its_exit_code(client, base):
    c = client.containers.run(base, ["sh", "-c", "sleep 4; exit 42"], detach=True)
    t0 = client.clock.now()
    c.stop()
    c.reload()
    assert_took(client, t0, 4.0)
    assert c.attrs["State"]["ExitCode"] == 42


def test_stop_signal_from_the_config(client, base):
    c = client.containers.run(
        base, ["sh", "-c", "trap 'exit 5' USR1; sleep 1000"], detach=True, stop_signal="SIGUSR1"
    )
    t0 = client.clock.now()
    c.stop()
    c.reload()
    assert_took(client, t0, 0)
    assert c.attrs["State"]["ExitCode"] == 5


def test_kill_is_sigkill_137(client, base):
    c = client.containers.run(base, TRAPPED, detach=True)
    c.kill()
    c.reload()
    assert (c.status, c.attrs["State"]["ExitCode"]) == ("exited", 137)


@pytest.mark.parametrize("sig", ["TERM", "SIGTERM", "15", 15, "HUP", "INT"])
def test_kill_with_an_unhandled_signal_leaves_pid1_running(client, base, sig):
    c = client.containers.run(base, SLEEPER, detach=True)
    c.kill(sig)
    c.reload()
    assert c.status == "running"
    client.clock.advance(60)
    c.reload()
    assert c.status == "running"


def test_kill_term_with_a_trap(client, base):
    c = client.containers.run(base, TRAPPED, detach=True)
    c.kill("TERM")
    c.reload()
    assert (c.status, c.attrs["State"]["ExitCode"]) == ("exited", 0)


def test_kill_invalid_signal(client, base):
    from dockerlayers.errors import InvalidParameter

    c = client.containers.run(base, SLEEPER, detach=True)
    with pytest.raises(InvalidParameter, match="^Invalid signal: SIGFOO$"):
        c.kill("SIGFOO")
        c.reload()
    with pytest.raises(InvalidParameter, match="^Invalid signal: SIGFOO$"):
        client.daemon.kill("no-such-container", "SIGFOO")  # parsed before the lookup
    c.reload()  # run(detach=True) returns the created container's snapshot, as docker-py
    assert c.status == "running"


def test_an_exec_is_not_pid1(client, base):
    """`kill` inside the container: a non-PID-1 shell dies of SIGTERM (143)."""
    c = client.containers.run(base, SLEEPER, detach=True)
    code, _ = c.exec_run(["sh", "-c", "kill -TERM $$; sleep 5"])
    assert code == 143


def test_stop_on_the_real_clock(tmp_path):
    """One real-time stop (timeout 1 s): the only real sleep in the suite."""
    with DockerClient(root=str(tmp_path / "r"), clock=None, mounts="user") as cl:
        c = cl.containers.run(cl.images.base(), SLEEPER, detach=True)
        t0 = time.monotonic()
        c.stop(timeout=1)
        c.reload()
        elapsed = time.monotonic() - t0
        assert 0.9 <= elapsed < 5
        assert c.attrs["State"]["ExitCode"] == 137


SPIN = ["sh", "-c", "while true; do :; done"]


def test_a_spinning_pid1_is_stopped_after_its_timeout(client, base):
    """A loop without sleep never blocks; its slices take (virtual) CPU time, so stop's
    timeout runs out like with a sleeper: SIGTERM ignored, SIGKILL after 10 s, 137."""
    c = client.containers.run(base, SPIN, detach=True)
    c.reload()
    assert c.status == "running"
    t0 = client.clock.now()
    c.stop()
    c.reload()
    assert_took(client, t0, 10.0)
    assert c.attrs["State"]["ExitCode"] == 137
    assert actions(client, c.id) == [("kill", "15"), ("kill", "9"), ("die", "137"), ("stop", None)]


def test_a_trap_that_spins_is_killed_after_the_timeout(client, base):
    trap = ["sh", "-c", "trap 'while true; do :; done' TERM; while true; do sleep 1; done"]
    c = client.containers.run(base, trap, detach=True)
    t0 = client.clock.now()
    c.stop(timeout=3)
    c.reload()
    assert_took(client, t0, 3.0)
    assert c.attrs["State"]["ExitCode"] == 137


def test_a_spinning_container_keeps_running_across_a_long_clock_jump(client, base):
    """An hour of virtual time is not replayed slice by slice: the spinner has run a few
    slices when the jump ends, and goes on from there; a sleeper beside it is not held up."""
    from dockerlayers.process.shell.vm import MAX_STEPS

    spin = client.containers.run(
        base, ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /n; done"], detach=True
    )
    ticker = client.containers.run(
        base, ["sh", "-c", "while true; do echo tick; sleep 600; done"], detach=True
    )
    client.clock.advance(3600)
    n = int(spin.exec_run(["cat", "/n"]).output)
    assert 0 < n < MAX_STEPS  # a handful of slices, each far fewer iterations than steps
    assert ticker.logs().decode().split() == ["tick"] * 7
    client.clock.advance(10)
    assert int(spin.exec_run(["cat", "/n"]).output) > n


def test_exec_and_run_of_cpu_bound_scripts_finish(client, base):
    from dockerlayers.process.shell.vm import MAX_STEPS

    count = ["sh", "-c", f"i=0; while [ $i -lt {MAX_STEPS} ]; do i=$((i+1)); done; echo $i"]
    out = client.containers.run(base, count, remove=True)
    assert out == f"{MAX_STEPS}\n".encode()
    c = client.containers.run(base, SPIN, detach=True)
    assert c.exec_run(count).output == f"{MAX_STEPS}\n".encode()
    c.kill()


def test_pid1_cannot_kill_itself_with_sigkill(client, base):
    """`kill -9 $$` inside: the kernel ignores SIGKILL sent to a namespace's init from
    within (a 20.10.24 engine: the shell goes on and exits 0)."""
    c = client.containers.run(base, ["sh", "-c", "kill -9 $$; echo alive"], detach=True)
    client.clock.advance(1)
    c.reload()
    assert c.attrs["State"]["ExitCode"] == 0
    assert c.logs() == b"alive\n"


def test_a_busy_loop_on_the_real_clock_runs_to_its_end(tmp_path):
    # a loop without sleep runs in slices (one second of the clock each); on a real clock
    # the next slice was looked for after the clock had moved on, so it never ran and
    # `run` waited forever after the first 10,000 steps (about 1,250 iterations here)
    from dockerlayers import DockerClient

    with DockerClient(root=str(tmp_path / "r"), mounts="user") as c:
        loop = "i=0; while [ $i -lt 1500 ]; do echo l$i; i=$((i+1)); done"
        out = c.containers.run("base", ["sh", "-c", loop], remove=True)
    assert out.endswith(b"l1499\n") and out.count(b"\n") == 1500
