"""Users at the daemon: `user=` (`-u`), `exec -u`, `USER` in builds and `commit --change`,
Docker's errors for a missing user, and the same layer tars and IDs whoever runs the model
(root, or uid 1000 as on Binder: tests/support/asuser.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import time

import pytest

from dockerlayers import DockerClient
from dockerlayers.errors import APIError, BuildError
from dockerlayers.graphdriver import DRIVERS
from tests.support.asuser import run_as, workdir

DOCKERFILE = """\
FROM base
RUN echo "app:x:1000:1000:app:/home/app:/bin/sh" >> /etc/passwd && \
    echo "app:x:1000:" >> /etc/group && mkdir -p /home/app && chown app:app /home/app
USER app
RUN touch /home/app/mine /tmp/t && ln -s mine /home/app/link && mkdir /tmp/d
"""


def _build(c: DockerClient, where, text: str, tag: str):
    """`docker build` of a folder holding only `text` as its Dockerfile."""
    os.makedirs(where, exist_ok=True)
    with open(os.path.join(where, "Dockerfile"), "w") as f:
        f.write(text)
    return c.images.build(path=str(where), tag=tag)


def _bytes(data) -> bytes:
    """export()'s chunks (or bytes) as one bytes value."""
    return data if isinstance(data, bytes) else b"".join(data)


def _story(root: str, driver: str) -> dict:
    """Build, run as several users, exec, commit: every ID and listing the reader sees."""
    c = DockerClient(root=root, seed=11, clock="virtual", mounts="user", driver=driver)
    try:
        c.images.base()
        img, _ = _build(c, root + "-ctx", DOCKERFILE, "users:1")
        ct = c.containers.run(
            img,
            [
                "sh",
                "-c",
                "rm /etc/os-release; echo hi >/tmp/x; chmod 000 /tmp/x; mv /tmp/t /tmp/u;"
                " mkdir -m 555 /ro && touch /ro/f && cat /tmp/x && chmod 4750 /ro/f",
            ],
            user="0",
            detach=True,
        )
        ct.wait()
        ct2 = c.containers.run(img, ["sleep", "100"], user="0:1234", detach=True)
        ct2.exec_run(["sh", "-c", "touch /by-root-1234 && chown 7:8 /by-root-1234"])
        ct2.exec_run(["touch", "/tmp/by-app"], user="app")
        committed = ct2.commit("users", "2", changes=["USER 4321"])
        listing = c.containers.run(
            committed, ["ls", "-ln", "/", "/tmp", "/home/app"], user="0", remove=True
        )
        return {
            "images": [img.id, committed.id, ct.commit("users", "3").id],
            "layers": c.images.get("users:3").attrs["RootFS"]["Layers"]
            + committed.attrs["RootFS"]["Layers"],
            "diff": sorted(map(str, ct.diff())) + sorted(map(str, ct2.diff())),
            "logs": _bytes(ct.logs()).decode(),
            "ls": listing.decode(),
            "user": committed.attrs["Config"]["User"],
            "export": hashlib.sha256(_bytes(ct.export())).hexdigest(),
        }
    finally:
        c.close()


@pytest.mark.parametrize("driver", DRIVERS)
def test_the_same_ids_as_root_and_as_an_unprivileged_user(driver):
    """Issue 15: the host's uid must not leak into layer tars, DiffIDs or image IDs."""
    a, b = workdir(), workdir()
    try:
        as_root = _story(a + "/root", driver)
        time.sleep(1.01)  # in another second: a wall-clock time in a layer tar would show
        as_user = run_as(lambda: _story(b + "/root", driver))
    finally:
        shutil.rmtree(a)
        shutil.rmtree(b)
    assert as_user == as_root
    assert " 1000     1000 " in as_root["ls"]  # app's files are app's
    assert " 7        8 " in as_root["ls"]
    assert as_root["user"] == "4321"
    assert as_root["logs"] == "hi\n"  # root reads a 0000 file, writes in a 0555 folder


def test_a_missing_user_fails_the_start_as_docker_does(client, base):
    ct = client.containers.create(base, ["id"], user="nobody2")
    with pytest.raises(APIError) as e:
        ct.start()
    assert e.value.explanation == (
        "unable to find user nobody2: no matching entries in passwd file"
    )
    ct.reload()
    st = ct.attrs["State"]
    assert (st["Status"], st["ExitCode"], st["Error"]) == (
        "created",
        128,
        "unable to find user nobody2: no matching entries in passwd file",
    )
    assert ct.attrs["Config"]["User"] == "nobody2"
    assert client.daemon.procs.get(ct.id) is None


def test_a_missing_group_fails_too(client, base):
    with pytest.raises(APIError, match="unable to find group nogroupx: no matching entries"):
        client.containers.run(base, ["id"], user="0:nogroupx")


def test_a_number_needs_no_passwd_entry(client, base):
    out = client.containers.run(base, ["sh", "-c", "id; echo $HOME"], user="1234", remove=True)
    assert out == b"uid=1234 gid=0(root) groups=0(root)\n/\n"


def test_exec_runs_as_the_containers_user_unless_told(client, base):
    ct = client.containers.run(base, ["sleep", "100"], user="1234:4242", detach=True)
    assert ct.exec_run(["id"]).output == b"uid=1234 gid=4242 groups=4242\n"
    assert ct.exec_run(["sh", "-c", "id -u; echo $HOME"], user="0").output == b"0\n/root\n"
    r = ct.exec_run(["id"], user="nobody2")
    assert (r.exit_code, r.output) == (
        126,
        b"unable to find user nobody2: no matching entries in passwd file\r\n",
    )
    r = ct.exec_run(["sh", "-c", "echo x >> /etc/passwd"])
    assert (r.exit_code, r.output) == (1, b"sh: can't create /etc/passwd: Permission denied\n")


def test_commit_change_user_is_the_new_images_user(client, base):
    ct = client.containers.run(base, ["true"], detach=True)
    ct.wait()
    img = ct.commit("u", "1", changes=["USER 4321:4321"])
    assert img.attrs["Config"]["User"] == "4321:4321"
    assert client.containers.run(img, ["id"], remove=True) == b"uid=4321 gid=4321 groups=4321\n"


def test_user_in_a_build_runs_the_steps_after_it(client, base, tmp_path):
    img, _ = _build(client, tmp_path / "ok", DOCKERFILE, "b:1")
    out = client.containers.run(
        img, ["sh", "-c", "id -un; stat -c '%u %g' /home/app/mine /tmp/d"], remove=True
    )
    assert out == b"app\n1000 1000\n1000 1000\n"
    bad = "FROM base\nUSER nobody2\nRUN id\n"
    with pytest.raises(BuildError, match="unable to find user nobody2: no matching entries"):
        _build(client, tmp_path / "bad", bad, "b:2")
    denied = "FROM b:1\nRUN echo x >> /etc/passwd\n"
    with pytest.raises(BuildError, match="returned a non-zero code: 1"):
        _build(client, tmp_path / "denied", denied, "b:3")
