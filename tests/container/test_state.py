"""container.State: the status string in moby's order, the `docker ps` STATUS column, the
Set* transitions, and its JSON (moby.md §5.1)."""

from __future__ import annotations

import pytest

from dockerlayers.container.state import STATUSES, State

T = 1704067200.0


@pytest.mark.parametrize(
    "flags,status",
    [
        ({}, "created"),
        ({"running": True}, "running"),
        ({"running": True, "paused": True}, "paused"),
        ({"running": True, "restarting": True}, "restarting"),
        ({"running": True, "paused": True, "restarting": True}, "paused"),  # paused wins
        ({"removal_in_progress": True}, "removing"),
        ({"removal_in_progress": True, "dead": True}, "removing"),
        ({"dead": True, "started_at": T}, "dead"),
        ({"started_at": T}, "exited"),
        ({"running": True, "dead": True}, "running"),
    ],
)
def test_state_string_order(flags, status):
    assert State(**flags).state_string() == status
    assert status in STATUSES


@pytest.mark.parametrize(
    "state,now,text",
    [
        (State(), T, "Created"),
        (State(running=True, started_at=T), T + 0.5, "Up Less than a second"),
        (State(running=True, started_at=T), T + 1, "Up 1 second"),
        (State(running=True, started_at=T), T + 59, "Up 59 seconds"),
        (State(running=True, started_at=T), T + 90, "Up About a minute"),
        (State(running=True, started_at=T), T + 3 * 3600, "Up 3 hours"),
        (State(running=True, paused=True, started_at=T), T + 120, "Up 2 minutes (Paused)"),
        (
            State(running=True, restarting=True, exit_code=1, started_at=T, finished_at=T + 1),
            T + 3,
            "Restarting (1) 2 seconds ago",
        ),
        (State(removal_in_progress=True, started_at=T), T, "Removal In Progress"),
        (State(dead=True, started_at=T), T, "Dead"),
        (State(started_at=T), T, ""),
        (
            State(started_at=T, finished_at=T + 1, exit_code=137),
            T + 5 * 86400,
            "Exited (137) 5 days ago",
        ),
    ],
)
def test_human_status(state, now, text):
    assert state.human(now) == text


def test_transitions():
    s = State()
    s.error = "boom"
    s.set_running(1000, T)
    assert (s.running, s.pid, s.exit_code, s.error, s.started_at) == (True, 1000, 0, "", T)
    s.paused = True
    s.set_restarting(1, T + 1)
    assert (s.running, s.restarting, s.paused, s.pid, s.exit_code, s.finished_at) == (
        True,
        True,
        False,
        0,
        1,
        T + 1,
    )
    s.set_stopped(137, T + 2)
    assert (s.running, s.restarting, s.paused, s.pid, s.exit_code) == (False, False, False, 0, 137)
    assert s.set_removal_in_progress() is False
    assert s.set_removal_in_progress() is True
    s.reset_removal_in_progress()
    assert s.removal_in_progress is False


def test_json_round_trip_and_zero_time():
    s = State()
    j = s.to_json()
    assert j["StartedAt"] == j["FinishedAt"] == "0001-01-01T00:00:00Z"
    assert list(j) == [
        "Running", "Paused", "Restarting", "OOMKilled", "RemovalInProgress", "Dead",
        "Pid", "ExitCode", "Error", "StartedAt", "FinishedAt", "Health",
    ]  # fmt: skip
    s.set_running(7, T + 0.25)
    s.set_stopped(3, T + 2)
    back = State.from_json(s.to_json())
    assert back.to_json() == s.to_json()
    assert back.state_string() == "exited"
    assert s.to_json()["StartedAt"] == "2024-01-01T00:00:00.25Z"
