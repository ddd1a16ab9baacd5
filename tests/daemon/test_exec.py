"""`docker exec` through the SDK: what the API refuses before the daemon acts."""

from __future__ import annotations

import pytest


def test_an_empty_command_is_refused_before_the_daemon_acts(client, base):
    """moby's API router: `No exec command specified` (400), no exec events."""
    from dockerlayers.errors import InvalidParameter

    c = client.containers.run(base, ["sleep", "100"], detach=True)
    before = len(client.daemon.events.list())
    for cmd in ([], ""):
        with pytest.raises(InvalidParameter, match="^No exec command specified$"):
            c.exec_run(cmd)
    assert len(client.daemon.events.list()) == before
