"""Concurrency: threads through one client; two processes on one root."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from dockerlayers import DockerClient
from dockerlayers.daemon.daemon import RootInUse
from dockerlayers.testing.invariants import CLIENT_KW, Report, check_client, check_root
from tests.reliability.concurrency import hammer


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_threads_through_one_client(tmp_path, seed):
    root = str(tmp_path / "root")
    client = DockerClient(root=root, **CLIENT_KW)
    try:
        result = hammer(client, threads=6, ops=25, seed=seed)
        assert result["problems"] == []
        assert result["ops"] > 0
        live = Report()
        check_client(client, live)
        # live handles: none outside the images, children and containers either
        assert live.violations == []
    finally:
        client.close()
    assert check_root(root).violations == []


def test_second_client_in_process_is_refused(tmp_path):
    root = str(tmp_path / "root")
    with (
        DockerClient(root=root, **CLIENT_KW),
        pytest.raises(RootInUse, match="is in use by process"),
    ):
        DockerClient(root=root, **CLIENT_KW)
    DockerClient(root=root, **CLIENT_KW).close()  # free again after close


def test_second_process_is_refused(tmp_path):
    root = str(tmp_path / "root")
    code = textwrap.dedent(
        f"""
        from dockerlayers import DockerClient
        from dockerlayers.daemon.daemon import RootInUse
        try:
            DockerClient(root={root!r}, mounts="user")
        except RootInUse as e:
            print("refused:", e)
            raise SystemExit(3)
        raise SystemExit(0)
        """
    )
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    with DockerClient(root=root, **CLIENT_KW):
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert p.returncode == 3, p.stderr
        assert f"in use by process {os.getpid()}" in p.stdout
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
