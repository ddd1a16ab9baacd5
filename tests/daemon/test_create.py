"""`docker create` leaves on disk what a 20.10.24 engine does (moby daemon/create*.go)."""

from __future__ import annotations

import os
import stat

import pytest

from dockerlayers.errors import APIError


def test_workdir_exists_from_create_on(client, base):
    c = client.containers.create(base, ["true"], working_dir="/newdir/sub")
    assert c.diff() == [{"Path": "/newdir", "Kind": 1}, {"Path": "/newdir/sub", "Kind": 1}]
    c.start()
    client.clock.advance(1)
    c.reload()
    assert c.attrs["State"]["ExitCode"] == 0


def test_folder_modes_as_the_engines(client, base):
    c = client.containers.run(base, ["true"], detach=True)  # mounts/ comes at start
    root = os.path.join(client.daemon.root, "containers", c.id)
    assert stat.S_IMODE(os.stat(os.path.join(root, "mounts")).st_mode) == 0o710
    db = os.path.join(client.daemon.root, "image", "overlay2", "layerdb")
    assert stat.S_IMODE(os.stat(os.path.join(db, "sha256")).st_mode) == 0o755
    for chain in os.listdir(os.path.join(db, "sha256")):
        assert stat.S_IMODE(os.stat(os.path.join(db, "sha256", chain)).st_mode) == 0o700
    image_root = os.path.join(client.daemon.root, "image", "overlay2")
    for sub in ("", "layerdb", "imagedb", "imagedb/content", "imagedb/metadata"):
        assert stat.S_IMODE(os.stat(os.path.join(image_root, sub)).st_mode) == 0o700, sub
    meta = os.path.join(image_root, "imagedb", "metadata", "sha256")
    assert not any("builtLocally" in files for _, _, files in os.walk(meta))


def test_bad_stop_signal_and_mount_mode_are_refused_with_dockers_text(client, base):
    before = sorted(os.listdir(os.path.join(client.daemon.root, "containers")))
    for kwargs, text in (
        ({"stop_signal": "BOGUS"}, "Invalid signal: BOGUS"),
        ({"volumes": ["xx:/d:bogus"]}, "invalid mode: bogus"),
        ({"volumes": ["xx:/d:ro,rw"]}, "invalid mode: ro,rw"),
    ):
        with pytest.raises(APIError) as e:
            client.containers.create(base, ["true"], **kwargs)
        assert (e.value.explanation, e.value.status_code) == (text, 400)
    assert sorted(os.listdir(os.path.join(client.daemon.root, "containers"))) == before
    c = client.containers.create(base, ["true"], volumes=["xx:/d:ro,z"], stop_signal="SIGUSR1")
    assert c.attrs["Config"]["StopSignal"] == "SIGUSR1"


def test_the_process_environment_keeps_path_first(client, base):
    # the 20.10 engine: `run -e A=1 -e HOSTNAME=h base:1 env` prints PATH, HOSTNAME=h, A=1,
    # HOME (moby: CreateDaemonEnvironment + ReplaceOrAppendEnvValues: the config's values
    # replace the defaults in place)
    out = client.containers.run(
        base, "env", environment={"A": "1", "HOSTNAME": "h"}, remove=True
    ).decode()
    assert [line.split("=")[0] for line in out.splitlines()] == ["PATH", "HOSTNAME", "A", "HOME"]
    assert "HOSTNAME=h\n" in out
