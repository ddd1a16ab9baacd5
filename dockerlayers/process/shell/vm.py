"""The machine that runs compiled shell code and programs, resumably.

Everything it works on is plain JSON data (`Machine.state`): jobs (PID 1's and the
background `&` ones), each a stack of frames; a frame is a program counter into a compiled
unit plus a value stack and an fd table; shells (variables, traps, options) are shared by
the frames that run in them. Code is rebuilt from the source texts kept in the state.

A job runs until it blocks (only `sleep` and `wait` block) or ends. Jobs are scheduled as
discrete events in time order, each with its own time (a sleeper wakes at the instant it
asked for, even if `run` is called later), so output and `date` do not depend on how
often the daemon looks. A run stops after MAX_STEPS instructions: the process is then
"busy" (a loop without sleep) and continues at the next `run`. Such a slice counts as
BUSY_SLICE seconds of CPU time, so a busy process asks to be run again that much later
(`wake_at`): a clock, real or virtual, moves on while it spins, and `docker stop` of a
spinning PID 1 ends after its timeout instead of never.
"""

from __future__ import annotations

import copy
import fnmatch
import posixpath
from collections.abc import Callable, Iterator
from typing import Any

from .. import signals
from ..applets import APPLET_NAMES, APPLETS, SHELLS
from ..applets.context import AppletContext, Block, Exec
from ..resolve import DEFAULT_PATH, abspath, identify, shell_find
from .compiler import compile_source
from .expand import Expander, ExpandError

MAX_STEPS = 10_000
BUSY_SLICE = 1.0  # seconds a slice of MAX_STEPS instructions stands for
_MAX_FINISHED_JOBS = 32

Output = Callable[[str, bytes], None]
State = dict[str, Any]


class _ShellExit(Exception):
    """Unwinds the Python stack when a builtin makes the shell exit."""


def new_state(pid: int, hostname: str, now: float) -> State:
    return {
        "version": 1,
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
    }


def _stdio(stdin: dict | None = None) -> dict:
    return {
        "0": stdin or {"t": "null"},
        "1": {"t": "out", "stream": "stdout"},
        "2": {"t": "out", "stream": "stderr"},
    }


