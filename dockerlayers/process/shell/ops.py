"""The instructions: what each `(op, *args)` of compiler.py does to a frame.

Each handler takes (machine, job, frame, *args); the program counter has already moved
past the instruction. `OPS` maps an op's name to its handler (vm.Machine dispatches on it).
Control flow and `$?` live in the shell (`Shell.status`), loops and `$(...)` results on
the frame's value stack, redirections as fd tables saved and put back.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any, cast

from ..resolve import DEFAULT_PATH
from .builtins import BUILTINS, SPECIAL
from .core import MachineCore
from .expand import ExpandError
from .programs import find_command, run_program
from .state import CutItem, Fds, ForItem, Frame, Job, LoopItem, Role, copy_fds

Op = Callable[..., None]


# -- jumps and status -------------------------------------------------------------------------
def op_JMP(m: MachineCore, job: Job, frame: Frame, target: int) -> None:
    frame["pc"] = target


def op_JF(m: MachineCore, job: Job, frame: Frame, target: int) -> None:
    if m.sh(frame)["status"] != 0:
        frame["pc"] = target


def op_JT(m: MachineCore, job: Job, frame: Frame, target: int) -> None:
    if m.sh(frame)["status"] == 0:
        frame["pc"] = target


def op_NOT(m: MachineCore, job: Job, frame: Frame) -> None:
    shell = m.sh(frame)
    shell["status"] = 0 if shell["status"] else 1


def op_STATUS(m: MachineCore, job: Job, frame: Frame, n: int) -> None:
    m.sh(frame)["status"] = n


def op_ERREXIT(m: MachineCore, job: Job, frame: Frame) -> None:
    """`set -e`: a failed command ends the shell."""
    shell = m.sh(frame)
    if shell["opts"].get("e") and shell["status"] != 0:
        m.exit_shell(job, frame, shell["status"])


def op_SYNTAX(m: MachineCore, job: Job, frame: Frame, msg: str, line: int) -> None:
    """A syntax error found when compiling: ash reports it when it reaches it."""
    shell = m.sh(frame)
    if shell["script"]:
        text = f"{shell['script']}: line {line}: {msg}"
    else:
        text = f"{shell['arg0']}: {msg}"
    m.fatal(job, frame, text, 2)


def op_DEFUN(m: MachineCore, job: Job, frame: Frame, name: str, unit: int) -> None:
    shell = m.sh(frame)
    shell["funcs"][name] = [frame["src"], unit]
    shell["status"] = 0


# -- the value stack: loops, for, case --------------------------------------------------------
def op_POP(m: MachineCore, job: Job, frame: Frame) -> None:
    frame["stack"].pop()


def op_LOOP_PUSH(m: MachineCore, job: Job, frame: Frame) -> None:
    item: LoopItem = {"st": 0}
    frame["stack"].append(item)


def op_LOOP_SAVE(m: MachineCore, job: Job, frame: Frame) -> None:
    cast(LoopItem, frame["stack"][-1])["st"] = m.sh(frame)["status"]


def op_LOOP_END(m: MachineCore, job: Job, frame: Frame) -> None:
    m.sh(frame)["status"] = cast(LoopItem, frame["stack"].pop())["st"]


def op_UNWIND(m: MachineCore, job: Job, frame: Frame, depth: int, rdepth: int) -> None:
    """`break`/`continue`: drop the loops' stack items and redirections left behind."""
    del frame["stack"][depth:]
    while len(frame["saved"]) > rdepth:
        op_UNREDIR(m, job, frame)


def op_FOR_INIT(m: MachineCore, job: Job, frame: Frame, node: Any, nsubs: int) -> None:
    shell = m.sh(frame)
    if node.words is None:
        items = list(shell["params"])
    else:
        exp = m.expander(job, frame, iter(m.pop_subs(frame, nsubs)))
        items = []
        try:
            for w in node.words:
                items.extend(exp.fields(w))
        except ExpandError as err:
            m.fatal(job, frame, m.prefix(frame) + str(err))
    item: ForItem = {"items": items, "i": 0, "st": 0}
    frame["stack"].append(item)


def op_FOR_NEXT(m: MachineCore, job: Job, frame: Frame, var: str, end: int) -> None:
    it = cast(ForItem, frame["stack"][-1])
    if it["i"] < len(it["items"]):
        m.setvar(m.sh(frame), var, it["items"][it["i"]])
        it["i"] += 1
    else:
        frame["pc"] = end


