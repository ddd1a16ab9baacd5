"""Restart policies (moby.md §5.15): no / always / unless-stopped / on-failure[:N], the
back-off on the clock (100 ms doubling, capped at 1 minute, reset after a run of 10 s or
more), the `restarting` state, and RestartCount, which counts policy restarts only."""

from __future__ import annotations

import pytest

from dockerlayers.errors import InvalidParameter
from tests.daemon.daemontest import SLEEPER

FAIL = ["sh", "-c", "exit 1"]


def starts_and_dies(client, cid):
    """[(action, time)] of the container's start and die events, in order."""
    return [
        (e["Action"], e["timeNano"] / 1e9)
        for e in client.daemon.events.list()
        if e["Actor"]["ID"] == cid and e["Action"] in ("start", "die")
    ]


def delays(client, cid):
    """The wait between each die and the next start."""
    ev = starts_and_dies(client, cid)
    return [round(b[1] - a[1], 6) for a, b in zip(ev, ev[1:]) if a[0] == "die" and b[0] == "start"]


def test_no_policy_exits(client, base):
    c = client.containers.run(base, FAIL, detach=True)
    c.reload()
    assert (c.status, c.attrs["RestartCount"]) == ("exited", 0)
    assert c.attrs["HostConfig"]["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}


def test_always_restarts_with_backoff_doubling_from_100ms(client, base):
    c = client.containers.run(base, FAIL, detach=True, restart_policy={"Name": "always"})
    c.reload()
    assert c.status == "restarting"
    st = c.attrs["State"]
    assert (st["Running"], st["Restarting"], st["Paused"], st["Pid"], st["ExitCode"]) == (
        True,
        True,
        False,
        0,
        1,
    )
    assert c.attrs["RestartCount"] == 1
    client.clock.advance(0.1 + 0.2 + 0.4)
    c.reload()
    assert c.attrs["RestartCount"] == 4
    assert delays(client, c.id) == [0.1, 0.2, 0.4]


def test_backoff_is_capped_at_one_minute(client, base):
    c = client.containers.run(base, FAIL, detach=True, restart_policy={"Name": "always"})
    client.clock.advance(600)
    d = delays(client, c.id)
    assert d[:10] == [round(0.1 * 2**i, 6) for i in range(10)]  # ... 51.2
    assert d[10:] and set(d[10:]) == {60.0}


def test_backoff_resets_after_a_run_of_ten_seconds(client, base):
    c = client.containers.run(
        base, ["sh", "-c", "sleep 10; exit 1"], detach=True, restart_policy={"Name": "always"}
    )
    client.clock.advance(60)
    assert set(delays(client, c.id)) == {0.1}
    c2 = client.containers.run(
        base, ["sh", "-c", "sleep 9; exit 1"], detach=True, restart_policy={"Name": "always"}
    )
    client.clock.advance(40)
    assert delays(client, c2.id)[:3] == [0.1, 0.2, 0.4]


def test_on_failure_with_a_maximum(client, base):
    c = client.containers.run(
        base, FAIL, detach=True, restart_policy={"Name": "on-failure", "MaximumRetryCount": 3}
    )
    c.reload()
    assert c.attrs["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    client.clock.advance(5)
    c.reload()
    assert (c.status, c.attrs["RestartCount"], c.attrs["State"]["ExitCode"]) == ("exited", 3, 1)
    assert [a for a, _ in starts_and_dies(client, c.id)] == ["start", "die"] * 4


def test_on_failure_does_not_restart_a_success(client, base):
    """integration-cli: RestartCount stays 0 for a container that exits 0 under on-failure:3."""
    c = client.containers.run(
        base, ["true"], detach=True, restart_policy={"Name": "on-failure", "MaximumRetryCount": 3}
    )
    c.reload()
    assert (c.status, c.attrs["RestartCount"]) == ("exited", 0)


def test_on_failure_without_a_maximum_keeps_going(client, base):
    c = client.containers.run(base, FAIL, detach=True, restart_policy={"Name": "on-failure"})
    client.clock.advance(30)
    c.reload()
    assert c.status == "restarting"
    assert c.attrs["RestartCount"] >= 8


def test_unless_stopped_restarts_like_always(client, base):
    c = client.containers.run(base, FAIL, detach=True, restart_policy={"Name": "unless-stopped"})
    c.reload()
    assert c.status == "restarting"
    client.clock.advance(1)
    c.reload()
    assert c.attrs["RestartCount"] >= 3


def test_restart_count_counts_only_policy_restarts(client, base):
    c = client.containers.run(base, FAIL, detach=True, restart_policy={"Name": "always"})
    client.clock.advance(0.3)
    c.reload()
    assert c.attrs["RestartCount"] == 3
    c.stop()
    c.reload()
    assert (c.status, c.attrs["RestartCount"]) == ("exited", 3)
    c.start()  # a manual start resets it; the exit that follows is policy restart number 1
    c.reload()
    assert (c.status, c.attrs["RestartCount"]) == ("restarting", 1)
    client.clock.advance(0.1)
    c.restart()  # so does a manual restart
    c.reload()
    assert c.attrs["RestartCount"] == 1
    # a policy container that keeps running: restart leaves it at 0
    s = client.containers.run(base, SLEEPER, detach=True, restart_policy={"Name": "always"})
    s.restart()
    s.reload()
    assert (s.status, s.attrs["RestartCount"]) == ("running", 0)


def test_stop_and_kill_cancel_a_pending_restart(client, base):
    c = client.containers.run(base, FAIL, detach=True, restart_policy={"Name": "always"})
    c.stop()
    c.reload()
    assert c.status == "exited"
    client.clock.advance(120)
    c.reload()
    assert c.status == "exited"
    c2 = client.containers.run(base, FAIL, detach=True, restart_policy={"Name": "always"})
    c2.kill()
    c2.reload()
    client.clock.advance(120)
    c2.reload()
    assert c2.status == "exited"


def test_stop_of_a_running_always_container_does_not_restart_it(client, base):
    c = client.containers.run(base, SLEEPER, detach=True, restart_policy={"Name": "always"})
    c.stop(timeout=0)
    c.reload()
    client.clock.advance(120)
    c.reload()
    assert (c.status, c.attrs["RestartCount"]) == ("exited", 0)


def test_a_process_exit_of_a_sleeper_is_restarted(client, base):
    c = client.containers.run(
        base, ["sh", "-c", "sleep 30"], detach=True, restart_policy={"Name": "always"}
    )
    client.clock.advance(30.05)
    c.reload()
    assert c.status == "restarting"
    client.clock.advance(0.05)
    c.reload()
    assert (c.status, c.attrs["RestartCount"]) == ("running", 1)


@pytest.mark.parametrize(
    "policy,message",
    [
        (
            {"Name": "always", "MaximumRetryCount": 3},
            "maximum retry count cannot be used with restart policy 'always'",
        ),
        (
            {"Name": "unless-stopped", "MaximumRetryCount": 2},
            "maximum retry count cannot be used with restart policy 'unless-stopped'",
        ),
        ({"Name": "on-failure", "MaximumRetryCount": -1}, "maximum retry count cannot be negative"),
        ({"Name": "sometimes"}, "invalid restart policy 'sometimes'"),
    ],
)
def test_invalid_policies(client, base, policy, message):
    with pytest.raises(InvalidParameter) as info:
        client.containers.create(base, SLEEPER, restart_policy=policy)
    assert str(info.value) == message
    assert client.containers.list(all=True) == []


def test_auto_remove_with_a_policy_is_refused(client, base):
    with pytest.raises(
        InvalidParameter, match="^can't create 'AutoRemove' container with restart policy$"
    ):
        client.containers.create(base, SLEEPER, restart_policy={"Name": "always"}, auto_remove=True)


def test_wait_returns_at_the_first_exit_of_a_restarting_container(client, base):
    # the 20.10 engine, recorded: `docker wait` of `--restart always sh -c 'sleep 1; exit 3'`
    # prints 3, and the container is `restarting` with RestartCount 1
    c = client.containers.run(
        base, ["sh", "-c", "sleep 1; exit 3"], detach=True, restart_policy={"Name": "always"}
    )
    assert c.wait(timeout=30) == {"StatusCode": 3, "Error": None}
    c.reload()
    assert (c.status, c.attrs["RestartCount"]) == ("restarting", 1)
