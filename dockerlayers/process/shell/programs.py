"""Running a program: an applet (a Python function), a shell (frames of bytecode), a `#!`
script, or busybox called by another name.

A program run by a shell (`in_shell`) runs inside the caller's frame: an applet returns its
status at once, `sleep` blocks the job, a shell pushes a frame. A job's bottom program (a
container's PID 1, an exec) is started by `start_argv`.
"""

from __future__ import annotations

import math
import posixpath

from dockerlayers.graphdriver.rootfs import WouldBlock

from ..applets import APPLET_NAMES, APPLETS, SHELLS
from ..applets.context import AppletContext, Block, Exec
from ..applets.registry import BANNER
from ..applets.usage_text import USAGE
from ..resolve import abspath, identify, shell_find
from .core import BrokenPipe, MachineCore, PipeOverrun, overrun_message
from .ptable import exec_last, fork_pid, table
from .state import Fds, Frame, Job, Role

#: Where an applet run by name alone comes from: busybox runs itself again (its
#: bb_busybox_exec_path), not a file in the container's PATH.
SELF_EXE = "/proc/self/exe"


def find_command(rootfs, name: str, path_var: str | None, cwd: str) -> tuple[str | None, int, str]:
    """The program a command name means to Debian's busybox (FEATURE_SH_STANDALONE and
    PREFER_APPLETS): a name without `/` that is an applet is that applet whatever PATH
    holds (ash's find_command, BB_EXECVP of env and xargs); otherwise ash's PATH search.
    Returns (path, 0, "") — SELF_EXE for an applet — or (None, 127|126, why)."""
    if "/" not in name and name in APPLET_NAMES:
        return SELF_EXE, 0, ""
    return shell_find(rootfs, name, path_var, cwd)


def applet_context(
    m: MachineCore,
    job: Job,
    frame: Frame,
    name: str,
    env: dict[str, str],
    cwd: str,
    argv: list[str] | None = None,
) -> AppletContext:
    """What applet `name` (run as `argv`) sees when `frame` runs it at the job's time."""
    fds = frame["fds"]
    return AppletContext(
        name=name,
        rootfs=m.rootfs,
        cwd=cwd,
        env=env,
        now=job["t"],
        hostname=m.state["hostname"],
        pid=m.state["pid"],
        stdin=lambda: m.read_all(fds),
        write=lambda fd, data: m.write(fds, fd, data),
        read=lambda n: m.read_upto(fds, n),
        readline=lambda: m.read_line(fds),
        pipe_out=m.pipe_out(fds),
        procs=lambda: table(m, job, frame, argv or [name]),
        kill=lambda pid, sig: m.kill(job, pid, sig),
        uid=m.state["user"]["uid"],
        gid=m.state["user"]["gid"],
        groups=list(m.state["user"]["groups"]),
    )


def run_program(
    m: MachineCore,
    job: Job,
    frame: Frame,
    argv: list[str],
    path: str,
    env: dict[str, str],
    cwd: str,
    in_shell: bool,
    depth: int = 0,
) -> int | str:
    """Run the program at `path` called as argv[0]. Returns a status, or "pushed" when
    a shell frame was pushed, or "blocked" when the job now sleeps."""
    kind = identify(m.rootfs, path, argv[0], APPLET_NAMES)
    if kind == ("applet", "busybox"):
        # busybox called by an unknown name, or as `busybox APPLET ARGS`
        called = posixpath.basename(argv[0])
        if called == "busybox" and len(argv) > 1:
            argv = argv[1:]
            called = posixpath.basename(argv[0])
        if called != "busybox":
            if called not in APPLET_NAMES:
                m.write(frame["fds"], 2, f"{called}: applet not found\n".encode())
                return 127
            kind = ("applet", called)
    if kind[0] == "script" and depth < 4:
        interp = kind[1]
        script = argv[0] if "/" in argv[0] else path
        new_argv = [interp] + ([kind[2]] if kind[2] else []) + [script] + argv[1:]
        if m.rootfs.exists(interp):
            return run_program(m, job, frame, new_argv, interp, env, cwd, in_shell, depth + 1)
        m.write(frame["fds"], 2, f"{argv[0]}: line 1: {interp}: not found\n".encode())
        return 127
    if kind[0] == "unknown":
        if in_shell:
            return start_shell(m, job, frame["fds"], ["sh", path] + argv[1:], env, cwd, "sub")
        m.write(frame["fds"], 2, f"exec {path}: exec format error\n".encode())
        return 1
    name = kind[1]
    if len(argv) == 2 and argv[1] == "--help" and name in USAGE:
        # appletlib.c: `NAME --help` is the usage text, status 0 (not test/true/false)
        m.write(frame["fds"], 2, f"{BANNER}\n\n{USAGE[name]}\n".encode())
        return 0
    if name in SHELLS:
        return start_shell(m, job, frame["fds"], argv, env, cwd, "sub")
    ctx = applet_context(m, job, frame, name, env, cwd, argv)
    try:
        result = APPLETS[name](ctx, argv)
    except WouldBlock:
        # a FIFO with no writer, all of an endless device: the program never returns
        job["block"] = {"until": math.inf}
        return "blocked"
    except PermissionError as e:
        # a refusal an applet does not word itself: busybox's bb_perror_msg form
        ctx.error(f"{e.filename}: {e.strerror}" if e.filename else str(e.strerror))
        return 1
    except BrokenPipe:
        return 141  # SIGPIPE: its reader will never read more (see core.PIPE_BOUND)
    except PipeOverrun:
        ctx.err(overrun_message(name))
        return 1
    if isinstance(result, Block):
        # a shell's child unless the shell runs it in its own place (ptable.exec_last)
        child = None if exec_last(m, job, frame) else fork_pid(m)
        job["block"] = {"until": max(result.until, job["t"]), "argv": list(argv), "child": child}
        return "blocked"
    if isinstance(result, Exec):
        found, code, why = find_command(m.rootfs, result.argv[0], result.env.get("PATH"), cwd)
        if found is None:
            why = "No such file or directory" if code == 127 else why
            ctx.error(f"can't execute '{result.argv[0]}': {why}")
            return code
        return run_program(m, job, frame, result.argv, found, result.env, cwd, in_shell, depth + 1)
    return int(result)  # type: ignore[call-overload]


