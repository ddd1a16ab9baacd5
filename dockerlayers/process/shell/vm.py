"""The machine that runs compiled shell code and programs, resumably.

Everything it works on is plain JSON data (`Machine.state`, declared in state.py): jobs
(PID 1's and the background `&` ones), each a stack of frames; a frame is a program counter
into a compiled unit plus a value stack and an fd table; shells (variables, traps, options)
are shared by the frames that run in them. Code is rebuilt from the source texts kept in
the state. Here is the loop that drives it: the scheduler, one step (an instruction of
ops.py, or a program of programs.py), a frame's end; the primitives are in core.py.

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

from .core import BrokenPipe, MachineCore, Output, PipeOverrun, ShellExit
from .ops import OPS
from .programs import run_program
from .state import Frame, Job

MAX_STEPS = 10_000
BUSY_SLICE = 1.0  # seconds a slice of MAX_STEPS instructions stands for
_MAX_FINISHED_JOBS = 32


class Machine(MachineCore):
    """Runs a process's jobs over its state; `rootfs` and `output` are not part of it."""

    # -- the scheduler -------------------------------------------------------------------
    def _ready_time(self, job: Job, now: float) -> float | None:
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
        return max([job["t"]] + [j["end_t"] for j in waited if j["end_t"] is not None])

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
                if job["status"] is None:
                    self.stall_pipe(job)
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

    def _wake(self, job: Job) -> None:
        block = job["block"]
        if block is None:
            return
        job["block"] = None
        if not job["frames"]:
            return
        frame = job["frames"][-1]
        if "wait" in block:
            status = 0
            if block["one"] is not None:
                for j in self.state["jobs"]:
                    if j["pid"] == block["one"]:
                        status = j["status"] or 0  # it has ended: it has one
            self.set_status(frame, status)

    def _run_job(self, job: Job, budget: int) -> int:
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
            except ShellExit:
                pass
            except (BrokenPipe, PipeOverrun) as err:
                self.break_pipe(job, err)
        return max(steps, 1)

    # -- signals -------------------------------------------------------------------------
    def _deliver_trap(self, job: Job) -> bool:
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
        self.push_frame(job, "trap", src, 0, base, top["fds"], saved_status=shell["status"])
        return True

    # -- frames ending -------------------------------------------------------------------
    def _end_frame(self, job: Job) -> None:
        frame = job["frames"][-1]
        kind = frame["kind"]
        status = frame["status"]
        if frame["shell"] is not None:
            shell = self.sh(frame)
            status = shell["status"]
            if kind == "shell":
                if "0" in shell["traps"] and shell["traps"]["0"]:
                    action = shell["traps"].pop("0")
                    frame["exit_status"] = status
                    src = self.add_source(action)
                    self.push_frame(
                        job, "trap", src, 0, frame["shell"], frame["fds"], saved_status=status
                    )
                    return
                if frame["exit_status"] is not None:
                    status = frame["exit_status"]
            elif kind == "func":
                shell["params"] = frame["saved_params"]  # type: ignore[typeddict-item]
            elif kind == "trap":
                shell["status"] = frame["saved_status"]  # type: ignore[typeddict-item]
        job["frames"].pop()
        captured = None
        cut = False
        if frame["cap"]:
            buf = self.state["bufs"].get(frame["cap"])
            captured = "" if buf is None else buf["data"]
            cut = bool(buf and buf.get("cut"))
        self.drop_frame(frame)
        self._deliver(job, frame, status, captured, cut)

    def _deliver(
        self, job: Job, frame: Frame, status: int, captured: str | None, cut: bool = False
    ) -> None:
        """Hand an ended frame's status (and what it wrote to `cap`) to the frame below, or
        end the job (and the process, if it is the main job)."""
        if not job["frames"]:
            job["status"] = status
            job["end_t"] = job["t"]
            if job is self.main_job():
                self.finish(status)
            return
        parent = job["frames"][-1]
        role = frame["role"]
        if role == "cmdsub":
            parent["stack"].append((captured or "").rstrip("\n"))
            parent["subst"] = status
            return
        if role == "pipe" and captured is not None:
            parent["stack"].append({"cut": captured} if cut else captured)
        if frame["kind"] == "trap":
            return
        self.set_status(parent, status)

    # -- one step ------------------------------------------------------------------------
    def _step(self, job: Job) -> None:
        frame = job["frames"][-1]
        if frame["kind"] == "prog":
            self._step_prog(job, frame)
            return
        code = self.code(frame)
        if frame["pc"] >= len(code):
            self._end_frame(job)
            return
        ins = code[frame["pc"]]
        frame["pc"] += 1
        OPS[ins[0]](self, job, frame, *ins[1:])

    def _step_prog(self, job: Job, frame: Frame) -> None:
        if frame["pc"] == 0:
            frame["pc"] = 1
            frame["status"] = 0
            result = run_program(
                self,
                job,
                frame,
                frame["argv"],  # type: ignore[arg-type]
                frame["path"],  # type: ignore[arg-type]
                frame["env"],  # type: ignore[arg-type]
                frame["cwd"],  # type: ignore[arg-type]
                in_shell=False,
            )
            if isinstance(result, int):
                frame["status"] = result
            return
        self._end_frame(job)


__all__ = ["BUSY_SLICE", "MAX_STEPS", "Machine", "Output"]
