"""Process: exec resolution like runc, PID 1 signal semantics, persistence."""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockerlayers.process import ExecError, Process
from dockerlayers.process.signals import SIGHUP, SIGINT, SIGKILL, SIGTERM, SIGUSR1

T0 = 1704067200.0  # 2024-01-01T00:00:00Z, as in conftest


# -- exec resolution (runc + Go exec.LookPath, Docker's texts) -----------------------------
@pytest.mark.parametrize(
    "argv0, code, message",
    [
        ("nosuch", 127, 'exec: "nosuch": executable file not found in $PATH'),
        ("/nosuch", 127, 'exec: "/nosuch": stat /nosuch: no such file or directory'),
        ("./nosuch", 127, 'exec: "./nosuch": stat ./nosuch: no such file or directory'),
        ("/etc", 126, 'exec: "/etc": permission denied'),
        ("/etc/passwd", 126, 'exec: "/etc/passwd": permission denied'),
        ("passwd", 127, 'exec: "passwd": executable file not found in $PATH'),
    ],
)
def test_exec_errors(spawn, argv0, code, message):
    with pytest.raises(ExecError) as info:
        spawn([argv0])
    assert info.value.exit_code == code
    assert info.value.message == message == str(info.value)


def test_path_comes_from_the_environment(spawn):
    with pytest.raises(ExecError, match="not found in"):
        spawn(["ls"], env=["PATH=/usr/bin"])
    r = spawn(["ls", "/etc"], env=[])  # no PATH: runc's default
    r.proc.run(T0)
    assert r.stdout == "group\nhostname\npasswd\n"


def test_program_chosen_by_called_name_then_symlink_target(spawn, root):
    os.symlink("/bin/busybox", root / "usr/bin/ls")  # an applet name: ls runs
    r = spawn(["/usr/bin/ls", "/etc"])
    r.proc.run(T0)
    assert r.stdout == "group\nhostname\npasswd\n"
    os.symlink("/bin/cat", root / "usr/bin/show")  # not an applet: show -> cat -> busybox
    r = spawn(["show", "/etc/hostname"])
    r.proc.run(T0)
    assert r.stdout == "abc123\n"
    os.symlink("/bin/busybox", root / "usr/bin/nope")
    r = spawn(["nope"])
    r.proc.run(T0)
    assert (r.stderr, r.proc.exit_code) == ("nope: applet not found\n", 127)
    r = spawn(["/bin/busybox", "echo", "multi"])
    r.proc.run(T0)
    assert r.stdout == "multi\n"


def test_unknown_binary_is_an_exec_format_error(spawn, root):
    (root / "bin/app").write_bytes(b"\x7fELF not ours")
    os.chmod(root / "bin/app", 0o755)
    r = spawn(["app"])
    r.proc.run(T0)
    assert r.proc.exit_code == 1
    assert r.stderr == "exec /bin/app: exec format error\n"


def test_shebang_script(spawn, root):
    (root / "entry.sh").write_text('#!/bin/sh\necho "$0:$1"\nexit 4\n')
    os.chmod(root / "entry.sh", 0o755)
    r = spawn(["/entry.sh", "arg"])
    r.proc.run(T0)
    assert (r.stdout, r.proc.exit_code) == ("/entry.sh:arg\n", 4)


def test_relative_command_and_cwd(spawn, root):
    (root / "tmp/run.sh").write_text("#!/bin/sh\npwd\n")
    os.chmod(root / "tmp/run.sh", 0o755)
    r = spawn(["./run.sh"], cwd="/tmp")
    r.proc.run(T0)
    assert r.stdout == "/tmp\n"


def test_plain_applet_without_shell(spawn):
    r = spawn(["echo", "-n", "hi"])
    assert not r.proc.exited
    r.proc.run(T0)
    assert r.proc.exited and r.proc.exit_code == 0 and r.stdout == "hi"


# -- signals: PID 1 vs others --------------------------------------------------------------
def started(spawn, script, pid=1):
    r = spawn(["sh", "-c", script], pid=pid)
    r.proc.run(T0)
    assert not r.proc.exited
    return r


@pytest.mark.parametrize("sig", [SIGTERM, SIGINT, SIGHUP, SIGUSR1])
def test_pid1_shell_ignores_untrapped_signals(spawn, sig):
    r = started(spawn, "sleep 1000")
    r.proc.signal(sig, T0 + 1)
    assert not r.proc.exited
    assert r.proc.wake_at == T0 + 1000  # still sleeping, same deadline


def test_sigkill_is_137(spawn):
    r = started(spawn, "sleep 1000")
    r.proc.signal(SIGKILL, T0 + 10)
    assert r.proc.exited and r.proc.exit_code == 137


def test_trap_exit_0_ends_at_once(spawn):
    r = started(spawn, "trap 'exit 0' TERM; sleep 1000")
    r.proc.signal(SIGTERM, T0 + 1)
    assert r.proc.exited and r.proc.exit_code == 0


def test_trap_handler_output_then_code(spawn):
    r = started(spawn, "trap 'echo bye; exit 3' TERM; echo up; sleep 1000")
    r.proc.signal("SIGTERM", T0 + 1)
    assert r.stdout == "up\nbye\n"
    assert r.proc.exit_code == 3


def test_trap_interrupts_wait_for_background_sleep(spawn):
    r = started(spawn, "trap 'exit 0' TERM; sleep 1000 & wait")
    r.proc.signal(SIGTERM, T0 + 1)
    assert r.proc.exit_code == 0