def start_shell(
    m: MachineCore,
    job: Job,
    fds: Fds,
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    role: Role | None,
) -> int | str:
    """Run `sh [-e] [-x] [-c CMD [arg0 [args]] | SCRIPT [args]]` as a new shell frame."""
    opts: dict[str, bool] = {}
    args = argv[1:]
    command = None
    while args and args[0].startswith("-") and args[0] != "-":
        flag = args.pop(0)
        if flag == "--":
            break
        for ch in flag[1:]:
            if ch == "c":
                command = True
                opts["c"] = True
            elif ch in "eux":
                opts[ch] = True
            elif ch in "sil":
                pass
            else:
                m.write(fds, 2, f"sh: -{ch}: invalid option\n".encode())
                return 2
    script = None
    if command:
        if not args:
            m.write(fds, 2, b"sh: -c requires an argument\n")
            return 2
        text = args.pop(0)
        arg0 = args.pop(0) if args else argv[0]  # `/bin/sh -c`: `/bin/sh: ...`
        params = args
    elif args:
        script = args.pop(0)
        try:
            data = m.rootfs.read_bytes(abspath(cwd, script))
        except IsADirectoryError:
            m.write(fds, 2, f"sh: can't open '{script}': Is a directory\n".encode())
            return 2
        except OSError:
            m.write(fds, 2, f"sh: can't open '{script}': No such file or directory\n".encode())
            return 2
        text = data.decode("utf-8", "surrogateescape")
        arg0, params = script, args
    elif fds.get("0", {}).get("t") == "open":
        # commands from a stdin that stays open (`run -dit IMAGE sh`): the shell waits
        # for its first line forever; on a terminal it greets first (ash's interactive
        # banner; the prompt has no newline, so Docker's log never shows it)
        if fds["0"].get("tty"):
            m.write(fds, 1, _interactive_banner().encode())
        sid = m.new_shell(env, cwd, "sh", args, script, opts)
        m.push_frame(job, "shell", m.add_source(""), 0, sid, fds, role=role)
        job["block"] = {"until": math.inf}
        return "pushed"
    else:
        text = m.read_all(fds).decode("utf-8", "surrogateescape")
        arg0, params = "sh", args
    sid = m.new_shell(env, cwd, arg0, params, script, opts)
    src = m.add_source(text)
    m.push_frame(job, "shell", src, 0, sid, fds, role=role)
    return "pushed"


def _interactive_banner() -> str:
    """What ash writes when it starts interactive (shell/ash.c, `if (iflag)` in main)."""
    from ..applets.registry import BUSYBOX_VERSION

    return (
        f"\n\nBusyBox v{BUSYBOX_VERSION} built-in shell (ash)\n"
        "Enter 'help' for a list of built-in commands.\n\n"
    )


def start_argv(
    m: MachineCore,
    job: Job,
    argv: list[str],
    path: str,
    env: dict[str, str],
    cwd: str,
    fds: Fds,
) -> None:
    """Start a program as a job's bottom frame (a container's PID 1, an exec)."""
    kind = identify(m.rootfs, path, argv[0], APPLET_NAMES)
    shell_argv = None
    if kind[0] == "applet" and kind[1] in SHELLS:
        shell_argv = argv
    elif kind[0] == "script" and m.rootfs.exists(kind[1]):
        interp = kind[1]
        ikind = identify(m.rootfs, interp, interp, APPLET_NAMES)
        if ikind[0] == "applet" and ikind[1] in SHELLS:
            script = argv[0] if "/" in argv[0] else path
            shell_argv = [interp] + ([kind[2]] if kind[2] else []) + [script] + argv[1:]
    if shell_argv is not None:
        before = len(job["frames"])
        rc = start_shell(m, job, fds, shell_argv, env, cwd, None)
        if len(job["frames"]) == before:
            # the shell failed before running anything (no such script, bad option)
            m.push_frame(
                job,
                "prog",
                -1,
                0,
                None,
                fds,
                argv=["true"],
                path="",
                env=env,
                cwd=cwd,
                pc=1,
                status=int(rc),
            )
        return
    m.push_frame(job, "prog", -1, 0, None, fds, argv=argv, path=path, env=env, cwd=cwd)


__all__ = [
    "SELF_EXE",
    "applet_context",
    "find_command",
    "run_program",
    "start_argv",
    "start_shell",
]