def op_CASE_PUSH(m: MachineCore, job: Job, frame: Frame, word: list, nsubs: int) -> None:
    exp = m.expander(job, frame, iter(m.pop_subs(frame, nsubs)))
    try:
        frame["stack"].append(exp.string(word))
    except ExpandError as err:
        m.fatal(job, frame, m.prefix(frame) + str(err))


def op_CASE_TEST(m: MachineCore, job: Job, frame: Frame, patterns: list, target: int) -> None:
    value = cast(str, frame["stack"][-1])
    exp = m.expander(job, frame, iter(()))
    for pat in patterns:
        try:
            if fnmatch.fnmatchcase(value, exp.pattern(pat)):
                frame["pc"] = target
                return
        except ExpandError as err:
            m.fatal(job, frame, m.prefix(frame) + str(err))


# -- redirections of a compound command -------------------------------------------------------
def op_REDIR(m: MachineCore, job: Job, frame: Frame, redirs: list, nsubs: int, fail: int) -> None:
    exp = m.expander(job, frame, iter(m.pop_subs(frame, nsubs)))
    frame["saved"].append(frame["fds"])
    frame["fds"] = copy_fds(frame["fds"])
    own_before = list(frame["own"])
    if not m.redirect(job, frame, redirs, exp):
        frame["fds"] = frame["saved"].pop()
        m.sh(frame)["status"] = 1
        frame["pc"] = fail
    frame["own_saved"].append(own_before)


def op_UNREDIR(m: MachineCore, job: Job, frame: Frame) -> None:
    frame["fds"] = frame["saved"].pop()
    before = frame["own_saved"].pop() if frame["own_saved"] else []
    for bid in frame["own"]:
        if bid not in before:
            m.state["bufs"].pop(bid, None)
    frame["own"] = before


# -- subshells: ( ), $(...), pipe stages, & ---------------------------------------------------
def _push_sub(
    m: MachineCore, job: Job, frame: Frame, unit: int, role: Role, fds: Fds, **extra: Any
) -> Frame:
    sid = m.subshell(frame["shell"])  # type: ignore[arg-type]
    return m.push_frame(job, "shell", frame["src"], unit, sid, fds, role=role, **extra)


def op_SUBSHELL(m: MachineCore, job: Job, frame: Frame, unit: int) -> None:
    _push_sub(m, job, frame, unit, "sub", frame["fds"])


def op_CMDSUB(m: MachineCore, job: Job, frame: Frame, unit: int) -> None:
    cap = m.new_buf()
    fds = dict(frame["fds"])
    fds["1"] = {"t": "buf", "id": cap}
    _push_sub(m, job, frame, unit, "cmdsub", fds, cap=cap)


def op_PIPE(m: MachineCore, job: Job, frame: Frame, unit: int, first: bool, last: bool) -> None:
    """One stage of a pipeline, run to its end before the next: its input is the previous
    stage's output (on the stack), its output is captured unless it is the last. The
    capture is bounded (core.PIPE_BOUND): an endless writer is stopped there (SIGPIPE)."""
    fds = dict(frame["fds"])
    own = []
    if not first:
        item = frame["stack"].pop()
        if isinstance(item, dict):  # a CutItem: its writer was stopped at the bound
            bid = m.new_buf(cast(CutItem, item)["cut"], cut=True)
        else:
            bid = m.new_buf(cast(str, item))
        own.append(bid)
        fds["0"] = {"t": "data", "id": bid}
    cap = None
    if not last:
        cap = m.new_buf(pipe=True)
        fds["1"] = {"t": "buf", "id": cap}
    _push_sub(m, job, frame, unit, "pipe", fds, own=own, cap=cap)


def op_BG(m: MachineCore, job: Job, frame: Frame, unit: int) -> None:
    st = m.state
    pid = st["next_pid"]
    st["next_pid"] = pid + 1
    bg = m.new_job(pid, job["t"], frame["shell"])
    fds = dict(frame["fds"])
    fds["0"] = {"t": "null"}
    sid = m.subshell(frame["shell"])  # type: ignore[arg-type]
    m.push_frame(bg, "shell", frame["src"], unit, sid, fds, role="bg")
    shell = m.sh(frame)
    shell["bang"] = pid
    shell["status"] = 0