def test_trap_without_exit_resumes_the_script(spawn):
    r = started(spawn, "trap 'echo hup' HUP; sleep 100; echo after $?")
    r.proc.signal(SIGHUP, T0 + 5)
    assert r.stdout == "hup\nafter 129\n"
    assert r.proc.exit_code == 0


def test_ignored_signal_with_empty_trap(spawn):
    r = started(spawn, "trap '' TERM; sleep 1000", pid=7)
    r.proc.signal(SIGTERM, T0 + 1)
    assert not r.proc.exited


@pytest.mark.parametrize("sig, code", [(SIGTERM, 143), (SIGINT, 130), (SIGKILL, 137)])
def test_non_pid1_dies_of_untrapped_signals(spawn, sig, code):
    r = started(spawn, "sleep 1000", pid=42)
    r.proc.signal(sig, T0 + 1)
    assert r.proc.exited and r.proc.exit_code == code


def test_non_pid1_ignores_signals_whose_default_is_ignore(spawn):
    r = started(spawn, "sleep 1000", pid=42)
    r.proc.signal("WINCH", T0 + 1)
    assert not r.proc.exited


def test_plain_sleep_as_pid1_ignores_sigterm(spawn):
    r = spawn(["sleep", "1000"])
    r.proc.run(T0)
    r.proc.signal(SIGTERM, T0 + 1)
    assert not r.proc.exited
    r.proc.signal(SIGKILL, T0 + 10)
    assert r.proc.exit_code == 137


def test_signal_catches_up_first(spawn):
    r = started(spawn, "trap 'echo caught; exit 0' TERM; sleep 5; echo woke; sleep 1000")
    r.proc.signal(SIGTERM, T0 + 10)  # the first sleep ended at T0+5, before the signal
    assert r.stdout == "woke\ncaught\n"


def test_sleep_runs_to_completion(spawn):
    r = started(spawn, "sleep 1.5; echo done")
    assert r.proc.wake_at == T0 + 1.5
    r.proc.run(T0 + 1)
    assert not r.proc.exited
    r.proc.run(T0 + 1.5)
    assert r.proc.exit_code == 0 and r.stdout == "done\n"


def test_sleep_infinity_has_no_wake_time(spawn):
    r = started(spawn, "sleep infinity")
    assert r.proc.wake_at is None and not r.proc.busy and r.proc.sleeping


def test_exec_style_run_to_completion(spawn):
    r = spawn(["sh", "-c", "echo out; echo err >&2; exit 5"], pid=12)
    r.proc.run(T0)
    assert r.out == [("stdout", b"out\n"), ("stderr", b"err\n")]
    assert r.proc.exit_code == 5 and r.proc.pid == 12


# -- persistence ---------------------------------------------------------------------------
LOOP = "i=0; while [ $i -lt 6 ]; do i=$((i+1)); echo tick $i $(date +%s); sleep 2; done; echo end"


def reference_output(spawn):
    r = spawn(["sh", "-c", LOOP])
    now = T0
    while not r.proc.exited:
        r.proc.run(now)
        now = r.proc.wake_at or now
    return r.out, r.proc.exit_code


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.floats(min_value=0, max_value=7, allow_nan=False), min_size=1, max_size=12))
def test_persisted_run_matches_uninterrupted_run(spawn, fs, advances):
    expected, code = reference_output(spawn)
    r = spawn(["sh", "-c", LOOP])
    out = r.out
    proc = r.proc
    now = T0
    for step in advances + [100.0]:
        proc.run(now)
        state = json.loads(json.dumps(proc.to_state()))
        proc = Process.from_state(state, rootfs=fs, output=lambda s, d: out.append((s, d)))
        now += step
    proc.run(now)
    assert proc.exited
    assert out == expected
    assert proc.exit_code == code == 0


def test_state_round_trip_keeps_traps_and_background_jobs(spawn, fs):
    r = started(spawn, "trap 'echo bye; exit 9' TERM; sleep 50 & x=1; wait")
    state = json.loads(json.dumps(r.proc.to_state()))
    proc = Process.from_state(state, rootfs=fs, output=lambda s, d: r.out.append((s, d)))
    proc.signal(SIGTERM, T0 + 1)
    assert proc.exit_code == 9 and r.stdout == "bye\n"


def test_from_state_rejects_unknown_versions(fs):
    with pytest.raises(ValueError):
        Process.from_state({"version": 99}, rootfs=fs, output=lambda s, d: None)


def test_writes_land_only_in_the_rootfs(spawn, root, tmp_path):
    before = set(os.listdir(tmp_path))
    r = spawn(
        [
            "sh",
            "-c",
            "mkdir -p /data/x && echo hi > /data/x/f && cd /data && touch t && ln -s x/f l",
        ]
    )
    r.proc.run(T0)
    assert r.proc.exit_code == 0, r.stderr
    assert (root / "data/x/f").read_text() == "hi\n"
    assert os.readlink(root / "data/l") == "x/f"
    assert (root / "data/t").exists()
    assert set(os.listdir(tmp_path)) == before  # nothing next to the root


def test_paths_cannot_escape_the_root(spawn, root, tmp_path):
    r = spawn(
        ["sh", "-c", "echo x > ../../../escape; cat ../../../../etc/hostname; ln -s / up; ls up/"]
    )
    r.proc.run(T0)
    assert (root / "escape").read_text() == "x\n"
    assert not (tmp_path / "escape").exists()
    assert "abc123" in r.stdout
