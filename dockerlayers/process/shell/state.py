"""The machine's persisted state, declared: what `Process.to_state` writes and `from_state` reads.

A process is plain JSON so that a later CLI call, or a new daemon, finds it still running
(no pickles, no classes): every record below is a `TypedDict`, and each is built by one
constructor here that sets every key, so a saved state always has the same keys.

    State   the process: its jobs, the shells they run in, the buffers, the sources
    Job     PID 1's program or a background `&` job: a stack of frames, a time, a block
    Frame   a unit of code running (a shell, a function, `eval`, a trap) or a program
    Shell   variables, traps, options, `$?`, cwd: shared by the frames that run in it
    Fd      where a file descriptor goes: nowhere, the container's output, a buffer, a file
    Buf     a buffer: what `$(...)` or a pipe stage wrote, or what a heredoc holds

Ids of shells and buffers are strings (JSON object keys); so are fd numbers.
"""

from __future__ import annotations

from typing import Literal, TypedDict, final

from dockerlayers.process.shell.version import STATE_VERSION


# -- file descriptors and buffers -------------------------------------------------------------
class NullFd(TypedDict):
    """/dev/null: reads give nothing, writes vanish."""

    t: Literal["null"]


class OutFd(TypedDict):
    """The container's stdout or stderr (the daemon's log)."""

    t: Literal["out"]
    stream: Literal["stdout", "stderr"]


class BufFd(TypedDict):
    """Writes append to `State.bufs[id]` (fd 1 of `$(...)` and of a pipe stage)."""

    t: Literal["buf"]
    id: str


class DataFd(TypedDict):
    """Reads consume `State.bufs[id]` (a heredoc, a `<` file, the previous pipe stage)."""

    t: Literal["data"]
    id: str


class OpenFd(TypedDict):
    """A stdin that stays open and that nobody writes to: `-i` or `-t` with nothing
    attached (an open pipe, a terminal). Reads block; they never see end of file."""

    t: Literal["open"]
    tty: bool  # a terminal (`-t`): an interactive shell greets on it


class FileFd(TypedDict):
    """Writes append to a file in the container (`>` truncated it when it was opened)."""

    t: Literal["file"]
    path: str


Fd = NullFd | OutFd | BufFd | DataFd | FileFd | OpenFd
#: fd number (as text) -> where it goes.
Fds = dict[str, Fd]


class _BufData(TypedDict):
    data: str
    pos: int  # how much of `data` has been read


class Buf(_BufData, total=False):
    pipe: bool  # a pipe stage's output: bounded (core.PIPE_BOUND)
    cut: bool  # its writer was stopped at the bound: `data` is a prefix of its output
    busy: int  # slices its writer ran without blocking (core.PIPE_STALL_SLICES)


class CutItem(TypedDict):
    """A pipe stage's output whose writer was stopped at the bound (see core.PIPE_BOUND)."""

    cut: str


# -- the value stack of a frame ---------------------------------------------------------------
class LoopItem(TypedDict):
    """A `while`/`until` loop's status so far (LOOP_PUSH .. LOOP_END)."""

    st: int


class ForItem(TypedDict):
    """A `for` loop: the words, the next index, the status so far (FOR_INIT .. FOR_NEXT)."""

    items: list[str]
    i: int
    st: int


#: Strings are expanded `$(...)` results, a pipe stage's output, a `case` word.
StackItem = str | LoopItem | ForItem | CutItem


# -- shells -----------------------------------------------------------------------------------
class Shell(TypedDict):
    vars: dict[str, str]
    exported: list[str]  # names of exported variables, in export order
    params: list[str]  # $1 ...
    arg0: str  # $0
    script: str | None  # the script file run, None for `sh -c` (message prefixes differ)
    traps: dict[str, str]  # signal number as text ("0" is EXIT) -> action ("" ignores it)
    opts: dict[str, bool]  # option letter (e u x, and c a f once given) -> on
    status: int  # $?
    cwd: str
    funcs: dict[str, list[int]]  # function name -> [source index, unit]
    bang: int | None  # $!: the last background job's pid
    refs: int  # frames running in this shell; it is deleted when none is left


