"""Every lifecycle operation against a container in every state, with Docker 20.10's result
or its exact error text (moby.md §5: daemon/{start,stop,kill,pause,unpause,restart,delete,
exec,commit,rename,wait}.go and the API routes' wrapping).

`{id}` is the full container ID, `{ref}` the name the caller used (these tests call the
daemon by name, so the two differ where Docker's texts differ)."""

from __future__ import annotations

import pytest

from dockerlayers.errors import APIError, DockerException
from tests.daemon.daemontest import STATES, make_in_state

REF = "subject"
GONE = "gone"

NOT_RUNNING = (409, "Container {id} is not running")
KILL_NOT_RUNNING = (409, "Cannot kill container: {ref}: Container {id} is not running")
NOT_PAUSED = (500, "Container {id} is not paused")  # fmt.Errorf in 20.10: no errdefs kind
STOP_FIRST = "Stop the container before attempting removal or force remove"
REMOVAL = (409, "container is marked for removal and cannot be started")

# op -> state -> ("ok", status after, exit code after or None) | ("err", http status, text)
EXPECTED: dict[str, dict[str, tuple]] = {
    "start": {
        "created": ("ok", "running", 0),
        "running": ("ok", "running", 0),  # 304 Container is already started: a no-op
        "paused": ("err", 409, "cannot start a paused container, try unpause instead"),
        "restarting": ("ok", "restarting", 3),  # Running is true: 304, a no-op
        "exited": ("ok", "running", 0),
        "dead": ("err", *REMOVAL),
    },
    "stop": {
        "created": ("ok", "created", 0),  # 304 Container is already stopped
        "running": ("ok", "exited", 137),  # sh as PID 1 ignores SIGTERM: SIGKILL after 10 s
        "paused": ("ok", "exited", 137),
        "restarting": ("ok", "exited", 3),  # the pending restart is cancelled
        "exited": ("ok", "exited", 3),
        "dead": ("ok", "dead", 3),
    },
    "kill": {
        "created": ("err", *KILL_NOT_RUNNING),
        "running": ("ok", "exited", 137),
        "paused": ("ok", "exited", 137),  # killed, then resumed so the signal lands
        "restarting": ("ok", "exited", 3),
        "exited": ("err", *KILL_NOT_RUNNING),
        "dead": ("err", *KILL_NOT_RUNNING),
    },
    "kill_term": {
        "created": ("err", *KILL_NOT_RUNNING),
        "running": ("ok", "running", 0),  # PID 1 without a TERM trap ignores it
        "paused": ("ok", "running", 0),  # the signal resumes the container; it is ignored
        "restarting": ("ok", "exited", 3),
        "exited": ("err", *KILL_NOT_RUNNING),
        "dead": ("err", *KILL_NOT_RUNNING),
    },
    "pause": {
        "created": ("err", *NOT_RUNNING),
        "running": ("ok", "paused", 0),
        "paused": ("err", 500, "Container {id} is already paused"),  # fmt.Errorf in 20.10
        "restarting": (
            "err",
            409,
            "Container {id} is restarting, wait until the container is running",
        ),
        "exited": ("err", *NOT_RUNNING),
        "dead": ("err", *NOT_RUNNING),
    },
    "unpause": {
        "created": ("err", *NOT_PAUSED),
        "running": ("err", *NOT_PAUSED),
        "paused": ("ok", "running", 0),
        "restarting": ("err", *NOT_PAUSED),
        "exited": ("err", *NOT_PAUSED),
        "dead": ("err", *NOT_PAUSED),
    },
    "restart": {
        "created": ("ok", "running", 0),
        "running": ("ok", "running", 0),
        "paused": ("ok", "running", 0),
        "restarting": ("ok", "running", 0),
        "exited": ("ok", "running", 0),
        "dead": (
            "err",
            500,
            "Cannot restart container {ref}: container is marked for removal and cannot be started",
        ),
    },
    "rm": {
        "created": ("ok", GONE, None),
        "running": (
            "err",
            409,
            "You cannot remove a running container {id}. " + STOP_FIRST,
        ),
        "paused": (
            "err",
            409,
            "You cannot remove a paused container {id}. Unpause and then s" + STOP_FIRST[1:],
        ),
        "restarting": (
            "err",
            409,
            "You cannot remove a restarting container {id}. " + STOP_FIRST,
        ),
        "exited": ("ok", GONE, None),
        "dead": ("ok", GONE, None),
    },
    "rm_force": {s: ("ok", GONE, None) for s in STATES},
    "exec": {
        "created": ("err", *NOT_RUNNING),
        "running": ("ok", "running", 0),
        "paused": ("err", 409, "Container {ref} is paused, unpause the container before exec"),
        "restarting": (
            "err",
            409,
            "Container {id} is restarting, wait until the container is running",
        ),
        "exited": ("err", *NOT_RUNNING),
        "dead": ("err", *NOT_RUNNING),
    },
    "commit": {
        "created": ("ok", "created", 0),
        "running": ("ok", "running", 0),
        "paused": ("ok", "paused", 0),
        "restarting": ("ok", "restarting", 3),
        "exited": ("ok", "exited", 3),
        "dead": ("err", 409, "You cannot commit container {id} which is Dead"),
    },
    "rename": {
        "created": ("ok", "created", 0),
        "running": ("ok", "running", 0),
        "paused": ("ok", "paused", 0),
        "restarting": ("ok", "restarting", 3),
        "exited": ("ok", "exited", 3),
        "dead": ("ok", "dead", 3),
    },
    "wait": {
        "created": ("ok", "created", 0),  # not-running: returns at once with 0
        "running": ("blocks",),
        "paused": ("blocks",),
        "restarting": ("blocks",),  # restarting is Running; `always` never lets it stop
        "exited": ("ok", "exited", 3),
        "dead": ("ok", "dead", 3),
    },
    **{
        op: {
            "created": ("ok", "created", 0),
            "running": ("ok", "running", 0),
            "paused": ("ok", "paused", 0),
            "restarting": ("ok", "restarting", 3),
            "exited": ("ok", "exited", 3),
            "dead": ("ok", "dead", 3),
        }
        for op in ("diff", "logs", "inspect", "top_level_list")
    },
}


