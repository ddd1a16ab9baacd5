"""Opening a root again (moby.md §5.16): after close (dockerd's shutdown), after detach (the
CLI between two commands), after a crash (no close: the processes are lost, exit 137), and
a second client on a root held by another process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from dockerlayers import DockerClient
from dockerlayers.daemon.daemon import RootInUse
from tests.daemon.daemontest import SLEEPER

POLICIES = ["no", "always", "unless-stopped", "on-failure"]


def run_all(cl, manually_stopped: bool = False):
    """One sleeper per policy (named after it); optionally stopped by the user."""
    base = cl.images.base()
    out = {}
    for p in POLICIES:
        c = cl.containers.run(base, SLEEPER, detach=True, name=p, restart_policy={"Name": p})
        if manually_stopped:
            c.stop(timeout=0)
            c.reload()
        out[p] = c
    return out


def statuses(cl):
    return {
        c.name: (c.status, c.attrs["State"]["ExitCode"], c.attrs["RestartCount"])
        for c in cl.containers.list(all=True)
    }


def test_close_stops_everything_and_policies_bring_them_back(make_client):
    cl = make_client()
    run_all(cl)
    t0 = cl.clock.now()
    cl.close()
    cl2 = make_client()
    # shutdown: SIGTERM ignored by PID 1, the 10 s timeout, SIGKILL (all waited for in turn)
    assert cl2.clock.now() >= t0 + 10
    assert statuses(cl2) == {
        "no": ("exited", 137, 0),
        "always": ("running", 0, 0),
        "unless-stopped": ("running", 0, 0),
        "on-failure": ("running", 0, 0),  # 137 is a failure
    }


def test_a_stopped_always_container_comes_back_unless_stopped_does_not(make_client):
    cl = make_client()
    run_all(cl, manually_stopped=True)
    cl.close()
    cl2 = make_client()
    assert statuses(cl2) == {
        "no": ("exited", 137, 0),
        "always": ("running", 0, 0),
        "unless-stopped": ("exited", 137, 0),
        "on-failure": ("running", 0, 0),
    }
    assert cl2.containers.get("always").attrs["State"]["Error"] == ""


def test_on_failure_does_not_come_back_after_a_clean_exit(make_client):
    cl = make_client()
    c = cl.containers.run(
        cl.images.base(), ["true"], detach=True, restart_policy={"Name": "on-failure"}
    )
    c.reload()
    assert c.status == "exited"
    cl.close()
    cl2 = make_client()
    assert cl2.containers.get(c.id).status == "exited"


def test_detach_leaves_processes_running_and_policies_alone(make_client):
    cl = make_client()
    base = cl.images.base()
    cs = run_all(cl, manually_stopped=True)
    r = cl.containers.run(base, ["sh", "-c", "sleep 5; echo done"], detach=True, name="runner")
    r.reload()
    pid = r.attrs["State"]["Pid"]
    cl.detach()
    cl2 = make_client()
    # a detach is no daemon restart: the user's stops stand, the sleeper still runs
    assert {n: s[0] for n, s in statuses(cl2).items()} == {
        **{p: "exited" for p in POLICIES},
        "runner": "running",
    }
    r2 = cl2.containers.get("runner")
    assert r2.attrs["State"]["Pid"] == pid
    assert r2.attrs["State"]["StartedAt"] == r.attrs["State"]["StartedAt"]
    cl2.clock.advance(5)
    r2.reload()
    assert (r2.status, r2.attrs["State"]["ExitCode"]) == ("exited", 0)
    assert r2.logs() == b"done\n"
    assert cs["always"].id in cl2.daemon.containers


def test_detach_keeps_a_pending_policy_restart(make_client):
    cl = make_client()
    c = cl.containers.run(
        cl.images.base(), ["sh", "-c", "exit 1"], detach=True, restart_policy={"Name": "always"}
    )
    c.reload()
    assert c.status == "restarting"
    cl.detach()
    cl2 = make_client()
    c2 = cl2.containers.get(c.id)
    assert c2.status == "restarting"
    cl2.clock.advance(0.1)
    c2.reload()
    assert c2.attrs["RestartCount"] == 2


def test_crash_copy_of_the_root(make_client, tmp_path):
    """A root copied while a client holds it is what a crash leaves: processes are lost
    (exit 137, no die event), policies apply, RW data and mount-ids stay."""
    cl = make_client()
    cs = run_all(cl)
    paused = cl.containers.run(cl.images.base(), SLEEPER, detach=True, name="paused")
    paused.pause()
    cs["no"].exec_run(["sh", "-c", "echo kept > /kept"])
    mid = cl.daemon.layer_store.get_mount_id(cs["no"].id)
    n_events = len(cl.daemon.events.list())
    shutil.copytree(cl.root, tmp_path / "crashed", symlinks=True)
    crashed = make_client("crashed")
    assert statuses(crashed) == {
        "no": ("exited", 137, 0),
        "paused": ("exited", 137, 0),
        "always": ("running", 0, 0),
        "unless-stopped": ("running", 0, 0),
        "on-failure": ("running", 0, 0),
    }
    events = crashed.daemon.events.list()[n_events:]
    assert sorted((e["Action"], e["Actor"]["Attributes"]["name"]) for e in events) == [
        ("start", "always"),
        ("start", "on-failure"),
        ("start", "unless-stopped"),
    ]
    no = crashed.containers.get("no")
    assert crashed.daemon.layer_store.get_mount_id(no.id) == mid
    assert no.rootfs.read_bytes("/kept") == b"kept\n"
    assert no.attrs["State"]["FinishedAt"] != "0001-01-01T00:00:00Z"


def test_crash_in_the_middle_of_rm_leaves_a_dead_container(make_client, tmp_path, monkeypatch):
    """RemovalInProgress found at restore: the container is dead, and rm finishes the job."""
    cl = make_client()
    c = cl.containers.run(cl.images.base(), ["true"], detach=True, name="victim")
    real_remove = cl.daemon.driver.remove

    def remove(id, *a, **k):
        if not os.path.exists(tmp_path / "snap"):
            shutil.copytree(cl.root, tmp_path / "snap", symlinks=True)
        return real_remove(id, *a, **k)

    monkeypatch.setattr(cl.daemon.driver, "remove", remove)
    c.remove()
    snap = make_client("snap")
    d = snap.containers.get("victim")
    assert d.status == "dead"
    st = d.attrs["State"]
    assert (st["Dead"], st["Running"]) == (True, False)
    with open(os.path.join(snap.root, "containers", d.id, "config.v2.json")) as f:
        text = f.read()
    assert '"RemovalInProgress":false' in text and '"Dead":true' in text
    d.remove()
    assert snap.containers.list(all=True) == []
    assert not os.path.exists(os.path.join(snap.root, "containers", d.id))


def test_a_second_client_in_this_process_is_refused(make_client):
    cl = make_client()
    with pytest.raises(RootInUse) as info:
        DockerClient(root=cl.root, clock="virtual", mounts="user")
    assert str(os.getpid()) in str(info.value)
    assert cl.root in str(info.value)
    cl.close()
    make_client()  # free again


HOLDER = textwrap.dedent(
    """
    import os, sys
    from dockerlayers import DockerClient
    cl = DockerClient(root=sys.argv[1], seed=1, clock="virtual", mounts="user")
    base = cl.images.base()
    for p in ("no", "always"):
        cmd = ["sh", "-c", "echo hi > /f; sleep 1000"]
        cl.containers.run(base, cmd, detach=True, name=p, restart_policy={"Name": p})
    print("ready", flush=True)
    sys.stdin.readline()
    os._exit(0)  # a crash: no close, no detach
    """
)


def test_a_root_held_by_another_process_then_its_crash(tmp_path):
    root = str(tmp_path / "held")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), *sys.path]))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, root],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        with pytest.raises(RootInUse) as info:
            DockerClient(root=root, clock="virtual", mounts="user")
        assert f"in use by process {proc.pid}" in str(info.value)
    finally:
        proc.stdin.write("\n")
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0
    with DockerClient(root=root, clock="virtual", mounts="user") as cl:
        st = statuses(cl)
        assert st == {"no": ("exited", 137, 0), "always": ("running", 0, 0)}
        code, out = cl.containers.get("always").exec_run(["cat", "/f"])
        assert (code, out) == (0, b"hi\n")


def _as_written_before_format_2(root: str, open_: bool) -> None:
    """The state file and lock file as the earlier daemon left them: no "format", "open"
    written at every open, the last holder's PID never taken out of the lock file."""
    path = os.path.join(root, "dockerlayers.json")
    with open(path) as f:
        state = json.load(f)
    state.pop("format")
    state["open"] = open_
    with open(path, "w") as f:
        json.dump(state, f)
    with open(os.path.join(root, "dockerlayers.pid"), "w") as f:
        f.write("4242")


