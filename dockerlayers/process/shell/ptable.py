"""The process table `ps` reads: what /proc would list for the model's processes.

A process's jobs are its processes: the main job is the process itself (PID 1, or an
exec's pid), each background job a child. A program a shell runs is a child (a fork)
unless ash runs it in the shell's place: the last command of `sh -c` or of a background
job (ash's EV_EXIT), or the job's own program. `ps` itself runs in-process in that fork
(busybox's NOEXEC applets), so its line is `{ps}` followed by the shell's command line.
"""

from __future__ import annotations

import posixpath
from typing import TypedDict

from .core import MachineCore
from .expand import ExpandError
from .state import Frame, Job


class Row(TypedDict):
    pid: int
    ppid: int
    uid: int
    gid: int
    comm: str  # the name of the program (/proc/PID/comm)
    argv: list[str]  # its command line (/proc/PID/cmdline)


def exec_last(m: MachineCore, job: Job, frame: Frame) -> bool:
    """Whether the command `frame` has just started is one ash execs in the shell's place
    (the shell's last command of `sh -c` or of a background job, no EXIT trap)."""
    frames = job["frames"]
    if not frames or frame is not frames[0]:
        return False
    if frame["kind"] == "prog":
        return True
    if frame["kind"] != "shell" or frame["role"] not in (None, "bg"):
        return False
    shell = m.sh(frame)
    if frame["role"] is None and not shell["opts"].get("c"):
        return False
    if shell["traps"].get("0"):
        return False
    return all(ins[0] == "ERREXIT" for ins in m.code(frame)[frame["pc"] :])


def _row(m: MachineCore, pid: int, ppid: int, argv: list[str]) -> Row:
    user = m.state["user"]
    comm = posixpath.basename(argv[0]) if argv else ""
    return {
        "pid": pid,
        "ppid": ppid,
        "uid": user["uid"],
        "gid": user["gid"],
        "comm": comm,
        "argv": argv,
    }


def rows(m: MachineCore) -> list[Row]:
    """Every live process of this machine (its main job, background jobs, children that
    block in a program), as `ps` would find them."""
    st = m.state
    main = m.main_job()
    base = list(st.get("argv") or ["sh"])  # a state saved before argv was kept: a shell
    out: list[Row] = []
    for job in st["jobs"]:
        if job["status"] is not None:
            continue
        is_main = job is main
        frames = job["frames"]
        bottom = frames[0] if frames else None
        argv = list(bottom["argv"] or []) if bottom and bottom["kind"] == "prog" else base
        block = job["block"]
        child = None
        if block and "until" in block and "argv" in block:
            if block.get("child") is None:
                argv = list(block["argv"])  # type: ignore[typeddict-item]
            else:
                child = (block["child"], list(block["argv"]))  # type: ignore[typeddict-item]
        if not is_main and block is None:
            argv = _about_to_exec(m, job) or argv
        out.append(_row(m, job["pid"], 0 if is_main else st["pid"], argv))
        if child is not None:
            out.append(_row(m, child[0], job["pid"], child[1]))
    return out


def table(m: MachineCore, job: Job, frame: Frame, argv: list[str]) -> list[Row]:
    """What `ps` (`argv`, run by `frame` of `job`) lists: this machine's processes, itself
    among them, and the container's other processes (`m.peers`), by pid."""
    out = rows(m)
    mine = next(r for r in out if r["pid"] == job["pid"])
    name = posixpath.basename(argv[0]) if argv else "ps"
    if frame["kind"] == "prog" and frame is job["frames"][0]:
        pass  # the job is this program: its row says so already
    elif exec_last(m, job, frame):
        mine["comm"] = name
    else:
        forked = _row(m, fork_pid(m), job["pid"], mine["argv"])
        forked["comm"] = name
        out.append(forked)
    if m.peers is not None:
        out.extend(m.peers())
    return sorted(out, key=lambda r: r["pid"])


def _about_to_exec(m: MachineCore, job: Job) -> list[str] | None:
    """A background job that has not run yet and is one simple command (`sleep 9 &`):
    the program it execs (a real fork would have exec'd it by the time `ps` looks)."""
    frames = job["frames"]
    if len(frames) != 1 or frames[0]["pc"] != 0 or frames[0]["kind"] != "shell":
        return None
    frame = frames[0]
    code = m.code(frame)
    if not code or code[0][0] != "CMD" or code[0][2] or any(i[0] != "ERREXIT" for i in code[1:]):
        return None
    from .builtins import BUILTINS  # builtins -> programs -> this module

    node = code[0][1]
    shell = m.sh(frame)
    try:
        exp = m.expander(job, frame, iter(()))
        argv = [f for w in node.words for f in exp.fields(w)]
    except ExpandError:
        return None
    if not argv or argv[0] in shell["funcs"] or argv[0] in BUILTINS:
        return None
    return argv


def fork_pid(m: MachineCore) -> int:
    """A pid for a child the shell forks (the next one the process would give out)."""
    pid = m.state["next_pid"]
    m.state["next_pid"] = pid + 1
    return pid


__all__ = ["Row", "exec_last", "fork_pid", "rows", "table"]
