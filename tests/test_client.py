"""The docker SDK-shaped client (DESIGN.md "Public contract")."""

from __future__ import annotations

import os

import pytest

from dockerlayers import DockerClient
from dockerlayers.errors import ContainerError, ImageNotFound, NotFound


@pytest.fixture
def client():
    with DockerClient(seed=3, clock="virtual", mounts="user") as cl:
        yield cl


def test_temporary_root_is_removed_by_close():
    cl = DockerClient(clock="virtual", mounts="user")
    root = cl.root
    assert os.path.isdir(root)
    cl.close()
    assert not os.path.exists(root)
    cl.close()  # twice is harmless


def test_persistent_root_is_kept(tmp_path):
    with DockerClient(root=str(tmp_path / "r"), clock="virtual", mounts="user") as cl:
        cl.containers.create(cl.images.base(), "true", name="keep")
    assert os.path.isdir(tmp_path / "r" / "containers")
    with DockerClient(root=str(tmp_path / "r"), clock="virtual", mounts="user") as cl:
        assert cl.containers.get("keep").status == "created"


def test_models(client):
    base = client.images.base()
    c = client.containers.create(base, ["sh", "-c", "sleep 100"], name="m1", labels={"k": "v"})
    assert repr(c) == f"<Container: {c.id[:12]}>"
    assert c.short_id == c.id[:12] and c.name == "m1" and c.status == "created"
    assert c.labels == {"k": "v"}
    assert c.image == base
    assert client.containers.get("m1") == c and hash(client.containers.get("m1")) == hash(c)
    c.start()
    assert c.status == "created"  # a snapshot, as in docker-py: reload() refreshes it
    c.reload()
    assert c.status == "running"
    assert [x.id for x in client.containers.list()] == [c.id]
    assert client.containers.list(filters={"status": "exited"}) == []
    assert [x.id for x in client.containers.list(all=True, filters={"label": "k=v"})] == [c.id]
    c.stop(timeout=0)
    assert client.containers.list() == []
    assert [x.id for x in client.containers.list(all=True)] == [c.id]
    pruned = client.containers.prune()
    assert pruned["ContainersDeleted"] == [c.id]
    with pytest.raises(NotFound):
        c.reload()


def test_run_forms(client):
    base = client.images.base()
    assert client.containers.run(base, "echo hi") == b"hi\n"
    with pytest.raises(ContainerError) as info:
        client.containers.run(base, ["sh", "-c", "echo bad >&2; exit 3"], stderr=True)
    assert info.value.exit_status == 3
    assert b"bad" in info.value.stderr
    assert client.containers.run(base, "echo gone", remove=True) == b"gone\n"
    assert client.containers.list(all=True, filters={"status": "exited"})  # the failed one stays
    d = client.containers.run(base, ["sh", "-c", "exit 0"], detach=True, remove=True)
    with pytest.raises(NotFound):
        client.containers.get(d.id)  # --rm: removed at exit


def test_wait_and_exec_result(client):
    base = client.images.base()
    c = client.containers.run(base, ["sh", "-c", "sleep 7; exit 4"], detach=True)
    t0 = client.clock.now()
    assert c.wait() == {"StatusCode": 4, "Error": None}
    assert client.clock.now() - t0 == 7
    c2 = client.containers.run(base, ["sh", "-c", "sleep 100"], detach=True)
    r = c2.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
    assert r.exit_code == 0 and r.output == (b"o\n", b"e\n")
    assert tuple(c2.exec_run("true")) == (0, b"")


def test_diff_commit_and_images(client):
    base = client.images.base()
    c = client.containers.run(
        base, ["sh", "-c", "mkdir /app; echo 1 > /app/v; rm /etc/shadow"], detach=True
    )
    assert sorted((d["Path"], d["Kind"]) for d in c.diff()) == [
        ("/app", 1),
        ("/app/v", 1),
        ("/etc", 0),
        ("/etc/shadow", 2),
    ]
    img = c.commit("app", "v1", message="snapshot")
    assert img.tags == ["app:v1"]
    assert len(img.attrs["RootFS"]["Layers"]) == 2
    assert client.images.get("app:v1") == img
    out = client.containers.run(img, ["sh", "-c", "cat /app/v; test -e /etc/shadow || echo gone"])
    assert out == b"1\ngone\n"
    with pytest.raises(ImageNotFound):
        client.containers.create("nope:latest", "true")


def test_rootfs_view(client):
    c = client.containers.run(
        client.images.base(), ["sh", "-c", "echo x > /f; sleep 100"], detach=True
    )
    assert c.rootfs.read_bytes("/f") == b"x\n"
    assert c.rootfs.read_bytes("/etc/hostname") == (c.id[:12] + "\n").encode()


def test_volumes_collection(client):
    v = client.volumes.create("v1", labels={"a": "b"})
    assert v.name == v.id == "v1"
    assert v.attrs["Labels"] == {"a": "b"} and v.attrs["Driver"] == "local"
    assert [x.name for x in client.volumes.list()] == ["v1"]
    assert client.volumes.prune()["VolumesDeleted"] == ["v1"]


def test_info_and_clock(client):
    info = client.info()
    assert info["Driver"] == "overlay2" and info["DockerRootDir"] == client.root
    t = client.clock.now()
    client.clock.advance(2.5)
    assert client.clock.now() == t + 2.5
    assert client.clock.virtual