class Machine:
    """Runs a process's jobs over its state; `rootfs` and `output` are not part of it."""

    def __init__(self, state: State, rootfs: Any, output: Output) -> None:
        self.state = state
        self.rootfs = rootfs
        self.output = output

    # -- ids, sources, shells ------------------------------------------------------------
    def _new_id(self) -> str:
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
        opts: dict | None = None,
    ) -> str:
        sid = self._new_id()
        self.state["shells"][sid] = {
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
        return sid

    def _subshell(self, sid: str) -> str:
        parent = self.state["shells"][sid]
        new = copy.deepcopy(parent)
        new["traps"] = {k: v for k, v in parent["traps"].items() if v == "" and k != "0"}
        new["refs"] = 0
        nid = self._new_id()
        self.state["shells"][nid] = new
        return nid

    def sh(self, frame: dict) -> dict:
        return self.state["shells"][frame["shell"]]

    # -- frames and jobs -----------------------------------------------------------------
    def _frame(
        self, kind: str, src: int, unit: int, sid: str | None, fds: dict, **extra: Any
    ) -> dict:
        if sid is not None:
            self.state["shells"][sid]["refs"] += 1
        frame = {
            "kind": kind,
            "src": src,
            "unit": unit,
            "pc": 0,
            "shell": sid,
            "stack": [],
            "fds": copy.deepcopy(fds),
            "saved": [],
        }
        frame.update(extra)
        return frame

    def new_job(self, pid: int, t: float, owner: str | None) -> dict:
        job = {
            "pid": pid,
            "frames": [],
            "t": t,
            "block": None,
            "status": None,
            "end_t": None,
            "owner": owner,
        }
        self.state["jobs"].append(job)
        return job

    def main_job(self) -> dict | None:
        jobs = self.state["jobs"]
        return jobs[0] if jobs else None

    def base_shell_id(self) -> str | None:
        job = self.main_job()
        if not job or not job["frames"]:
            return None
        return job["frames"][0]["shell"]

    def _code(self, frame: dict) -> list:
        return compile_source(self.state["sources"][frame["src"]])[frame["unit"]]

    def _drop_frame(self, frame: dict) -> None:
        for bid in frame.get("own", ()):
            self.state["bufs"].pop(bid, None)
        if frame.get("cap"):
            self.state["bufs"].pop(frame["cap"], None)
        sid = frame["shell"]
        if sid is not None:
            shell = self.state["shells"].get(sid)
            if shell is not None:
                shell["refs"] -= 1
                if shell["refs"] <= 0:
                    del self.state["shells"][sid]

    # -- I/O -----------------------------------------------------------------------------
    def _buf(self, data: str = "") -> str:
        bid = self._new_id()
        self.state["bufs"][bid] = {"data": data, "pos": 0}
        return bid

    def write(self, fds: dict, fd: int, data: bytes) -> None:
        desc = fds.get(str(fd))
        if not data or desc is None:
            return
        t = desc["t"]
        if t == "out":
            self.output(desc["stream"], data)
        elif t == "buf":
            buf = self.state["bufs"].get(desc["id"])
            if buf is not None:
                buf["data"] += data.decode("utf-8", "surrogateescape")
        elif t == "file":
            try:
                with self.rootfs.open(desc["path"], "ab") as f:
                    f.write(data)
            except OSError:
                pass

    def read_all(self, fds: dict) -> bytes:
        desc = fds.get("0")
        if desc and desc["t"] == "data":
            buf = self.state["bufs"].get(desc["id"])
            if buf is None:
                return b""
            rest = buf["data"][buf["pos"] :]
            buf["pos"] = len(buf["data"])
            return rest.encode("utf-8", "surrogateescape")
        return b""

    def read_line(self, fds: dict) -> str | None:
        desc = fds.get("0")
        if not desc or desc["t"] != "data":
            return None
        buf = self.state["bufs"].get(desc["id"])
        if buf is None or buf["pos"] >= len(buf["data"]):
            return None
        data, pos = buf["data"], buf["pos"]
        end = data.find("\n", pos)
        if end < 0:
            buf["pos"] = len(data)
            return data[pos:]
        buf["pos"] = end + 1
        return data[pos : end + 1]

    def err(self, frame: dict, text: str) -> None:
        self.write(frame["fds"], 2, (text + "\n").encode("utf-8", "surrogateescape"))

    def prefix(self, frame: dict, line: int | None = None, builtin: str | None = None) -> str:
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

    # -- the scheduler -------------------------------------------------------------------
    def _ready_time(self, job: dict, now: float) -> float | None:
        block = job["block"]
        if block is None:
            return job["t"]
        if "until" in block:
            return block["until"] if block["until"] <= now else None
        pids = block["wait"]
        jobs = {j["pid"]: j for j in self.state["jobs"]}
        waited = [jobs[p] for p in pids if p in jobs]
        if any(j["status"] is None for j in waited):
            return None
        return max([job["t"]] + [j["end_t"] for j in waited])

    def run(self, now: float) -> None:
        st = self.state
        if st["busy"]:  # a busy job kept running while nobody looked: it is at `now` now
            for job in st["jobs"]:
                if job["status"] is None and job["block"] is None:
                    job["t"] = max(job["t"], now)
        st["busy"] = False
        budget = MAX_STEPS
        while not st["exited"]:
            best = None
            for job in st["jobs"]:
                if job["status"] is not None:
                    continue
                ready = self._ready_time(job, now)
                if ready is not None and (best is None or ready < best[0]):
                    best = (ready, job)
            if best is None:
                break
            ready, job = best
            job["t"] = max(job["t"], ready)
            self._wake(job)
            budget -= self._run_job(job, budget)
            if budget <= 0 and not st["exited"]:
                st["busy"] = True
                break
        st["t"] = max(st["t"], now)
        self._prune_jobs()
        sleepers = [
            j["block"]["until"]
            for j in st["jobs"]
            if j["status"] is None and j["block"] and "until" in j["block"]
        ]
        if st["busy"]:
            sleepers.append(now + BUSY_SLICE)
        st["wake_at"] = None if st["exited"] or not sleepers else min(sleepers)

    def _prune_jobs(self) -> None:
        jobs = self.state["jobs"]
        done = [j for j in jobs[1:] if j["status"] is not None]
        for j in done[:-_MAX_FINISHED_JOBS]:
            jobs.remove(j)

    def _wake(self, job: dict) -> None:
        block = job["block"]
        if block is None:
            return
        job["block"] = None
        if not job["frames"]:
            return
        frame = job["frames"][-1]
        if "wait" in block:
            status = 0
            if block.get("one") is not None:
                for j in self.state["jobs"]:
                    if j["pid"] == block["one"]:
                        status = j["status"]
            self._set_status(frame, status)

    def _set_status(self, frame: dict, status: int) -> None:
        if frame["shell"] is not None:
            self.sh(frame)["status"] = status
        else:
            frame["status"] = status

    def _run_job(self, job: dict, budget: int) -> int:
        steps = 0
        main = job is self.main_job()
        while (
            job["status"] is None
            and job["block"] is None
            and not self.state["exited"]
            and steps < budget
        ):
            if main and self.state["pending"] and self._deliver_trap(job):
                continue
            steps += 1
            try:
                self._step(job)
            except _ShellExit:
                pass
        return max(steps, 1)

    # -- signals -------------------------------------------------------------------------
    def _deliver_trap(self, job: dict) -> bool:
        base = self.base_shell_id()
        top = job["frames"][-1]
        if base is None or top["shell"] != base:
            return False
        sig = self.state["pending"].pop(0)
        shell = self.state["shells"][base]
        action = shell["traps"].get(str(sig))
        if not action:
            return True
        src = self.add_source(action)
        job["frames"].append(
            self._frame("trap", src, 0, base, top["fds"], saved_status=shell["status"])
        )
        return True

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

    def kill(self, job: dict, pid: int, sig: int) -> bool:
        """`kill` from inside the container: PID 1 (this process) or a background job."""
        st = self.state
        if pid in (st["pid"], 0, -1):
            if sig == 0:
                return True
            self.signal(sig, job["t"])
            if st["exited"]:
                raise _ShellExit
            return True
        for j in st["jobs"][1:]:
            if j["pid"] == pid and j["status"] is None:
                if sig != 0 and sig not in signals.DEFAULT_IGNORED:
                    for f in reversed(j["frames"]):
                        self._drop_frame(f)
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

    # -- frames ending -------------------------------------------------------------------
    def _end_frame(self, job: dict) -> None:
        frame = job["frames"][-1]
        kind = frame["kind"]
        status = frame.get("status", 0)
        if frame["shell"] is not None:
            shell = self.sh(frame)
            status = shell["status"]
            if kind == "shell":
                if "0" in shell["traps"] and shell["traps"]["0"]:
                    action = shell["traps"].pop("0")
                    frame["exit_status"] = status
                    src = self.add_source(action)
                    job["frames"].append(
                        self._frame(
                            "trap", src, 0, frame["shell"], frame["fds"], saved_status=status
                        )
                    )
                    return
                status = frame.get("exit_status", status)
            elif kind == "func":
                shell["params"] = frame["saved_params"]
            elif kind == "trap":
                shell["status"] = frame["saved_status"]
        job["frames"].pop()
        if frame.get("cap"):
            frame["captured"] = self.state["bufs"].get(frame["cap"], {}).get("data", "")
        self._drop_frame(frame)
        self._deliver(job, frame, status)

    def _deliver(self, job: dict, frame: dict, status: int) -> None:
        if not job["frames"]:
            job["status"] = status
            job["end_t"] = job["t"]
            if job is self.main_job():
                self.finish(status)
            return
        parent = job["frames"][-1]
        role = frame.get("role")
        if role == "cmdsub":
            parent["stack"].append(frame["captured"].rstrip("\n"))
            parent["subst"] = status
            return
        if role == "pipe" and frame.get("captured") is not None:
            parent["stack"].append(frame["captured"])
        if frame["kind"] in ("trap",):
            return
        self._set_status(parent, status)

    def exit_shell(self, job: dict, frame: dict, status: int) -> None:
        """`exit N`: unwind to the shell's base frame and end it (running an EXIT trap)."""
        sid = frame["shell"]
        self.state["shells"][sid]["status"] = status
        frames = job["frames"]
        while frames[-1]["shell"] == sid and frames[-1]["kind"] != "shell":
            f = frames.pop()
            if f["kind"] == "func":
                self.state["shells"][sid]["params"] = f["saved_params"]
            self._drop_frame(f)
        base = frames[-1]
        if "exit_status" in base:
            base["exit_status"] = status
        base["pc"] = len(self._code(base))
        raise _ShellExit

    def fatal(self, job: dict, frame: dict, msg: str, status: int = 2) -> None:
        self.err(frame, msg)
        self.exit_shell(job, frame, status)

    # -- one step ------------------------------------------------------------------------
    def _step(self, job: dict) -> None:
        frame = job["frames"][-1]
        if frame["kind"] == "prog":
            self._step_prog(job, frame)
            return
        code = self._code(frame)
        if frame["pc"] >= len(code):
            self._end_frame(job)
            return
        ins = code[frame["pc"]]
        frame["pc"] += 1
        getattr(self, "op_" + ins[0])(job, frame, *ins[1:])

    def _step_prog(self, job: dict, frame: dict) -> None:
        if frame["pc"] == 0:
            frame["pc"] = 1
            frame["status"] = 0
            result = self.run_program(
                job, frame, frame["argv"], frame["path"], frame["env"], frame["cwd"], in_shell=False
            )
            if isinstance(result, int):
                frame["status"] = result
            return
        self._end_frame(job)

    # -- running programs ----------------------------------------------------------------
    def applet_context(
        self, job: dict, frame: dict, name: str, env: dict, cwd: str
    ) -> AppletContext:
        fds = frame["fds"]
        return AppletContext(
            name=name,
            rootfs=self.rootfs,
            cwd=cwd,
            env=env,
            now=job["t"],
            hostname=self.state["hostname"],
            pid=self.state["pid"],
            stdin=lambda: self.read_all(fds),
            write=lambda fd, data: self.write(fds, fd, data),
            kill=lambda pid, sig: self.kill(job, pid, sig),
        )

    def run_program(
        self,
        job: dict,
        frame: dict,
        argv: list[str],
        path: str,
        env: dict,
        cwd: str,
        in_shell: bool,
        depth: int = 0,
    ) -> int | str:
        """Run the program at `path` called as argv[0]. Returns a status, or "pushed" when
        a shell frame was pushed, or "blocked" when the job now sleeps."""
        kind = identify(self.rootfs, path, argv[0], APPLET_NAMES)
        if kind == ("applet", "busybox"):
            # busybox called by an unknown name, or as `busybox APPLET ARGS`
            called = posixpath.basename(argv[0])
            if called == "busybox" and len(argv) > 1:
                argv = argv[1:]
                called = posixpath.basename(argv[0])
            if called != "busybox":
                if called not in APPLET_NAMES:
                    self.write(frame["fds"], 2, f"{called}: applet not found\n".encode())
                    return 127
                kind = ("applet", called)
        if kind[0] == "script" and depth < 4:
            interp = kind[1]
            script = argv[0] if "/" in argv[0] else path
            new_argv = [interp] + ([kind[2]] if kind[2] else []) + [script] + argv[1:]
            if self.rootfs.exists(interp):
                return self.run_program(job, frame, new_argv, interp, env, cwd, in_shell, depth + 1)
            self.write(frame["fds"], 2, f"{argv[0]}: line 1: {interp}: not found\n".encode())
            return 127
        if kind[0] == "unknown":
            if in_shell:
                return self.start_shell(
                    job, frame["fds"], ["sh", path] + argv[1:], env, cwd, role="sub"
                )
            self.write(frame["fds"], 2, f"exec {path}: exec format error\n".encode())
            return 1
        name = kind[1]
        if name in SHELLS:
            return self.start_shell(job, frame["fds"], argv, env, cwd, role="sub")
        ctx = self.applet_context(job, frame, name, env, cwd)
        result = APPLETS[name](ctx, argv)
        if isinstance(result, Block):
            job["block"] = {"until": max(result.until, job["t"])}
            return "blocked"
        if isinstance(result, Exec):
            found, code, why = shell_find(self.rootfs, result.argv[0], result.env.get("PATH"), cwd)
            if found is None:
                why = "No such file or directory" if code == 127 else why
                ctx.error(f"can't execute '{result.argv[0]}': {why}")
                return code
            return self.run_program(
                job, frame, result.argv, found, result.env, cwd, in_shell, depth + 1
            )
        return int(result)

    def start_shell(
        self, job: dict, fds: dict, argv: list[str], env: dict, cwd: str, role: str | None
    ) -> int | str:
        """Run `sh [-e] [-x] [-c CMD [arg0 [args]] | SCRIPT [args]]` as a new shell frame."""
        opts: dict = {}
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
                    self.write(fds, 2, f"sh: -{ch}: invalid option\n".encode())
                    return 2
        script = None
        if command:
            if not args:
                self.write(fds, 2, b"sh: -c requires an argument\n")
                return 2
            text = args.pop(0)
            arg0 = args.pop(0) if args else "sh"
            params = args
        elif args:
            script = args.pop(0)
            try:
                data = self.rootfs.read_bytes(abspath(cwd, script))
            except IsADirectoryError:
                self.write(fds, 2, f"sh: can't open '{script}': Is a directory\n".encode())
                return 2
            except OSError:
                self.write(
                    fds, 2, f"sh: can't open '{script}': No such file or directory\n".encode()
                )
                return 2
            text = data.decode("utf-8", "surrogateescape")
            arg0, params = script, args
        else:
            text = self.read_all(fds).decode("utf-8", "surrogateescape")
            arg0, params = "sh", args
        sid = self.new_shell(env, cwd, arg0, params, script, opts)
        src = self.add_source(text)
        frame = self._frame("shell", src, 0, sid, fds, role=role)
        job["frames"].append(frame)
        return "pushed"

    def start_argv(
        self, job: dict, argv: list[str], path: str, env: dict, cwd: str, fds: dict
    ) -> None:
        """Start a program as a job's bottom frame (a container's PID 1, an exec)."""
        kind = identify(self.rootfs, path, argv[0], APPLET_NAMES)
        shell_argv = None
        if kind[0] == "applet" and kind[1] in SHELLS:
            shell_argv = argv
        elif kind[0] == "script" and self.rootfs.exists(kind[1]):
            interp = kind[1]
            ikind = identify(self.rootfs, interp, interp, APPLET_NAMES)
            if ikind[0] == "applet" and ikind[1] in SHELLS:
                script = argv[0] if "/" in argv[0] else path
                shell_argv = [interp] + ([kind[2]] if kind[2] else []) + [script] + argv[1:]
        if shell_argv is not None:
            before = len(job["frames"])
            rc = self.start_shell(job, fds, shell_argv, env, cwd, role=None)
            if len(job["frames"]) == before:
                # the shell failed before running anything (no such script, bad option)
                job["frames"].append(
                    self._frame(
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
                )
            return
        job["frames"].append(
            self._frame("prog", -1, 0, None, fds, argv=argv, path=path, env=env, cwd=cwd)
        )

    # -- expansion -----------------------------------------------------------------------
    def expander(self, job: dict, frame: dict, subs: Iterator[str]) -> Expander:
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

    def setvar(self, shell: dict, name: str, value: str, export: bool = False) -> None:
        shell["vars"][name] = value
        if export and name not in shell["exported"]:
            shell["exported"].append(name)

    def environ(self, shell: dict, extra: list[tuple[str, str]] = ()) -> dict[str, str]:
        env = {k: shell["vars"][k] for k in shell["exported"] if k in shell["vars"]}
        env.update(extra)
        return env

    def _pop_subs(self, frame: dict, n: int) -> list[str]:
        if not n:
            return []
        subs = frame["stack"][-n:]
        del frame["stack"][-n:]
        return subs

    # -- redirections --------------------------------------------------------------------
    def redirect(self, job: dict, frame: dict, redirs: list, exp: Expander) -> bool:
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
                bid = self._buf(target)
                frame.setdefault("own", []).append(bid)
                fds[fd] = {"t": "data", "id": bid}
                continue
            if r.op in (">&", "<&"):
                if target == "-":
                    fds.pop(fd, None)
                elif target.isdigit():
                    if target in fds:
                        fds[fd] = copy.deepcopy(fds[target])
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
                    fds[fd] = copy.deepcopy(fds[src])
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
                bid = self._buf(data.decode("utf-8", "surrogateescape"))
                frame.setdefault("own", []).append(bid)
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

    # -- instructions --------------------------------------------------------------------
    def op_JMP(self, job: dict, frame: dict, target: int) -> None:
        frame["pc"] = target

    def op_JF(self, job: dict, frame: dict, target: int) -> None:
        if self.sh(frame)["status"] != 0:
            frame["pc"] = target

    def op_JT(self, job: dict, frame: dict, target: int) -> None:
        if self.sh(frame)["status"] == 0:
            frame["pc"] = target

    def op_NOT(self, job: dict, frame: dict) -> None:
        shell = self.sh(frame)
        shell["status"] = 0 if shell["status"] else 1

    def op_STATUS(self, job: dict, frame: dict, n: int) -> None:
        self.sh(frame)["status"] = n

    def op_ERREXIT(self, job: dict, frame: dict) -> None:
        shell = self.sh(frame)
        if shell["opts"].get("e") and shell["status"] != 0:
            self.exit_shell(job, frame, shell["status"])

    def op_POP(self, job: dict, frame: dict) -> None:
        frame["stack"].pop()

    def op_LOOP_PUSH(self, job: dict, frame: dict) -> None:
        frame["stack"].append({"st": 0})

    def op_LOOP_SAVE(self, job: dict, frame: dict) -> None:
        frame["stack"][-1]["st"] = self.sh(frame)["status"]

    def op_LOOP_END(self, job: dict, frame: dict) -> None:
        self.sh(frame)["status"] = frame["stack"].pop()["st"]

    def op_UNWIND(self, job: dict, frame: dict, depth: int, rdepth: int) -> None:
        del frame["stack"][depth:]
        while len(frame["saved"]) > rdepth:
            self.op_UNREDIR(job, frame)

    def op_SYNTAX(self, job: dict, frame: dict, msg: str, line: int) -> None:
        shell = self.sh(frame)
        if shell["script"]:
            text = f"{shell['script']}: line {line}: {msg}"
        else:
            text = f"{shell['arg0']}: {msg}"
        self.fatal(job, frame, text, 2)

    def op_DEFUN(self, job: dict, frame: dict, name: str, unit: int) -> None:
        shell = self.sh(frame)
        shell["funcs"][name] = [frame["src"], unit]
        shell["status"] = 0

    def op_FOR_INIT(self, job: dict, frame: dict, node: Any, nsubs: int) -> None:
        shell = self.sh(frame)
        if node.words is None:
            items = list(shell["params"])
        else:
            exp = self.expander(job, frame, iter(self._pop_subs(frame, nsubs)))
            items = []
            try:
                for w in node.words:
                    items.extend(exp.fields(w))
            except ExpandError as err:
                self.fatal(job, frame, self.prefix(frame) + str(err))
        frame["stack"].append({"items": items, "i": 0, "st": 0})

    def op_FOR_NEXT(self, job: dict, frame: dict, var: str, end: int) -> None:
        it = frame["stack"][-1]
        if it["i"] < len(it["items"]):
            self.setvar(self.sh(frame), var, it["items"][it["i"]])
            it["i"] += 1
        else:
            frame["pc"] = end

    def op_CASE_PUSH(self, job: dict, frame: dict, word: list, nsubs: int) -> None:
        exp = self.expander(job, frame, iter(self._pop_subs(frame, nsubs)))
        try:
            frame["stack"].append(exp.string(word))
        except ExpandError as err:
            self.fatal(job, frame, self.prefix(frame) + str(err))

    def op_CASE_TEST(self, job: dict, frame: dict, patterns: list, target: int) -> None:
        value = frame["stack"][-1]
        exp = self.expander(job, frame, iter(()))
        for pat in patterns:
            try:
                if fnmatch.fnmatchcase(value, exp.pattern(pat)):
                    frame["pc"] = target
                    return
            except ExpandError as err:
                self.fatal(job, frame, self.prefix(frame) + str(err))

    def op_REDIR(self, job: dict, frame: dict, redirs: list, nsubs: int, fail: int) -> None:
        exp = self.expander(job, frame, iter(self._pop_subs(frame, nsubs)))
        frame["saved"].append(frame["fds"])
        frame["fds"] = copy.deepcopy(frame["fds"])
        own_before = list(frame.get("own", []))
        if not self.redirect(job, frame, redirs, exp):
            frame["fds"] = frame["saved"].pop()
            self.sh(frame)["status"] = 1
            frame["pc"] = fail
        frame.setdefault("own_saved", []).append(own_before)

    def op_UNREDIR(self, job: dict, frame: dict) -> None:
        frame["fds"] = frame["saved"].pop()
        before = frame.get("own_saved", [[]]).pop() if frame.get("own_saved") else []
        for bid in frame.get("own", []):
            if bid not in before:
                self.state["bufs"].pop(bid, None)
        frame["own"] = before

    def _push_sub(
        self, job: dict, frame: dict, unit: int, role: str, fds: dict, **extra: Any
    ) -> dict:
        sid = self._subshell(frame["shell"])
        sub = self._frame("shell", frame["src"], unit, sid, fds, role=role, **extra)
        job["frames"].append(sub)
        return sub

    def op_SUBSHELL(self, job: dict, frame: dict, unit: int) -> None:
        self._push_sub(job, frame, unit, "sub", frame["fds"])

    def op_CMDSUB(self, job: dict, frame: dict, unit: int) -> None:
        cap = self._buf()
        fds = dict(frame["fds"])
        fds["1"] = {"t": "buf", "id": cap}
        self._push_sub(job, frame, unit, "cmdsub", fds, cap=cap)

    def op_PIPE(self, job: dict, frame: dict, unit: int, first: bool, last: bool) -> None:
        fds = dict(frame["fds"])
        own = []
        if not first:
            bid = self._buf(frame["stack"].pop())
            own.append(bid)
            fds["0"] = {"t": "data", "id": bid}
        extra: dict = {"own": own}
        if not last:
            cap = self._buf()
            fds["1"] = {"t": "buf", "id": cap}
            extra["cap"] = cap
        self._push_sub(job, frame, unit, "pipe", fds, **extra)

    def op_BG(self, job: dict, frame: dict, unit: int) -> None:
        st = self.state
        pid = st["next_pid"]
        st["next_pid"] = pid + 1
        bg = self.new_job(pid, job["t"], frame["shell"])
        fds = dict(frame["fds"])
        fds["0"] = {"t": "null"}
        sid = self._subshell(frame["shell"])
        bg["frames"].append(self._frame("shell", frame["src"], unit, sid, fds, role="bg"))
        shell = self.sh(frame)
        shell["bang"] = pid
        shell["status"] = 0

    def op_CMD(self, job: dict, frame: dict, node: Any, nsubs: int) -> None:
        from .builtins import BUILTINS, SPECIAL  # noqa: PLC0415 - avoid an import cycle

        shell = self.sh(frame)
        subst = frame.pop("subst", None)
        exp = self.expander(job, frame, iter(self._pop_subs(frame, nsubs)))
        try:
            assigns = [(n, exp.string(w)) for n, w in node.assigns]
            argv: list[str] = []
            for w in node.words:
                argv.extend(exp.fields(w))
        except ExpandError as err:
            self.fatal(job, frame, self.prefix(frame) + str(err))
            return
        if shell["opts"].get("x"):
            trace = " ".join([f"{n}={v}" for n, v in assigns] + argv)
            self.write(frame["fds"], 2, f"+ {trace}\n".encode("utf-8", "surrogateescape"))
        saved = frame["fds"]
        own_before = list(frame.get("own", []))
        frame["fds"] = copy.deepcopy(saved)
        keep = False
        try:
            if node.redirs and not self.redirect(job, frame, node.redirs, exp):
                shell["status"] = 1
                return
            if not argv:
                for n, v in assigns:
                    self.setvar(shell, n, v)
                shell["status"] = subst if subst is not None else 0
                return
            name = argv[0]
            if name in shell["funcs"]:
                src, unit = shell["funcs"][name]
                for n, v in assigns:
                    self.setvar(shell, n, v)
                f = self._frame(
                    "func", src, unit, frame["shell"], frame["fds"], saved_params=shell["params"]
                )
                shell["params"] = argv[1:]
                job["frames"].append(f)
                return
            builtin = BUILTINS.get(name)
            if builtin is not None:
                if name in SPECIAL:
                    for n, v in assigns:
                        self.setvar(shell, n, v)
                keep = name == "exec" and len(argv) == 1
                rc = builtin(self, job, frame, argv, node.line)
                if isinstance(rc, int):
                    shell["status"] = rc
                return
            env = self.environ(shell, assigns)
            path, code, why = shell_find(
                self.rootfs, name, env.get("PATH", DEFAULT_PATH), shell["cwd"]
            )
            if path is None:
                if shell["script"]:
                    self.err(frame, f"{shell['script']}: line {node.line}: {name}: {why}")
                else:
                    self.err(frame, f"{shell['arg0']}: {name}: {why}")
                shell["status"] = code
                return
            shell["status"] = 0
            rc = self.run_program(job, frame, argv, path, env, shell["cwd"], in_shell=True)
            if isinstance(rc, int):
                shell["status"] = rc
        finally:
            if not keep:
                frame["fds"] = saved
                pushed = job["frames"] and job["frames"][-1] is not frame
                for bid in frame.get("own", []):
                    if bid not in own_before:
                        if pushed:
                            job["frames"][-1].setdefault("own", []).append(bid)
                        else:
                            self.state["bufs"].pop(bid, None)
                frame["own"] = own_before


__all__ = ["BUSY_SLICE", "MAX_STEPS", "Machine", "new_state"]
