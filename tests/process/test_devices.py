"""Device nodes and FIFOs seen from a container: Docker's default devices in /dev, the
device cgroup's refusal for any other node (an image's own included), and reads that never
end blocking the container's process, not the daemon (issue 21, item 3)."""

from __future__ import annotations

import os

import pytest

from dockerlayers import DockerClient
from dockerlayers.platform import is_root


@pytest.fixture
def client():
    c = DockerClient(seed=5, clock="virtual", mounts="user")
    yield c
    c.close()


def _run(client, image, script: str) -> bytes:
    c = client.containers.run(image, ["sh", "-c", script], detach=True)
    c.wait()
    return c.logs()


def test_the_default_devices(client):
    out = _run(
        client,
        client.images.base(),
        "cat /dev/null; echo $?; head -c 7 /dev/zero | wc -c; head -c 3 /dev/urandom | wc -c;"
        " ls -l /dev/null; head -c 1 /dev/tty",
    )
    lines = out.decode().splitlines()
    assert lines[:3] == ["0", "7", "3"]
    assert lines[3].startswith("crw-rw-rw-") and "   1,   3 " in lines[3]
    assert lines[4] == "head: /dev/tty: No such device or address"


def test_an_endless_read_blocks_the_process_and_stop_ends_it(client):
    c = client.containers.run(
        client.images.base(), ["sh", "-c", "cat /dev/zero; echo no"], detach=True
    )
    client.clock.advance(60)
    c.reload()
    assert c.status == "running" and c.logs() == b""
    c.stop(timeout=1)
    c.reload()
    assert c.attrs["State"]["ExitCode"] == 137


@pytest.mark.skipif(not is_root(), reason="needs root: device nodes are made by mknod")
def test_a_device_node_is_refused_unless_docker_allows_it(tmp_path):
    """What an image's own nodes give through any container filesystem: the allowed
    devices open, others are refused as the device cgroup refuses them (never opened on
    the host), a FIFO blocks instead of hanging the caller."""
    import stat

    from dockerlayers.graphdriver.rootfs import DirRootFS, WouldBlock

    for name, kind, dev in (
        ("zero2", stat.S_IFCHR, (1, 5)),
        ("hwrng", stat.S_IFCHR, (10, 183)),
        ("disk", stat.S_IFBLK, (8, 0)),
        ("tty", stat.S_IFCHR, (5, 0)),
    ):
        os.mknod(tmp_path / name, kind | 0o666, os.makedev(*dev))
    os.mkfifo(tmp_path / "fifo")
    fs = DirRootFS(str(tmp_path))
    with fs.open("/zero2", "rb") as f:
        assert f.read(3) == b"\0\0\0"
    with pytest.raises(WouldBlock):
        fs.read_bytes("/zero2")
    for name in ("hwrng", "disk"):
        with pytest.raises(PermissionError):
            fs.open("/" + name, "rb")
    with pytest.raises(OSError) as e:
        fs.open("/tty", "rb")
    assert e.value.strerror == "No such device or address"
    with pytest.raises(WouldBlock):
        fs.open("/fifo", "rb")
