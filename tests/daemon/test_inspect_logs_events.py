"""What a reader sees from outside: `docker inspect` fields, json-file logs, the event
stream of common flows, exec, and a start that fails (moby.md §5.1, §5.5, §5.14)."""

from __future__ import annotations

import json
import os

import pytest

from dockerlayers.errors import APIError
from dockerlayers.process.clock import format_rfc3339nano, parse_rfc3339nano
from tests.daemon.daemontest import SLEEPER, make_in_state
from tests.support.clock import assert_took

ZERO = "0001-01-01T00:00:00Z"


def container_events(client, cid):
    return [
        e
        for e in client.daemon.events.list()
        if e["Type"] == "container" and e["Actor"]["ID"] == cid
    ]


def actions(client, cid):
    return [e["Action"] for e in container_events(client, cid)]


# -- inspect ----------------------------------------------------------------------------------
FLAGS = {
    # status: (Running, Paused, Restarting, Dead)
    "created": (False, False, False, False),
    "running": (True, False, False, False),
    "paused": (True, True, False, False),
    "restarting": (True, False, True, False),
    "exited": (False, False, False, False),
    "dead": (False, False, False, True),
}


@pytest.mark.parametrize("state", list(FLAGS))
def test_state_flags(client, monkeypatch, state):
    c = make_in_state(client, state, monkeypatch)
    st = c.attrs["State"]
    assert st["Status"] == state
    assert (st["Running"], st["Paused"], st["Restarting"], st["Dead"]) == FLAGS[state]
    assert st["OOMKilled"] is False
    assert list(st) == [
        "Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead",
        "Pid", "ExitCode", "Error", "StartedAt", "FinishedAt",
    ]  # fmt: skip
    assert (st["Pid"] != 0) == (state in ("running", "paused"))
    if state == "created":
        assert (st["StartedAt"], st["FinishedAt"], st["ExitCode"]) == (ZERO, ZERO, 0)
    else:
        assert st["StartedAt"] != ZERO
    if state in ("running", "paused"):
        assert st["FinishedAt"] == ZERO
    if state in ("restarting", "exited", "dead"):
        assert st["FinishedAt"] != ZERO


def test_times_are_rfc3339nano(client, base):
    client.clock.advance(1.5 - client.clock.now() % 1)  # 00:00:01.5, whatever came before
    c = client.containers.create(base, ["sh", "-c", "sleep 2.25"])
    # the create itself is one operation step (1 ms) later; trailing zeros are trimmed
    assert c.attrs["Created"] == "2024-01-01T00:00:01.501Z"
    c.start()
    c.reload()
    client.clock.advance(10)
    c.reload()
    started = c.attrs["State"]["StartedAt"]
    assert started.startswith("2024-01-01T00:00:01.5") and started.endswith("Z")
    # PID 1 slept 2.25 s from its start: the times keep their nanoseconds as Go writes them
    finished = parse_rfc3339nano(started) + 2.25
    assert c.attrs["State"]["FinishedAt"] == format_rfc3339nano(round(finished, 6))
    assert c.attrs["State"]["FinishedAt"].startswith("2024-01-01T00:00:03.75")


def test_identity_fields(client, base):
    c = client.containers.create(base, ["sh", "-c", "echo hi"], name="web")
    c.reload()
    a = c.attrs
    assert len(a["Id"]) == 64 and all(ch in "0123456789abcdef" for ch in a["Id"])
    assert a["Name"] == "/web" and c.name == "web"
    assert (a["Path"], a["Args"]) == ("sh", ["-c", "echo hi"])
    assert a["Image"] == base.id
    assert a["Config"]["Hostname"] == a["Id"][:12]
    assert a["Driver"] == "overlay2"
    assert a["RestartCount"] == 0
    # paths are empty until the first start
    assert (a["HostnamePath"], a["HostsPath"], a["ResolvConfPath"], a["LogPath"]) == (
        "",
        "",
        "",
        "",
    )
    c.start()
    c.reload()
    cdir = os.path.join(client.root, "containers", c.id)
    assert c.attrs["LogPath"] == os.path.join(cdir, f"{c.id}-json.log")
    assert c.attrs["HostnamePath"] == os.path.join(cdir, "hostname")


