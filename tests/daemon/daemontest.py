"""Helpers of the daemon suites: ways to bring a container into each of Docker's states
(created, running, paused, restarting, exited, dead). The drivers to run on are
`tests.support.drivers.DRIVER_PARAMS`."""

from __future__ import annotations

import errno

import pytest

SLEEPER = ["sh", "-c", "sleep 1000"]
#: exits 3 the first time, then sleeps on every later start (its RW layer remembers)
ONCE = ["sh", "-c", "test -f /ran && sleep 1000; touch /ran; exit 3"]
STATES = ("created", "running", "paused", "restarting", "exited", "dead")


def fail_driver_remove(client, monkeypatch):
    """Make the graph driver's remove fail like a busy mount (EBUSY)."""

    def remove(*_a, **_k):
        raise OSError(errno.EBUSY, "device or resource busy")

    monkeypatch.setattr(client.daemon.driver, "remove", remove)


def make_in_state(client, state: str, monkeypatch=None, name: str | None = None):
    """A container in `state`, its attrs reloaded (models are snapshots, as in docker-py)."""
    c = _make_in_state(client, state, monkeypatch, name)
    c.reload()
    return c


def _make_in_state(client, state: str, monkeypatch=None, name: str | None = None):
    """A container (docker-py model) brought into `state` the way a user would get there."""
    base = client.images.base()
    if state == "created":
        return client.containers.create(base, SLEEPER, name=name)
    if state == "running":
        return client.containers.run(base, SLEEPER, detach=True, name=name)
    if state == "paused":
        c = client.containers.run(base, SLEEPER, detach=True, name=name)
        c.pause()
        return c
    if state == "restarting":
        # exits at once; the policy waits its back-off (100 ms) before starting it again
        c = client.containers.run(
            base, ONCE, detach=True, name=name, restart_policy={"Name": "always"}
        )
        c.reload()
        assert c.status == "restarting", c.attrs["State"]
        return c
    if state == "exited":
        c = client.containers.run(base, ONCE, detach=True, name=name)
        c.reload()
        assert c.status == "exited"
        return c
    if state == "dead":
        assert monkeypatch is not None, "dead needs monkeypatch (a removal that fails)"
        c = client.containers.run(base, ONCE, detach=True, name=name)
        with monkeypatch.context() as m:
            fail_driver_remove(client, m)
            with pytest.raises(Exception, match="failed to remove root filesystem"):
                c.remove()
        c.reload()
        assert c.status == "dead", c.attrs["State"]
        return c
    raise ValueError(state)
