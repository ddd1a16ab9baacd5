"""Debian's busybox as base:1 has it: ash's standalone shell (an applet runs by name with
no file in PATH), bounded pipes between the model's one-after-another pipeline stages, `ps`
over the model's processes, and the base image left byte for byte as it was."""

from __future__ import annotations

import hashlib
import os

import pytest

from dockerlayers import DockerClient
from dockerlayers.process import Process
from dockerlayers.process.resolve import ExecError
from dockerlayers.process.shell.core import PIPE_BOUND

from .conftest import T0


@pytest.fixture
def bare(tmp_path):
    """A root with /bin/busybox and /bin/sh only (no links): what standalone mode needs."""
    root = tmp_path / "bare"
    (root / "bin").mkdir(parents=True)
    (root / "bin/busybox").write_bytes(b"\x7fELF busybox stand-in\n")
    os.chmod(root / "bin/busybox", 0o755)
    os.symlink("busybox", root / "bin/sh")
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    return root


def _run(root, argv):
    from dockerlayers.graphdriver.rootfs import DirRootFS

    out: list[tuple[str, bytes]] = []
    proc = Process.spawn(
        argv,
        env=["PATH=/usr/local/bin:/bin"],
        cwd="/",
        rootfs=DirRootFS(str(root)),
        clock_now=T0,
        hostname="h",
        output=lambda s, d: out.append((s, d)),
    )
    now = T0
    for _ in range(100):
        proc.run(now)
        if proc.exited or proc.wake_at is None:
            break
        now = proc.wake_at
    text = {s: b"".join(d for t, d in out if t == s).decode() for s in ("stdout", "stderr")}
    return proc, text["stdout"], text["stderr"]


def test_an_applet_runs_by_name_without_a_link(bare):
    proc, out, err = _run(
        bare, ["sh", "-c", "yes | head -n 2; sed -n 2p <<EOF\na\nb\nEOF\ntype yes"]
    )
    assert (out, err, proc.exit_code) == ("y\ny\nb\nyes is yes\n", "", 0)


def test_the_applet_wins_over_a_file_in_path_but_not_over_a_path(bare):
    """ash's find_command: an applet name is the applet (a script of that name in PATH is
    not run); `/usr/local/bin/yes` is the file; env's exec prefers applets too."""
    (bare / "usr/local/bin").mkdir(parents=True)
    (bare / "usr/local/bin/yes").write_text("#!/bin/sh\necho mine\n")
    os.chmod(bare / "usr/local/bin/yes", 0o755)
    script = "yes | head -n 1; /usr/local/bin/yes; env yes | head -n 1; command -v yes; which yes"
    proc, out, err = _run(bare, ["sh", "-c", script])
    assert out == "y\nmine\ny\nyes\n/usr/local/bin/yes\n"


def test_without_a_shell_the_name_must_be_a_file(bare):
    """`docker run IMAGE yes`: runc's PATH lookup, no applets."""
    with pytest.raises(ExecError) as e:
        _run(bare, ["yes"])
    assert e.value.message == 'exec: "yes": executable file not found in $PATH'


def test_an_unknown_name_is_still_not_found(bare):
    proc, out, err = _run(bare, ["sh", "-c", "nosuch; echo $?; busybox nosuch; echo $?"])
    assert out == "127\n127\n"
    assert err == "sh: nosuch: not found\nnosuch: applet not found\n"


# -- pipes ------------------------------------------------------------------------------------
def test_an_endless_writer_gets_sigpipe_when_its_reader_is_done(sh):
    r = sh("(yes; echo yes=$? >&2) | head -n 2; echo head=$?")
    assert (r.stdout, r.stderr) == ("y\ny\nhead=0\n", "yes=141\n")


def test_a_reader_wanting_more_than_was_kept_fails_plainly(sh):
    r = sh("yes | wc -l; echo $?")
    assert r.stdout == "1\n"
    assert r.stderr == (
        f"wc: read error: more than {PIPE_BOUND} bytes came through a pipe; dockerlayers runs"
        " pipeline stages one after another and stopped the writer there\n"
    )


def test_a_bounded_writer_keeps_its_exact_output(sh):
    r = sh("seq 1 100000 | tail -n 1; seq 1 100000 | wc -c; seq 1 100000 | md5sum")
    expected = "".join(f"{i}\n" for i in range(1, 100001)).encode()
    assert r.stdout == (
        f"100000\n{len(expected)}\n{hashlib.md5(expected).hexdigest()}  -\n"  # noqa: S324
    )


