"""Volumes (moby.md §5.10, reader questions 7 and 9): named, anonymous and bind mounts are
outside the layers: not in diff, not in a commit, they outlive rm, and `rm -v` removes
anonymous volumes only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockerlayers.errors import Conflict, NotFound
from tests.daemon.daemontest import SLEEPER


def write(c, path, text="data"):
    code, out = c.exec_run(["sh", "-c", f"echo {text} > {path}"])
    assert code == 0, out


def test_named_volume(client, base):
    vol = client.volumes.create("data")
    assert vol.attrs["Mountpoint"] == os.path.join(client.root, "volumes", "data", "_data")
    c = client.containers.run(
        base, SLEEPER, detach=True, volumes={"data": {"bind": "/data", "mode": "rw"}}
    )
    vol.reload()
    write(c, "/data/db")
    write(c, "/in-layer")
    assert Path(os.path.join(vol.attrs["Mountpoint"], "db")).read_text() == "data\n"
    # the mount point itself is made in the RW layer at start (it shows, as in Docker);
    # what is written below it does not
    assert sorted((d["Path"], d["Kind"]) for d in c.diff()) == [("/data", 1), ("/in-layer", 1)]
    img = c.commit("snap", "v1")
    probe = client.containers.run(img, SLEEPER, detach=True)
    c.reload()
    vol.reload()
    assert probe.exec_run(["cat", "/in-layer"]) == (0, b"data\n")
    assert probe.exec_run(["ls", "/data"]).output == b""
    m = c.attrs["Mounts"]
    assert m == [
        {
            "Type": "volume",
            "Name": "data",
            "Source": vol.attrs["Mountpoint"],
            "Destination": "/data",
            "Driver": "local",
            "Mode": "z",
            "RW": True,
            "Propagation": "",
        }
    ]
    c.remove(force=True, v=True)  # -v never removes a named volume
    assert client.volumes.get("data").name == "data"
    c2 = client.containers.run(base, SLEEPER, detach=True, volumes=["data:/srv"])
    assert c2.exec_run(["cat", "/srv/db"]) == (0, b"data\n")


def test_named_volume_in_use_cannot_be_removed(client, base):
    client.containers.create(base, SLEEPER, volumes={"keep": {"bind": "/k", "mode": "rw"}})
    with pytest.raises(Conflict, match="^remove keep: volume is in use - "):
        client.volumes.get("keep").remove()
    with pytest.raises(NotFound, match="^get nope: no such volume$"):
        client.volumes.get("nope")


def test_anonymous_volume_and_rm_v(client, base):
    c = client.containers.run(base, SLEEPER, detach=True, volumes=["/data"])
    c.reload()
    (mount,) = c.attrs["Mounts"]
    assert mount["Type"] == "volume" and len(mount["Name"]) == 64
    write(c, "/data/x")
    assert [d["Path"] for d in c.diff()] == ["/data"]
    c.remove(force=True)
    assert os.path.exists(os.path.join(mount["Source"], "x"))  # plain rm keeps it
    c2 = client.containers.run(base, SLEEPER, detach=True, volumes=["/data"])
    c2.reload()
    (m2,) = c2.attrs["Mounts"]
    assert m2["Name"] != mount["Name"]
    c2.remove(force=True, v=True)
    assert not os.path.exists(os.path.dirname(m2["Source"]))
    assert [v.name for v in client.volumes.list()] == [mount["Name"]]


def test_bind_mount_of_a_host_folder(client, base, tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    (host / "in").write_text("from host\n")
    c = client.containers.run(
        base, SLEEPER, detach=True, volumes={str(host): {"bind": "/mnt", "mode": "rw"}}
    )
    c.reload()
    assert c.exec_run(["cat", "/mnt/in"]) == (0, b"from host\n")
    write(c, "/mnt/out")
    assert (host / "out").read_text() == "data\n"
    assert [d["Path"] for d in c.diff()] == ["/mnt"]
    (mount,) = c.attrs["Mounts"]
    assert mount == {
        "Type": "bind",
        "Source": str(host),
        "Destination": "/mnt",
        "Mode": "",
        "RW": True,
        "Propagation": "rprivate",
    }
    assert c.attrs["HostConfig"]["Binds"] == [f"{host}:/mnt"]
    c.remove(force=True, v=True)
    assert (host / "out").exists()


def test_read_only_mount(client, base, tmp_path):
    c = client.containers.run(base, SLEEPER, detach=True, volumes=[f"{tmp_path}:/ro:ro"])
    code, out = c.exec_run(["sh", "-c", "echo x > /ro/f"])
    assert code != 0
    assert b"Read-only file system" in out
    assert not (tmp_path / "f").exists()


def test_volume_data_survives_restart_and_reopen(make_client):
    cl = make_client()
    c = cl.containers.run(
        cl.images.base(), SLEEPER, detach=True, name="db", volumes=["/var/lib/db"]
    )
    write(c, "/var/lib/db/table")
    cl.close()
    cl2 = make_client()
    c2 = cl2.containers.get("db")
    c2.start()
    assert c2.exec_run(["cat", "/var/lib/db/table"]) == (0, b"data\n")


def test_a_new_volume_gets_the_image_files_at_its_destination(client, base, tmp_path):
    """moby: populateVolumes at create — an empty volume mounted over an image folder is
    filled from the container's filesystem (the init layer's placeholders included); a
    volume that holds something already is left alone, and so is a bind mount."""
    c = client.containers.run(
        base, ["ls", "/etc"], volumes={"etcvol": {"bind": "/etc"}}, remove=True
    )
    listed = c.decode().split()
    assert {"passwd", "group", "hosts", "hostname", "resolv.conf", "mtab"} <= set(listed)
    data = Path(client.volumes.get("etcvol").attrs["Mountpoint"])
    assert (data / "passwd").read_bytes() == client.containers.run(
        base, ["cat", "/etc/passwd"], remove=True
    )
    assert os.readlink(data / "mtab") == "/proc/mounts"
    (data / "passwd").write_text("changed\n")
    (data / "only-here").write_text("x")
    again = client.containers.run(
        base, ["cat", "/etc/passwd"], volumes={"etcvol": {"bind": "/etc"}}, remove=True
    )
    assert again == b"changed\n"  # not copied over again
    host = tmp_path / "bind"
    host.mkdir()
    client.containers.run(base, ["true"], volumes={str(host): {"bind": "/etc"}}, remove=True)
    assert list(host.iterdir()) == []


def test_an_anonymous_volume_over_the_rootfs_fails_the_start(client, base, tmp_path):
    """`VOLUME /data/../../..` (or `-v /`): accepted at create, and runc's init fails at
    start (20.10.24: status created, exit code 127, the shim's text in State.Error)."""
    from dockerlayers.errors import APIError

    c = client.containers.create(base, ["ls", "/"], volumes=["/"])
    with pytest.raises(APIError, match="error during container init: open /proc/sys/"):
        c.start()
    c.reload()
    assert (c.status, c.attrs["State"]["ExitCode"]) == ("created", 127)
    assert c.attrs["State"]["Error"].startswith("failed to create shim task: OCI runtime")
    (tmp_path / "Dockerfile").write_text("FROM base\nVOLUME /data/../../..\n")
    image, _ = client.images.build(path=str(tmp_path))
    with pytest.raises(APIError, match="error during container init"):
        client.containers.run(image, ["true"])