def test_graph_driver_data_overlay2(client, base):
    c = client.containers.create(base, SLEEPER)
    c.reload()
    data = c.attrs["GraphDriver"]
    assert data["Name"] == "overlay2"
    mid = client.daemon.layer_store.get_mount_id(c.id)
    home = os.path.join(client.root, "overlay2")
    image_layer = client.daemon.rw_layer(c.id).parent.cache_id
    assert data["Data"] == {
        "LowerDir": f"{home}/{mid}-init/diff:{home}/{image_layer}/diff",
        "MergedDir": f"{home}/{mid}/merged",
        "UpperDir": f"{home}/{mid}/diff",
        "WorkDir": f"{home}/{mid}/work",
    }
    for key in ("LowerDir", "UpperDir", "WorkDir"):
        for path in data["Data"][key].split(":"):
            assert os.path.isdir(path)


@pytest.mark.parametrize("driver", ["aufs", "vfs"])
def test_graph_driver_data_is_null_for_aufs_and_vfs(make_client, driver):
    cl = make_client(driver=driver)
    c = cl.containers.create(cl.images.base(), SLEEPER)
    assert c.attrs["GraphDriver"] == {"Data": None, "Name": driver}


def test_sizes_only_when_asked(client, base):
    c = client.containers.run(base, SLEEPER, detach=True)
    c.reload()
    assert "SizeRw" not in c.attrs
    c.exec_run(["sh", "-c", "printf 0123456789 > /ten"])
    base.reload()
    info = client.daemon.inspect(c.id, size=True)
    assert info["SizeRw"] == 10
    image_size = base.attrs["Size"]
    assert info["SizeRootFs"] == image_size + 10
    (row,) = client.daemon.list(size=True)
    assert (row["SizeRw"], row["SizeRootFs"]) == (10, image_size + 10)


def test_start_of_a_missing_executable(client, base):
    c = client.containers.create(base, ["nosuchcmd", "arg"])
    with pytest.raises(APIError) as info:
        c.start()
        c.reload()
    assert info.value.status_code == 400
    assert 'exec: "nosuchcmd": executable file not found in $PATH' in str(info.value)
    c.reload()
    st = c.attrs["State"]
    assert st["Status"] == "created"
    assert (st["Running"], st["ExitCode"], st["Pid"]) == (False, 127, 0)
    assert st["Error"] == str(info.value)
    assert st["StartedAt"] == ZERO
    assert actions(client, c.id) == ["create"]
    # the RW layer was unmounted again
    assert not os.path.exists(c.attrs["GraphDriver"]["Data"]["MergedDir"])
    # an absolute path that does not exist
    c2 = client.containers.create(base, ["/nope"])
    with pytest.raises(APIError, match='exec: "/nope": stat /nope: no such file or directory'):
        c2.start()
    assert client.daemon.inspect(c2.id)["State"]["ExitCode"] == 127
    # a successful start clears the error
    c3 = client.containers.create(base, ["sh", "-c", "test -x /bin/x || exit 0"])
    c3.start()
    assert client.daemon.inspect(c3.id)["State"]["Error"] == ""


def test_exec_in_a_running_container(client, base):
    c = client.containers.run(base, SLEEPER, detach=True)
    assert c.exec_run("hostname") == (0, (c.id[:12] + "\n").encode())
    assert c.exec_run(["sh", "-c", "echo out; echo err >&2; exit 4"]) == (4, b"out\nerr\n")
    code, out = c.exec_run(["nosuchcmd"])
    assert code == 126
    assert b'exec: "nosuchcmd": executable file not found in $PATH' in out
    # an exec that sleeps moves the virtual clock
    t0 = client.clock.now()
    assert c.exec_run(["sh", "-c", "sleep 3; echo woke"]) == (0, b"woke\n")
    assert_took(client, t0, 3)


# -- logs ---------------------------------------------------------------------------------------
def test_logs_json_file(client, base):
    c = client.containers.run(
        base, ["sh", "-c", "echo one; echo two >&2; sleep 1; echo three"], detach=True
    )
    client.clock.advance(1)
    c.reload()
    assert c.logs() == b"one\ntwo\nthree\n"
    assert c.logs(stderr=False) == b"one\nthree\n"
    assert c.logs(stdout=False) == b"two\n"
    assert c.logs(tail=1) == b"three\n"
    started = c.attrs["State"]["StartedAt"]
    later = format_rfc3339nano(round(parse_rfc3339nano(started) + 1, 6))
    assert c.logs(timestamps=True).splitlines()[0] == f"{started} one".encode()
    with open(c.attrs["LogPath"]) as f:
        lines = [json.loads(line) for line in f]
    assert lines == [
        {"log": "one\n", "stream": "stdout", "time": started},
        {"log": "two\n", "stream": "stderr", "time": started},
        {"log": "three\n", "stream": "stdout", "time": later},
    ]
    # a restart appends to the same file
    c.restart()
    client.clock.advance(1)
    assert c.logs().count(b"one\n") == 2


