"""`docker rm` refusals change nothing on disk (moby: daemon/delete.go ContainerRm,
cleanupContainer: the running check comes before the Dead checkpoint)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockerlayers.errors import APIError
from tests.daemon.daemontest import make_in_state


@pytest.mark.parametrize("state", ["running", "paused"])
def test_refused_rm_does_not_rewrite_config(make_client, state):
    client = make_client()
    c = make_in_state(client, state)
    root = client.daemon.containers[c.id].root
    files = [os.path.join(root, n) for n in ("config.v2.json", "hostconfig.json")]
    before = {f: (Path(f).read_bytes(), os.stat(f).st_mtime_ns, os.stat(f).st_ino) for f in files}
    with pytest.raises(APIError, match=f"You cannot remove a {state} container"):
        c.remove()
    after = {f: (Path(f).read_bytes(), os.stat(f).st_mtime_ns, os.stat(f).st_ino) for f in files}
    assert after == before
    c.reload()
    assert c.status == state
