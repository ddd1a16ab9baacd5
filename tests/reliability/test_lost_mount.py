"""A container whose `layerdb/mounts/<id>` record is lost (damage, a hand-made deletion):
dockerd logs "Failed to load container mount" and keeps its folder and its RW data. The
model keeps both too, shows the container Dead with the reason, lets `docker rm` remove
it, and never deletes the RW data it can no longer account for (issue 21, item 4)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dockerlayers import DockerClient
from dockerlayers.cli import main as cli_main
from dockerlayers.testing.invariants import check_root
from tests.support.drivers import DRIVER_PARAMS, KERNEL_OK

KW = {"seed": 3, "clock": "virtual"}


def _damaged_root(tmp_path, driver: str, mounts: str) -> tuple[str, str, str, str]:
    root = str(tmp_path / "root")
    with DockerClient(root=root, driver=driver, mounts=mounts, **KW) as client:
        c = client.containers.run(
            client.images.base().id, ["sh", "-c", "echo precious > /data"], detach=True
        )
        c.wait()
        keep = client.containers.create(client.images.base().id, ["true"], name="other")
        mount_id = client.daemon.layer_store.get_mount_id(c.id)
        upper = client.daemon.driver.layer_dir(mount_id)
        record = client.daemon.layer_store.store.mount_dir(c.id)
    shutil.rmtree(record)
    return root, c.id, upper, keep.id


@pytest.mark.parametrize("params", DRIVER_PARAMS)
def test_a_lost_mount_record_deletes_nothing(tmp_path, params):
    driver, mounts = params
    root, cid, upper, other = _damaged_root(tmp_path, driver, mounts)
    for _ in range(2):  # every reopen (each CLI command is one) keeps it all
        with DockerClient(root=root, driver=driver, mounts=mounts, **KW) as client:
            c = client.containers.get(cid)
            assert c.status == "dead"
            assert c.attrs["State"]["Error"].startswith("failed to load container mount")
            assert client.containers.get(other).status == "created"
            client.daemon.layer_store.cleanup()
            assert os.path.isdir(os.path.join(root, "containers", cid))
            assert os.path.isdir(upper)
            assert client.daemon.layer_store.quarantined
    found = [
        os.path.join(dirpath, f)
        for dirpath, _, files in os.walk(upper)
        for f in files
        if f == "data"
    ]
    assert found and Path(found[0]).read_text() == "precious\n"
    report = check_root(root, driver=driver, client_kw={"mounts": mounts})
    assert report.violations == []
    assert report.orphans.get("quarantined-rw") == 2  # the RW layer and its init layer
    assert os.path.isdir(upper)  # check_root's `rm` of the dead container keeps the data


def test_the_cli_lists_it_dead_and_rm_removes_it(tmp_path, capsys, monkeypatch):
    root, cid, upper, _ = _damaged_root(tmp_path, "overlay2", "user")
    monkeypatch.setenv("DOCKERLAYERS_MOUNTS", "user")
    assert cli_main(["--root", root, "ps", "-a", "--format", "{{.ID}} {{.Status}}"]) == 0
    assert f"{cid[:12]} Dead" in capsys.readouterr().out
    assert cli_main(["--root", root, "rm", cid[:12]]) == 0
    assert capsys.readouterr().out == cid[:12] + "\n"
    assert not os.path.exists(os.path.join(root, "containers", cid))
    assert os.path.isdir(upper)


@pytest.mark.skipif(not KERNEL_OK, reason="needs root and the kernel's overlayfs")
def test_a_user_space_reopen_unmounts_what_a_killed_kernel_daemon_left(tmp_path):
    """A daemon killed while a container's RW layer was kernel-mounted leaves the overlay
    mounted; the next daemon on the root unmounts it whatever its mount mode (issue 21,
    item 10: a `mounts="user"` reopen could not clean them)."""
    from dockerlayers.graphdriver.kernel import mounts_under

    root = str(tmp_path / "root")
    client = DockerClient(root=root, driver="overlay2", mounts="kernel", **KW)
    c = client.containers.run(client.images.base().id, ["sh", "-c", "sleep 1000"], detach=True)
    client.daemon.rw_layers[c.id].mount()  # held, as a build's RUN holds it
    assert mounts_under(os.path.join(root, "overlay2"))
    client.daemon.abandon()
    with DockerClient(root=root, driver="overlay2", mounts="user", **KW) as again:
        assert mounts_under(os.path.join(root, "overlay2")) == []
        assert again.containers.get(c.id).status == "exited"