# -- a simple command -------------------------------------------------------------------------
def op_CMD(m: MachineCore, job: Job, frame: Frame, node: Any, nsubs: int) -> None:
    """Expand, trace (`set -x`), redirect, then run: assignments alone, a function, a
    builtin, or a program found in PATH. The fds are put back afterwards (not after `exec`
    alone, which keeps its redirections); buffers opened for the command go with it."""
    shell = m.sh(frame)
    subst = frame["subst"]
    frame["subst"] = None
    exp = m.expander(job, frame, iter(m.pop_subs(frame, nsubs)))
    try:
        assigns = [(n, exp.string(w)) for n, w in node.assigns]
        argv: list[str] = []
        for w in node.words:
            argv.extend(exp.fields(w))
    except ExpandError as err:
        m.fatal(job, frame, m.prefix(frame) + str(err))
        return
    if shell["opts"].get("x"):
        trace = " ".join([f"{n}={v}" for n, v in assigns] + argv)
        m.write(frame["fds"], 2, f"+ {trace}\n".encode("utf-8", "surrogateescape"))
    saved = frame["fds"]
    own_before = list(frame["own"])
    frame["fds"] = copy_fds(saved)
    keep = False
    try:
        if node.redirs and not m.redirect(job, frame, node.redirs, exp):
            shell["status"] = 1
            return
        if not argv:
            for n, v in assigns:
                m.setvar(shell, n, v)
            shell["status"] = subst if subst is not None else 0
            return
        name = argv[0]
        if name in shell["funcs"]:
            src, unit = shell["funcs"][name]
            for n, v in assigns:
                m.setvar(shell, n, v)
            m.push_frame(
                job, "func", src, unit, frame["shell"], frame["fds"], saved_params=shell["params"]
            )
            shell["params"] = argv[1:]
            return
        builtin = BUILTINS.get(name)
        if builtin is not None:
            if name in SPECIAL:
                for n, v in assigns:
                    m.setvar(shell, n, v)
            keep = name == "exec" and len(argv) == 1
            rc = builtin(m, job, frame, argv, node.line)
            if isinstance(rc, int):
                shell["status"] = rc
            return
        env = m.environ(shell, assigns)
        path, code, why = find_command(m.rootfs, name, env.get("PATH", DEFAULT_PATH), shell["cwd"])
        if path is None:
            if shell["script"]:
                m.err(frame, f"{shell['script']}: line {node.line}: {name}: {why}")
            else:
                m.err(frame, f"{shell['arg0']}: {name}: {why}")
            shell["status"] = code
            return
        shell["status"] = 0
        result = run_program(m, job, frame, argv, path, env, shell["cwd"], in_shell=True)
        if isinstance(result, int):
            shell["status"] = result
    finally:
        if not keep:
            frame["fds"] = saved
            pushed = job["frames"] and job["frames"][-1] is not frame
            for bid in frame["own"]:
                if bid not in own_before:
                    if pushed:
                        job["frames"][-1]["own"].append(bid)
                    else:
                        m.state["bufs"].pop(bid, None)
            frame["own"] = own_before


#: op name (as compiler.py emits it) -> handler.
OPS: dict[str, Op] = {
    "JMP": op_JMP,
    "JF": op_JF,
    "JT": op_JT,
    "NOT": op_NOT,
    "STATUS": op_STATUS,
    "ERREXIT": op_ERREXIT,
    "SYNTAX": op_SYNTAX,
    "DEFUN": op_DEFUN,
    "POP": op_POP,
    "LOOP_PUSH": op_LOOP_PUSH,
    "LOOP_SAVE": op_LOOP_SAVE,
    "LOOP_END": op_LOOP_END,
    "UNWIND": op_UNWIND,
    "FOR_INIT": op_FOR_INIT,
    "FOR_NEXT": op_FOR_NEXT,
    "CASE_PUSH": op_CASE_PUSH,
    "CASE_TEST": op_CASE_TEST,
    "REDIR": op_REDIR,
    "UNREDIR": op_UNREDIR,
    "SUBSHELL": op_SUBSHELL,
    "CMDSUB": op_CMDSUB,
    "PIPE": op_PIPE,
    "BG": op_BG,
    "CMD": op_CMD,
}

__all__ = ["OPS"]