def new_shell(
    env: dict[str, str],
    cwd: str,
    arg0: str,
    params: list[str],
    script: str | None,
    opts: dict[str, bool] | None = None,
) -> Shell:
    """A new shell with `env` exported and no frame in it yet."""
    return {
        "vars": dict(env),
        "exported": sorted(env),
        "params": list(params),
        "arg0": arg0,
        "script": script,
        "traps": {},
        "opts": {"e": False, "u": False, "x": False, **(opts or {})},
        "status": 0,
        "cwd": cwd,
        "funcs": {},
        "bang": None,
        "refs": 0,
    }


# -- frames -----------------------------------------------------------------------------------
FrameKind = Literal["shell", "func", "eval", "trap", "prog"]
#: Why a "shell" frame runs: a `( )` subshell or `sh` run by the shell, `$(...)`, a pipe
#: stage, a background job; None for a process's (or an exec's) own shell, and other kinds.
Role = Literal["sub", "cmdsub", "pipe", "bg"]


class Frame(TypedDict):
    kind: FrameKind
    src: int  # index into State.sources; -1 for "prog"
    unit: int  # unit of the compiled source
    pc: int
    shell: str | None  # id in State.shells; None for "prog"
    stack: list[StackItem]
    fds: Fds
    saved: list[Fds]  # fd tables saved by REDIR, put back by UNREDIR
    own: list[str]  # buffers this frame frees when it ends (heredocs, `<` files, pipe input)
    own_saved: list[list[str]]  # `own` as it was at each REDIR
    role: Role | None
    cap: str | None  # the buffer fd 1 writes to ($(...), a pipe stage), freed at the end
    subst: int | None  # status of the last `$(...)`, for a command that has no words
    status: int  # "prog": the program's exit status (shells keep theirs in Shell.status)
    exit_status: int | None  # "shell": what it exits with once its EXIT trap has run
    saved_params: list[str] | None  # "func": the caller's positional parameters
    saved_status: int | None  # "trap": $? before the trap ran, restored after it
    argv: list[str] | None  # "prog": the program to run, with its environment and cwd
    path: str | None
    env: dict[str, str] | None
    cwd: str | None


def copy_fds(fds: Fds) -> Fds:
    """A copy of an fd table (each descriptor copied too: tables are changed in place)."""
    return {k: dict(v) for k, v in fds.items()}  # type: ignore[misc]


def new_frame(
    kind: FrameKind,
    src: int,
    unit: int,
    shell: str | None,
    fds: Fds,
    *,
    role: Role | None = None,
    cap: str | None = None,
    own: list[str] | None = None,
    saved_params: list[str] | None = None,
    saved_status: int | None = None,
    argv: list[str] | None = None,
    path: str | None = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    pc: int = 0,
    status: int = 0,
) -> Frame:
    """The one constructor of frames: every key set, `fds` copied."""
    return {
        "kind": kind,
        "src": src,
        "unit": unit,
        "pc": pc,
        "shell": shell,
        "stack": [],
        "fds": copy_fds(fds),
        "saved": [],
        "own": [] if own is None else own,
        "own_saved": [],
        "role": role,
        "cap": cap,
        "subst": None,
        "status": status,
        "exit_status": None,
        "saved_params": saved_params,
        "saved_status": saved_status,
        "argv": argv,
        "path": path,
        "env": env,
        "cwd": cwd,
    }


#: A frame with every key at its default: what a key missing from a frame saved by older
#: code meant (it set some keys only when they were needed).
_FRAME_DEFAULTS = new_frame("shell", 0, 0, None, {})


# -- jobs -------------------------------------------------------------------------------------
class _SleepUntil(TypedDict):
    until: float  # `sleep` returns at this time (inf: `sleep infinity`)


@final  # so that `"until" in block` tells the two blocks apart
class SleepBlock(_SleepUntil, total=False):
    argv: list[str]  # the program blocked (what `ps` shows for it)
    child: int | None  # its pid when it runs as a child of the shell (a fork), else None