def test_run_without_detach_returns_the_output(client, base):
    assert client.containers.run(base, ["echo", "hello"]) == b"hello\n"


# -- events -------------------------------------------------------------------------------------
def test_events_of_common_flows(client, base):
    c = client.containers.run(base, SLEEPER, detach=True, name="flow")
    c.pause()
    c.unpause()
    c.restart(timeout=0)
    c.exec_run(["true"])
    c.rename("flow2")
    c.commit("snap", "v1")
    c.stop()
    c.start()
    c.kill()
    c.remove()
    assert actions(client, c.id) == [
        "create",
        "start",
        "pause",
        "unpause",
        "kill",  # restart -t 0: SIGTERM ...
        "kill",  # ... and SIGKILL at once
        "die",
        "stop",
        "start",
        "restart",
        "exec_create: true",
        "exec_start: true",
        "exec_die",
        "rename",
        "pause",  # commit pauses a running container ...
        "commit",
        "unpause",  # ... and unpauses it after
        "kill",
        "kill",
        "die",
        "stop",
        "start",
        "kill",
        "die",
        "destroy",
    ]
    evs = container_events(client, c.id)
    assert evs[0]["Actor"]["Attributes"] == {"image": base.id, "name": "flow"}
    kills = [e["Actor"]["Attributes"]["signal"] for e in evs if e["Action"] == "kill"]
    assert kills == ["15", "9", "15", "9", "9"]
    dies = [e["Actor"]["Attributes"]["exitCode"] for e in evs if e["Action"] == "die"]
    assert dies == ["137", "137", "137"]
    (rename,) = [e for e in evs if e["Action"] == "rename"]
    assert rename["Actor"]["Attributes"]["oldName"] == "/flow"
    assert rename["Actor"]["Attributes"]["name"] == "flow2"
    (commit,) = [e for e in evs if e["Action"] == "commit"]
    assert commit["Actor"]["Attributes"]["imageRef"] == "snap:v1"
    (exec_die,) = [e for e in evs if e["Action"] == "exec_die"]
    assert exec_die["Actor"]["Attributes"]["exitCode"] == "0"
    assert len(exec_die["Actor"]["Attributes"]["execID"]) == 64
    assert [e["status"] for e in evs] == [e["Action"] for e in evs]
    times = [e["timeNano"] for e in evs]
    assert times == sorted(times)


def test_events_of_rm_force_and_a_policy_restart(client, base):
    c = client.containers.run(
        base,
        ["sh", "-c", "exit 2"],
        detach=True,
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 1},
    )
    client.clock.advance(1)
    assert actions(client, c.id) == ["create", "start", "die", "start", "die"]
    r = client.containers.run(base, SLEEPER, detach=True)
    r.remove(force=True)
    assert actions(client, r.id) == ["create", "start", "kill", "die", "destroy"]


def test_events_are_kept_under_the_root(make_client):
    cl = make_client()
    c = cl.containers.create(cl.images.base(), SLEEPER)
    cl.close()
    cl2 = make_client()
    assert actions(cl2, c.id) == ["create"]
    assert os.path.exists(os.path.join(cl2.root, "events.log"))


def test_dockers_own_files_never_show_in_diff(client, base):
    """Reader question 5: /etc/hosts, /etc/hostname and /etc/resolv.conf are the container
    folder's files mounted over the rootfs (already on the first start); /.dockerenv is in
    the init layer. Edits to them are not in the RW layer."""
    c = client.containers.run(base, SLEEPER, detach=True)
    assert c.exec_run("cat /etc/hostname") == (0, (c.id[:12] + "\n").encode())
    assert c.exec_run("cat /etc/resolv.conf").output.startswith(b"nameserver ")
    assert (
        c.exec_run(["sh", "-c", "echo '10.0.0.1 db' >> /etc/hosts; test -f /.dockerenv"]).exit_code
        == 0
    )
    assert c.diff() == []
    with open(os.path.join(client.root, "containers", c.id, "hosts")) as f:
        assert f.read().endswith("10.0.0.1 db\n")