@pytest.mark.parametrize("open_", [False, True], ids=["detached", "crashed"])
def test_a_root_from_before_the_lock_files_pid_marked_it_open(make_client, open_):
    cl = make_client()
    cl.containers.run(cl.images.base(), SLEEPER, detach=True, name="up")
    cl.detach()
    _as_written_before_format_2(cl.root, open_)
    again = make_client()
    assert statuses(again)["up"] == (("exited", 137, 0) if open_ else ("running", 0, 0))


def test_a_detach_empties_the_lock_file_and_a_holder_that_dies_leaves_its_pid(make_client):
    cl = make_client()
    cl.containers.run(cl.images.base(), SLEEPER, detach=True, name="up")
    lock = os.path.join(cl.root, "dockerlayers.pid")
    with open(lock) as f:
        assert f.read() == str(os.getpid())
    cl.detach()
    with open(lock) as f:
        assert f.read() == ""
    reader = make_client()
    assert statuses(reader)["up"] == ("running", 0, 0)
    reader.daemon.abandon()  # dies after reading: it wrote nothing but its PID
    with open(lock) as f:
        assert f.read() == str(os.getpid())
    assert statuses(make_client())["up"] == ("exited", 137, 0)


@pytest.mark.parametrize("crashed_before", [False, True], ids=["detached", "crashed"])
def test_an_open_that_fails_before_the_restore_leaves_the_lock_file_as_it_was(
    make_client, monkeypatch, crashed_before
):
    """An open that fails before it changed anything (here: the volume store) is no crash
    of the root: a clean end before it stays clean, a crash before it stays one."""
    import dockerlayers.daemon.daemon as daemon_module

    cl = make_client()
    cl.containers.run(cl.images.base(), SLEEPER, detach=True, name="up")
    if crashed_before:
        cl.daemon.abandon()
    else:
        cl.detach()

    def broken(*_a, **_k):
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as m:
        m.setattr(daemon_module, "VolumeStore", broken)
        with pytest.raises(OSError):
            make_client()
    expected = ("exited", 137, 0) if crashed_before else ("running", 0, 0)
    assert statuses(make_client())["up"] == expected