def _do(daemon, op: str):
    if op == "start":
        return daemon.start(REF)
    if op == "stop":
        return daemon.stop(REF)
    if op == "kill":
        return daemon.kill(REF)
    if op == "kill_term":
        return daemon.kill(REF, "TERM")
    if op == "pause":
        return daemon.pause(REF)
    if op == "unpause":
        return daemon.unpause(REF)
    if op == "restart":
        return daemon.restart(REF)
    if op == "rm":
        return daemon.remove(REF)
    if op == "rm_force":
        return daemon.remove(REF, force=True)
    if op == "exec":
        code, out, err = daemon.exec_run(REF, ["sh", "-c", "echo ok"])
        assert (code, out) == (0, b"ok\n")
        return None
    if op == "commit":
        return daemon.commit(REF, "committed", "v1")
    if op == "rename":
        daemon.rename(REF, "renamed")
        daemon.rename("renamed", REF)
        return None
    if op == "wait":
        return daemon.wait(REF, timeout=5)
    if op == "diff":
        return daemon.changes(REF)
    if op == "logs":
        return daemon.logs(REF)
    if op == "inspect":
        return daemon.inspect(REF, size=True)
    if op == "top_level_list":
        return daemon.list(all=True, size=True)
    raise ValueError(op)


CASES = [(op, state) for op in EXPECTED for state in STATES]


def test_table_is_complete():
    assert all(set(row) == set(STATES) for row in EXPECTED.values())


@pytest.mark.parametrize("op,state", CASES, ids=[f"{o}-{s}" for o, s in CASES])
def test_operation_in_state(client, monkeypatch, op, state):
    c = make_in_state(client, state, monkeypatch, name=REF)
    daemon = client.daemon
    before = daemon.inspect(REF)
    expected = EXPECTED[op][state]
    if expected[0] == "blocks":
        t0 = client.clock.now()
        with pytest.raises(DockerException, match="timed out"):
            _do(daemon, op)
        assert client.clock.now() == pytest.approx(t0 + 5)
        if state != "restarting":
            assert daemon.inspect(REF)["State"]["Status"] == state
        return
    if expected[0] == "err":
        _, http_status, text = expected
        with pytest.raises(APIError) as info:
            _do(daemon, op)
        assert str(info.value) == text.format(id=c.id, ref=REF)
        assert info.value.status_code == http_status
        after = daemon.inspect(REF)
        # a refusal changes nothing
        assert after["State"] == before["State"]
        assert after["Name"] == before["Name"]
        return
    _, status, exit_code = expected
    result = _do(daemon, op)
    if status == GONE:
        assert c.id not in daemon.containers
        assert REF not in [x["Names"][0].lstrip("/") for x in daemon.list(all=True)]
        return
    after = daemon.inspect(REF)
    assert after["State"]["Status"] == status
    assert after["State"]["ExitCode"] == exit_code
    if op == "wait":
        assert result == {"StatusCode": exit_code, "Error": None} or (
            state == "dead" and result["StatusCode"] == exit_code
        )


def test_start_failure_leaves_created_on_the_model_too(client, monkeypatch):
    """(sanity) every fixture state is reachable and reports its own status."""
    for state in STATES:
        c = make_in_state(client, state, monkeypatch, name=f"s-{state}")
        assert client.daemon.inspect(c.id)["State"]["Status"] == state
