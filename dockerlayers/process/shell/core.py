"""What instructions and builtins act on: the machine's state and its primitives.

`MachineCore` holds a process's `State` (see state.py) with the two things that are not part
of it, the container's filesystem and the output writer, and gives the operations that
instructions (ops.py), builtins (builtins.py) and programs (programs.py) share: ids,
shells and frames, fds and buffers, ash's message prefixes, signals and `kill`, exiting a
shell, word expansion and redirections. The run loop that drives them is `vm.Machine`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from dockerlayers.graphdriver.rootfs import WouldBlock

from .. import signals
from ..credentials import AsUser
from ..resolve import abspath
from .compiler import compile_source
from .expand import Expander, ExpandError
from .state import Fds, Frame, FrameKind, Job, Shell, State, copy_fds, new_frame, new_job, new_shell

Output = Callable[[str, bytes], None]


class ShellExit(Exception):
    """Unwinds the Python stack when a shell exits (`exit`, `set -e`, a fatal error, `exec`)."""


#: How much a pipeline stage may write before its reader runs. Stages run one after another
#: (ops.op_PIPE), so a pipe here is a buffer: a writer that fills it is stopped as the
#: kernel stops a writer whose reader has gone (SIGPIPE, status 141) and the next stage
#: runs on what is there. A reader that ends without reaching the end (`yes | head -n 2`)
#: is what a real pipe gives; one that wants more than was kept meets PipeOverrun.
PIPE_BOUND = 16 << 20
#: A writer that keeps running with more than a Linux pipe's worth (64 KiB) waiting is
#: where a real one would wait for its reader: after this many busy slices (vm.MAX_STEPS
#: instructions each) it is stopped there the same way (a shell loop writes slowly).
PIPE_CAPACITY = 64 << 10
PIPE_STALL_SLICES = 10


class BrokenPipe(Exception):
    """A write into a pipe that is full (see PIPE_BOUND): the writer gets SIGPIPE."""

    def __init__(self, buf: str) -> None:
        super().__init__(buf)
        self.buf = buf


class PipeOverrun(Exception):
    """A read past what a stopped writer left in a pipe: the model cannot give the rest."""

    def __init__(self, buf: str) -> None:
        super().__init__(buf)
        self.buf = buf


def overrun_message(name: str) -> str:
    """What a reader says when it met PipeOverrun (a limit of the model, said plainly)."""
    return (
        f"{name}: read error: more than {PIPE_BOUND} bytes came through a pipe; dockerlayers"
        " runs pipeline stages one after another and stopped the writer there\n"
    )


class MachineCore:
    """A process's state and the primitives on it; `rootfs` and `output` are not persisted."""

    #: The container's other processes for `ps` (an exec sees PID 1): rows as
    #: ptable.rows gives them; not part of the state.
    peers: Callable[[], list[Any]] | None = None

    def __init__(self, state: State, rootfs: Any, output: Output) -> None:
        self.state = state
        user = state.get("user")
        if user and (user["uid"], user["gid"]) != (0, 0):
            # the kernel's permission checks and the process's ownership of new files
            rootfs = AsUser(rootfs, user["uid"], user["gid"], user["groups"])
        self.rootfs = rootfs
        self.output = output

    # -- ids, sources, shells ------------------------------------------------------------
    def new_id(self) -> str:
        n = self.state["next_id"]
        self.state["next_id"] = n + 1
        return str(n)

    def add_source(self, text: str) -> int:
        sources = self.state["sources"]
        try:
            return sources.index(text)
        except ValueError:
            sources.append(text)
            return len(sources) - 1

    def new_shell(
        self,
        env: dict[str, str],
        cwd: str,
        arg0: str,
        params: list[str],
        script: str | None,
        opts: dict[str, bool] | None = None,
    ) -> str:
        sid = self.new_id()
        self.state["shells"][sid] = new_shell(env, cwd, arg0, params, script, opts)
        return sid

    def subshell(self, sid: str) -> str:
        """A copy of shell `sid` for `( )`, a pipe stage, `$(...)`, `&`: traps are reset
        except ignored ones (the EXIT trap is not inherited)."""
        parent = self.state["shells"][sid]
        new = copy.deepcopy(parent)
        new["traps"] = {k: v for k, v in parent["traps"].items() if v == "" and k != "0"}
        new["refs"] = 0
        nid = self.new_id()
        self.state["shells"][nid] = new
        return nid

    def sh(self, frame: Frame) -> Shell:
        return self.state["shells"][frame["shell"]]  # type: ignore[index]

    # -- frames and jobs -----------------------------------------------------------------
    def push_frame(
        self,
        job: Job,
        kind: FrameKind,
        src: int,
        unit: int,
        sid: str | None,
        fds: Fds,
        **extra: Any,
    ) -> Frame:
        """Start a frame on top of `job` (see state.new_frame for `extra`)."""
        if sid is not None:
            self.state["shells"][sid]["refs"] += 1
        frame = new_frame(kind, src, unit, sid, fds, **extra)
        job["frames"].append(frame)
        return frame

    def new_job(self, pid: int, t: float, owner: str | None) -> Job:
        job = new_job(pid, t, owner)
        self.state["jobs"].append(job)
        return job

    def main_job(self) -> Job | None:
        jobs = self.state["jobs"]
        return jobs[0] if jobs else None

    def base_shell_id(self) -> str | None:
        job = self.main_job()
        if not job or not job["frames"]:
            return None
        return job["frames"][0]["shell"]

    def code(self, frame: Frame) -> list:
        return compile_source(self.state["sources"][frame["src"]])[frame["unit"]]

    def drop_frame(self, frame: Frame) -> None:
        """Free what an ended frame held: its buffers, its share of its shell."""
        bufs = self.state["bufs"]
        for bid in frame["own"]:
            bufs.pop(bid, None)
        if frame["cap"]:
            bufs.pop(frame["cap"], None)
        sid = frame["shell"]
        if sid is not None:
            shell = self.state["shells"].get(sid)
            if shell is not None:
                shell["refs"] -= 1
                if shell["refs"] <= 0:
                    del self.state["shells"][sid]

    def set_status(self, frame: Frame, status: int) -> None:
        if frame["shell"] is not None:
            self.sh(frame)["status"] = status
        else:
            frame["status"] = status

    # -- I/O -----------------------------------------------------------------------------
    def new_buf(self, data: str = "", pipe: bool = False, cut: bool = False) -> str:
        bid = self.new_id()
        self.state["bufs"][bid] = {"data": data, "pos": 0}
        if pipe:
            self.state["bufs"][bid]["pipe"] = True
        if cut:
            self.state["bufs"][bid]["cut"] = True
        return bid

    def pipe_out(self, fds: Fds) -> bool:
        """Whether fd 1 is a pipe to a later stage (bounded: an endless writer ends)."""
        desc = fds.get("1")
        if not desc or desc["t"] != "buf":
            return False
        buf = self.state["bufs"].get(desc["id"])  # type: ignore[typeddict-item]
        return bool(buf and buf.get("pipe"))

    def write(self, fds: Fds, fd: int, data: bytes) -> None:
        desc = fds.get(str(fd))
        if not data or desc is None:
            return
        t = desc["t"]
        if t == "out":
            self.output(desc["stream"], data)  # type: ignore[typeddict-item]
        elif t == "buf":
            bid = desc["id"]  # type: ignore[typeddict-item]
            buf = self.state["bufs"].get(bid)
            if buf is None:
                return
            text = data.decode("utf-8", "surrogateescape")
            if buf.get("pipe"):
                room = PIPE_BOUND - len(buf["data"])
                if buf.get("cut") or len(text) > room:
                    if not buf.get("cut"):
                        buf["data"] += text[: max(room, 0)]
                        buf["cut"] = True
                    raise BrokenPipe(bid)
            buf["data"] += text
        elif t == "file":
            try:
                with self.rootfs.open(desc["path"], "ab") as f:  # type: ignore[typeddict-item]
                    f.write(data)
            except OSError:
                pass

    def read_all(self, fds: Fds) -> bytes:
        """All of fd 0. WouldBlock: an open stdin (nothing comes, no end of file);
        PipeOverrun: it comes from a writer stopped at the bound."""
        return self.read_upto(fds, None)

    def read_upto(self, fds: Fds, n: int | None) -> bytes:
        """At most `n` characters of fd 0 (all with None), as bytes; reading past the end
        of a cut pipe raises PipeOverrun (the writer would have given more)."""
        desc = fds.get("0")
        if desc and desc["t"] == "open":
            raise WouldBlock("/dev/stdin")
        if desc and desc["t"] == "data":
            bid = desc["id"]
            buf = self.state["bufs"].get(bid)
            if buf is None:
                return b""
            pos, size = buf["pos"], len(buf["data"])
            if buf.get("cut") and (n is None or pos + n > size):
                raise PipeOverrun(bid)
            end = size if n is None else min(size, pos + n)
            buf["pos"] = end
            return buf["data"][pos:end].encode("utf-8", "surrogateescape")
        return b""

    def read_line(self, fds: Fds) -> str | None:
        """A line of fd 0 (None at its end); WouldBlock and PipeOverrun as read_upto."""
        desc = fds.get("0")
        if desc and desc["t"] == "open":
            raise WouldBlock("/dev/stdin")
        if not desc or desc["t"] != "data":
            return None
        buf = self.state["bufs"].get(desc["id"])
        if buf is None:
            return None
        data, pos = buf["data"], buf["pos"]
        end = data.find("\n", pos)
        if end < 0 and buf.get("cut"):
            raise PipeOverrun(desc["id"])
        if pos >= len(data):
            return None
        if end < 0:
            buf["pos"] = len(data)
            return data[pos:]
        buf["pos"] = end + 1
        return data[pos : end + 1]

    def stall_pipe(self, job: Job) -> None:
        """After a busy slice of `job`: count it against the pipe its innermost pipeline
        stage writes to, and stop that writer if it is full and has run long enough."""
        for frame in reversed(job["frames"]):
            bid = frame["cap"]
            buf = self.state["bufs"].get(bid) if bid else None
            if buf is None or not buf.get("pipe"):
                continue
            buf["busy"] = buf.get("busy", 0) + 1
            if buf["busy"] >= PIPE_STALL_SLICES and len(buf["data"]) >= PIPE_CAPACITY:
                buf["cut"] = True
                self.break_pipe(job, BrokenPipe(bid))  # type: ignore[arg-type]
            return

    def break_pipe(self, job: Job, err: BrokenPipe | PipeOverrun) -> None:
        """End the pipe stage that wrote into a full pipe (SIGPIPE: 141), or that read past
        a cut one (1, with the model's message), with every frame above it."""
        frames = job["frames"]
        bid = err.buf
        i = len(frames) - 1
        if isinstance(err, BrokenPipe):
            while i > 0 and frames[i]["cap"] != bid:
                i -= 1
            status = 141
        else:
            while i > 0 and bid not in frames[i]["own"]:
                i -= 1
            status = 1
            self.write(frames[-1]["fds"], 2, overrun_message("sh").encode())
        stage = frames[i]
        for f in reversed(frames[i + 1 :]):
            self.drop_frame(f)
        del frames[i + 1 :]
        if stage["kind"] == "prog":
            stage["pc"] = 1
            stage["status"] = status
            return
        shell = self.sh(stage)  # a stage is a "shell" frame (or a program exec'd in one)
        shell["traps"].pop("0", None)  # killed by a signal: no EXIT trap
        shell["status"] = status
        stage["exit_status"] = status
        stage["pc"] = len(self.code(stage))

    def err(self, frame: Frame, text: str) -> None:
        self.write(frame["fds"], 2, (text + "\n").encode("utf-8", "surrogateescape"))

    def prefix(self, frame: Frame, line: int | None = None, builtin: str | None = None) -> str:
        """ash's message prefix: `sh: `, `sh: cd: line 0: `, `s.sh: line 2: `."""
        shell = self.sh(frame) if frame["shell"] else None
        if shell is None:
            return "sh: "
        name = shell["script"] or shell["arg0"]
        if line is None:
            return f"{name}: " + (f"{builtin}: " if builtin else "")
        n = line if shell["script"] else line - 1
        if builtin:
            return f"{name}: {builtin}: line {n}: "
        return f"{name}: line {n}: " if shell["script"] else f"{name}: "

    # -- signals -------------------------------------------------------------------------
    def signal(self, sig: int, now: float) -> None:
        """Deliver `sig` to the process's main program (see Process.signal)."""
        st = self.state
        if st["exited"]:
            return
        if sig == signals.SIGKILL:
            self.finish(128 + sig)
            return
        job = self.main_job()
        base = self.base_shell_id()
        action = self.state["shells"][base]["traps"].get(str(sig)) if base else None
        if action == "":
            return
        if action is None:
            if st["pid"] == 1 or sig in signals.DEFAULT_IGNORED:
                return  # the kernel applies no default action to a namespace's init
            self.finish(128 + sig)
            return
        st["pending"].append(sig)
        if job is not None and job["block"] is not None:
            top = job["frames"][-1]
            if top["shell"] == base:
                job["block"] = None
                job["t"] = max(job["t"], now)
                self.sh(top)["status"] = 128 + sig

    def kill(self, job: Job, pid: int, sig: int) -> bool:
        """`kill` from inside the container: PID 1 (this process) or a background job."""
        st = self.state
        if pid in (st["pid"], 0, -1):
            if sig == 0:
                return True
            if st["pid"] == 1 and sig in (signals.SIGKILL, signals.SIGSTOP):
                return True  # the kernel never delivers these to init from its own namespace
            self.signal(sig, job["t"])
            if st["exited"]:
                raise ShellExit
            return True
        for j in st["jobs"][1:]:
            if j["pid"] == pid and j["status"] is None:
                if sig != 0 and sig not in signals.DEFAULT_IGNORED:
                    for f in reversed(j["frames"]):
                        self.drop_frame(f)
                    j["frames"] = []
                    j["status"] = 128 + sig
                    j["end_t"] = job["t"]
                    j["block"] = None
                return True
        return False

    def finish(self, code: int) -> None:
        st = self.state
        st["exited"] = True
        st["exit_code"] = code
        st["jobs"] = []
        st["shells"] = {}
        st["bufs"] = {}
        st["pending"] = []
        st["wake_at"] = None
        st["busy"] = False

    # -- exiting a shell -----------------------------------------------------------------
    def exit_shell(self, job: Job, frame: Frame, status: int) -> None:
        """`exit N`: unwind to the shell's base frame and end it (running an EXIT trap)."""
        sid = frame["shell"]
        shell = self.state["shells"][sid]  # type: ignore[index]
        shell["status"] = status
        frames = job["frames"]
        while frames[-1]["shell"] == sid and frames[-1]["kind"] != "shell":
            f = frames.pop()
            if f["kind"] == "func":
                shell["params"] = f["saved_params"]  # type: ignore[typeddict-item]
            self.drop_frame(f)
        base = frames[-1]
        if base["exit_status"] is not None:  # its EXIT trap runs: `exit` there sets the status
            base["exit_status"] = status
        base["pc"] = len(self.code(base))
        raise ShellExit

    def fatal(self, job: Job, frame: Frame, msg: str, status: int = 2) -> None:
        self.err(frame, msg)
        self.exit_shell(job, frame, status)

    # -- expansion -----------------------------------------------------------------------
    def expander(self, job: Job, frame: Frame, subs: Iterator[str]) -> Expander:
        shell = self.sh(frame)

        def special(name: str) -> str | None:
            if name == "?":
                return str(shell["status"])
            if name == "$":
                return str(self.state["pid"])
            if name == "#":
                return str(len(shell["params"]))
            if name == "!":
                return None if shell["bang"] is None else str(shell["bang"])
            if name == "-":  # ash lists options in reverse optletters order
                return "".join(k for k in "uxce" if shell["opts"].get(k))
            if name == "0":
                return shell["arg0"]
            if name.isdigit():
                i = int(name)
                return shell["params"][i - 1] if 0 < i <= len(shell["params"]) else None
            return None

        return Expander(
            lookup=lambda n: shell["vars"].get(n),
            assign=lambda n, v: self.setvar(shell, n, v),
            params=shell["params"],
            special=special,
            subs=subs,
            fs=self.rootfs,
            cwd=shell["cwd"],
            nounset=shell["opts"].get("u", False),
        )

    def setvar(self, shell: Shell, name: str, value: str, export: bool = False) -> None:
        shell["vars"][name] = value
        if export and name not in shell["exported"]:
            shell["exported"].append(name)

    def environ(self, shell: Shell, extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
        env = {k: shell["vars"][k] for k in shell["exported"] if k in shell["vars"]}
        env.update(extra)
        return env

    def pop_subs(self, frame: Frame, n: int) -> list[str]:
        """The `n` expanded `$(...)` results on top of the frame's stack, in order."""
        if not n:
            return []
        subs = frame["stack"][-n:]
        del frame["stack"][-n:]
        return subs  # type: ignore[return-value]

    # -- redirections --------------------------------------------------------------------
    def redirect(self, job: Job, frame: Frame, redirs: list, exp: Expander) -> bool:
        """Apply redirections to frame["fds"]; False (message printed) on failure."""
        fds = frame["fds"]
        cwd = self.sh(frame)["cwd"]
        for r in redirs:
            fd = str(r.fd)
            try:
                target = exp.string(r.target)
            except ExpandError as err:
                self.fatal(job, frame, self.prefix(frame) + str(err))
            if r.op == "<<":
                bid = self.new_buf(target)
                frame["own"].append(bid)
                fds[fd] = {"t": "data", "id": bid}
                continue
            if r.op in (">&", "<&"):
                if target == "-":
                    fds.pop(fd, None)
                elif target.isdigit():
                    if target in fds:
                        fds[fd] = dict(fds[target])  # type: ignore[assignment]
                    else:
                        self.err(frame, self.prefix(frame) + f"{target}: Bad file descriptor")
                        return False
                else:
                    self.err(frame, self.prefix(frame) + f"{target}: bad number")
                    return False
                continue
            path = abspath(cwd, target)
            if path in ("/dev/null", "/dev/zero"):
                fds[fd] = {"t": "null"}
                continue
            if path in ("/dev/stdout", "/dev/stderr", "/proc/self/fd/1", "/proc/self/fd/2"):
                src = "1" if path.endswith(("stdout", "/1")) else "2"
                if src in fds:
                    fds[fd] = dict(fds[src])  # type: ignore[assignment]
                continue
            if r.op == "<":
                try:
                    data = self.rootfs.read_bytes(path)
                except FileNotFoundError:
                    self.err(frame, self.prefix(frame) + f"can't open {target}: no such file")
                    return False
                except OSError as err:
                    self.err(frame, self.prefix(frame) + f"can't open {target}: {err.strerror}")
                    return False
                bid = self.new_buf(data.decode("utf-8", "surrogateescape"))
                frame["own"].append(bid)
                fds[fd] = {"t": "data", "id": bid}
                continue
            try:
                mode = "ab" if r.op in (">>", "<>") else "wb"
                with self.rootfs.open(path, mode):
                    pass
            except (FileNotFoundError, NotADirectoryError):
                self.err(
                    frame, self.prefix(frame) + f"can't create {target}: nonexistent directory"
                )
                return False
            except OSError as err:
                self.err(frame, self.prefix(frame) + f"can't create {target}: {err.strerror}")
                return False
            fds[fd] = {"t": "file", "path": path}
        return True


__all__ = [
    "PIPE_BOUND",
    "PIPE_CAPACITY",
    "PIPE_STALL_SLICES",
    "BrokenPipe",
    "MachineCore",
    "Output",
    "PipeOverrun",
    "ShellExit",
    "copy_fds",
    "overrun_message",
]
