"""The command line on a root whose daemon.json turns the containerd image store on."""

from __future__ import annotations

import json
import os

from tests.cli.conftest import cli  # noqa: F401  (the fixture)


def test_daemon_json_feature_on_the_command_line(cli):  # noqa: F811
    os.makedirs(cli.root, exist_ok=True)
    (cli.root / "daemon.json").write_text(
        json.dumps({"features": {"containerd-snapshotter": True}})
    )
    r = cli("info", "-f", "{{ .DriverStatus }}")
    assert r.out.strip() == "[[driver-type io.containerd.snapshotter.v1]]"
    assert (
        cli("run", "-d", "--name", "c1", "base", "sh", "-c", "echo hi >> /f; sleep 100").code == 0
    )
    snaps = cli.root / "containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots"
    assert sorted(os.listdir(snaps)) == ["1", "2", "3"]
    assert cli("restart", "-t", "0", "c1").code == 0
    assert cli("exec", "c1", "cat", "/f").out == "hi\nhi\n"
    assert sorted(os.listdir(snaps)) == ["1", "2", "3"]  # same snapshots/3
    images = cli("images").out.splitlines()
    assert images[1].split()[:3] == ["base", "latest", "92f902a48bfa"]  # the manifest digest
    assert cli("rm", "-f", "c1").code == 0
    assert os.listdir(snaps) == ["1"]