@final
class WaitBlock(TypedDict):
    wait: list[int]  # `wait` returns when these jobs (pids) have ended
    one: int | None  # `wait PID`: $? is that job's status; None for a plain `wait` (0)


class Job(TypedDict):
    pid: int
    frames: list[Frame]  # bottom first; the job ends when the last one does
    t: float  # the job's own time: where its clock stands
    block: SleepBlock | WaitBlock | None
    status: int | None  # exit status once ended
    end_t: float | None  # when it ended
    owner: str | None  # the shell that started a background job (`wait` with no pid)


def new_job(pid: int, t: float, owner: str | None) -> Job:
    return {
        "pid": pid,
        "frames": [],
        "t": t,
        "block": None,
        "status": None,
        "end_t": None,
        "owner": owner,
    }


# -- the process ------------------------------------------------------------------------------
class Cred(TypedDict):
    """Who the process runs as (process/users.py); absent in older states: root."""

    uid: int
    gid: int
    groups: list[int]


ROOT_CRED: Cred = {"uid": 0, "gid": 0, "groups": [0]}


class _StateBase(TypedDict):
    version: int
    pid: int
    hostname: str
    exited: bool
    exit_code: int | None
    busy: bool  # the last run stopped after MAX_STEPS instructions, not blocked
    wake_at: float | None  # when the process must run again (see Process.wake_at)
    sources: list[str]  # shell texts run so far; code is compiled again from them
    shells: dict[str, Shell]
    jobs: list[Job]  # jobs[0] is the process's own program, then background jobs
    bufs: dict[str, Buf]
    next_id: int  # the next shell or buffer id
    next_pid: int  # the pid the next background job gets
    pending: list[int]  # signals caught, their traps not run yet
    t: float  # the latest time the process was run at
    user: Cred  # uid, gid and groups the process runs as


class State(_StateBase, total=False):
    argv: list[str]  # the command line it was started with (what `ps` shows)


def new_state(pid: int, hostname: str, now: float, user: Cred | None = None) -> State:
    return {
        "version": STATE_VERSION,
        "pid": pid,
        "hostname": hostname,
        "exited": False,
        "exit_code": None,
        "busy": False,
        "wake_at": None,
        "sources": [],
        "shells": {},
        "jobs": [],
        "bufs": {},
        "next_id": 1,
        "next_pid": pid + 1 if pid > 1 else 2,
        "pending": [],
        "t": now,
        "user": dict(user or ROOT_CRED),  # type: ignore[typeddict-item]
    }


def stdio(stdin: Fd | None = None) -> Fds:
    """A program's first fd table: stdin (nothing unless given), the container's output."""
    return {
        "0": stdin or {"t": "null"},
        "1": {"t": "out", "stream": "stdout"},
        "2": {"t": "out", "stream": "stderr"},
    }


def load_state(state: State) -> State:
    """`state` (read back from JSON) made whole, in place: frames saved before every frame
    had every key get the keys they lacked, with the value their absence meant."""
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"unknown process state version: {state.get('version')!r}")
    if "user" not in state:  # saved before users were modelled: root
        state["user"] = dict(ROOT_CRED)  # type: ignore[typeddict-item]
    for job in state["jobs"]:
        for frame in job["frames"]:
            if len(frame) < len(_FRAME_DEFAULTS):
                for key, value in _FRAME_DEFAULTS.items():
                    if key not in frame:
                        frame[key] = list(value) if isinstance(value, list) else value  # type: ignore[literal-required]
    return state


__all__ = [
    "STATE_VERSION",
    "Buf",
    "BufFd",
    "CutItem",
    "DataFd",
    "Fd",
    "Fds",
    "FileFd",
    "ForItem",
    "Frame",
    "FrameKind",
    "Job",
    "LoopItem",
    "NullFd",
    "OutFd",
    "Role",
    "Shell",
    "SleepBlock",
    "StackItem",
    "State",
    "WaitBlock",
    "copy_fds",
    "load_state",
    "new_frame",
    "new_job",
    "new_shell",
    "new_state",
    "stdio",
]