def test_a_shell_loop_writer_is_stopped_once_its_pipe_is_full(sh):
    """A loop writes slowly: after PIPE_STALL_SLICES busy slices with 64 KiB waiting it is
    stopped as a writer blocked on a full pipe would be once its reader is done."""
    r = sh("i=0; while :; do echo $i; i=$((i+1)); done | head -n 3; echo $?")
    assert (r.stdout, r.stderr) == ("0\n1\n2\n0\n", "")


def test_the_read_builtin_takes_one_line_of_an_endless_pipe(sh):
    r = sh("yes | (read a; echo got $a); echo $?")
    assert (r.stdout, r.stderr) == ("got y\n0\n", "")


# -- in a container -----------------------------------------------------------------------------
@pytest.fixture
def client():
    c = DockerClient(seed=5, clock="virtual", mounts="user")
    yield c
    c.close()


def _logs(client, script: str) -> str:
    c = client.containers.run(client.images.base(), ["sh", "-c", script], detach=True)
    c.wait()
    out = c.logs().decode()
    c.remove(force=True)
    return out


def test_endless_devices_into_a_pipe(client):
    assert (
        _logs(
            client,
            "cat /dev/zero | head -c 3 | wc -c; "
            "dd if=/dev/urandom bs=1k count=2 2>/dev/null | wc -c",
        )
        == "3\n2048\n"
    )


def test_ps_lists_pid_1_its_children_and_itself(client):
    assert _logs(client, "sleep 100 & ps") == (
        "PID   USER     COMMAND\n"
        "    1 root     {ps} sh -c sleep 100 & ps\n"
        "    2 root     sleep 100\n"
    )
    assert _logs(client, "sleep 50 & ps; echo done") == (
        "PID   USER     COMMAND\n"
        "    1 root     sh -c sleep 50 & ps; echo done\n"
        "    2 root     sleep 50\n"
        "    3 root     {ps} sh -c sleep 50 & ps; echo done\n"
        "done\n"
    )


def test_ps_in_an_exec_sees_the_container_s_processes(client):
    c = client.containers.run(client.images.base(), ["sh", "-c", "sleep 100; echo x"], detach=True)
    client.clock.advance(1)
    out = c.exec_run(["sh", "-c", "ps -o pid,ppid,comm,args"]).output.decode().splitlines()
    c.remove(force=True)
    assert out[0] == "PID   PPID  COMMAND          COMMAND"
    assert out[1] == "    1     0 sh               sh -c sleep 100; echo x"
    assert out[2] == "    2     1 sleep            sleep 100"
    assert out[3].split()[1:3] == ["0", "ps"] and out[3].endswith(
        "{ps} sh -c ps -o pid,ppid,comm,args"
    )


def test_sed_in_place_replaces_the_file_as_the_engine_shows(client):
    """A new file renamed over the image's: `docker diff` says C /etc, C /etc/os-release."""
    client.clock.advance(5)  # a new mtime: the naive diff compares times to the second
    c = client.containers.run(
        client.images.base(), ["sh", "-c", "sed -i s/base/BASE/ /etc/os-release"], detach=True
    )
    c.wait()
    assert c.diff() == [{"Path": "/etc", "Kind": 0}, {"Path": "/etc/os-release", "Kind": 0}]
    c.remove()


# -- the base image ---------------------------------------------------------------------------
def test_the_base_image_is_unchanged_by_new_applets():
    """Applets added later are not linked into the base image: its layer and ID stay."""
    from dockerlayers import baseimage
    from dockerlayers.process.applets import APPLET_NAMES

    tar = baseimage.rootfs_tar()
    assert hashlib.sha256(tar).hexdigest() == (
        "bc8e11ae9022d753bb5a44c48b84f920523ca189571b5b65f8ed96e8735fd896"
    )
    assert set(baseimage.applet_names()) <= APPLET_NAMES | {"["}
    assert {"sed", "ps", "yes"} & set(baseimage.applet_names()) == set()


def test_the_base_image_id(client):
    assert client.images.base().id == (
        "sha256:8ff4cba13b2e3b56a076e1f5f5179b2df529fe09f8c66fc342ad8d04f9a4f093"
    )
