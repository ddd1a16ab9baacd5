"""Compile the syntax tree to bytecode, so that a running shell is a program counter plus
a few stacks: state that serializes to JSON and resumes in another Python process
(generators could not be persisted).

A `Code` is a list of units (unit 0 is the script; bodies that run in their own frame —
subshells, pipeline stages, `$(...)`, background jobs, functions — get units of their
own). Code is never stored: it is rebuilt from the source text, deterministically.

Instructions are tuples `(op, *args)`; see `ops.py` for what each does.
"""

from __future__ import annotations

from functools import lru_cache

from .ast import (
    AndOr,
    Case,
    For,
    FuncDef,
    Group,
    If,
    List,
    Loop,
    Pipeline,
    Redirected,
    Simple,
    Word,
)
from .parser import parse_program

Instr = tuple
Unit = list[Instr]


def collect_subs(words: list[Word], out: list[List]) -> list[List]:
    """The `$(...)` bodies inside `words`, in the order expansion meets them."""
    for word in words:
        for part in word:
            kind = part[0]
            if kind == "cmdsub":
                out.append(part[1])
            elif kind == "param" and part[3]:
                collect_subs([part[3]], out)
            elif kind == "arith":
                collect_subs([part[1]], out)
    return out


def simple_words(cmd: Simple) -> list[Word]:
    """A simple command's words in expansion order: assignments, arguments, redirections."""
    return [v for _, v in cmd.assigns] + cmd.words + [r.target for r in cmd.redirs]


def _literal(word: Word) -> str | None:
    if all(p[0] == "lit" for p in word):
        return "".join(p[1] for p in word)
    return None


class _Loop:
    def __init__(self, depth: int, rdepth: int) -> None:
        self.depth = depth
        self.rdepth = rdepth
        self.brk: list[Instr] = []  # jumps to patch
        self.cont: list[Instr] = []


class Compiler:
    def __init__(self) -> None:
        self.units: list[Unit] = []

    def new_unit(self, body: object) -> int:
        index = len(self.units)
        self.units.append([])
        _UnitCompiler(self, index).compile_body(body)
        return index


class _UnitCompiler:
    def __init__(self, compiler: Compiler, index: int) -> None:
        self.c = compiler
        self.code = compiler.units[index]
        self.depth = 0
        self.rdepth = 0
        self.loops: list[_Loop] = []

    def emit(self, *instr: object) -> list:
        ins = list(instr)
        self.code.append(ins)  # patched in place, frozen to tuples at the end
        return ins

    def here(self) -> int:
        return len(self.code)

    def compile_body(self, body: object) -> None:
        self.node(body, cond=False)
        self.code[:] = [tuple(i) for i in self.code]

    # -- nodes ---------------------------------------------------------------------------
    def node(self, node: object, cond: bool) -> None:
        getattr(self, "c_" + type(node).__name__)(node, cond)

    def c_list(self, lst: list, cond: bool) -> None:
        for item in lst:
            self.node(item, cond)

    def c_List(self, node: List, cond: bool) -> None:
        for andor, bg in node.items:
            if bg:
                unit = self.c.new_unit(andor)
                self.emit("BG", unit)
            else:
                self.node(andor, cond)

    def c_AndOr(self, node: AndOr, cond: bool) -> None:
        if not node.rest:
            self.node(node.first, cond)
            return
        # ((a && b) || c): a failed `&&` skips b only; the `||` then tests the same status
        self.node(node.first, True)
        for i, (op, pipeline) in enumerate(node.rest):
            jump = self.emit("JF" if op == "&&" else "JT", None)
            last = i == len(node.rest) - 1
            self.node(pipeline, cond if last else True)
            jump[1] = self.here()

    def c_Pipeline(self, node: Pipeline, cond: bool) -> None:
        inner_cond = cond or node.negate
        if len(node.cmds) == 1:
            self.node(node.cmds[0], inner_cond)
        else:
            n = len(node.cmds)
            for i, cmd in enumerate(node.cmds):
                unit = self.c.new_unit(cmd)
                self.emit("PIPE", unit, i == 0, i == n - 1)
        if node.negate:
            self.emit("NOT")
        # set -e: checked after simple commands, pipelines and groups; compound commands
        # (if/while/for/case) are checked inside, on their own commands
        head = node.cmds[0]
        if isinstance(head, Redirected):
            head = head.cmd
        if not inner_cond and (len(node.cmds) > 1 or isinstance(head, (Simple, Group))):
            self.emit("ERREXIT")

    def _subs(self, words: list[Word]) -> int:
        subs = collect_subs(words, [])
        for body in subs:
            self.emit("CMDSUB", self.c.new_unit(body))
        return len(subs)

    def c_Simple(self, node: Simple, cond: bool) -> None:
        name = _literal(node.words[0]) if node.words and not node.assigns else None
        if name in ("break", "continue") and not node.redirs:
            n = 1
            if len(node.words) > 1:
                arg = _literal(node.words[1])
                n = int(arg) if arg and arg.isdigit() and int(arg) > 0 else 1
            if not self.loops:
                self.emit("STATUS", 0)
                return
            loop = self.loops[-min(n, len(self.loops))]
            self.emit("UNWIND", loop.depth + 1, loop.rdepth)
            j = self.emit("JMP", None)
            (loop.brk if name == "break" else loop.cont).append(j)
            return
        nsubs = self._subs(simple_words(node))
        self.emit("CMD", node, nsubs)

    def c_Group(self, node: Group, cond: bool) -> None:
        if node.subshell:
            self.emit("SUBSHELL", self.c.new_unit(node.body))
        else:
            self.node(node.body, cond)

    def c_Redirected(self, node: Redirected, cond: bool) -> None:
        nsubs = self._subs([r.target for r in node.redirs])
        fail = self.emit("REDIR", node.redirs, nsubs, None)
        self.rdepth += 1
        self.node(node.cmd, cond)
        self.rdepth -= 1
        self.emit("UNREDIR")
        fail[3] = self.here()

    def c_FuncDef(self, node: FuncDef, cond: bool) -> None:
        self.emit("DEFUN", node.name, self.c.new_unit(node.body))

    def c_If(self, node: If, cond: bool) -> None:
        ends = []
        for test, body in node.branches:
            self.node(test, True)
            skip = self.emit("JF", None)
            self.node(body, cond)
            ends.append(self.emit("JMP", None))
            skip[1] = self.here()
        if node.orelse is not None:
            self.node(node.orelse, cond)
        else:
            self.emit("STATUS", 0)
        for j in ends:
            j[1] = self.here()

    def _loop_tail(self, loop: _Loop, top: int) -> None:
        self.emit("LOOP_SAVE")
        self.emit("JMP", top)
        end = self.here()
        self.emit("LOOP_END")
        after = self.emit("JMP", None)
        brk = self.here()
        self.emit("POP")
        self.emit("STATUS", 0)
        after[1] = self.here()
        for j in loop.brk:
            j[1] = brk
        for j in loop.cont:
            j[1] = top
        return end

    def c_Loop(self, node: Loop, cond: bool) -> None:
        self.emit("LOOP_PUSH")
        loop = _Loop(self.depth, self.rdepth)
        self.depth += 1
        top = self.here()
        self.node(node.cond, True)
        exit_jump = self.emit("JT" if node.until else "JF", None)
        self.loops.append(loop)
        self.node(node.body, cond)
        self.loops.pop()
        self.depth -= 1
        exit_jump[1] = self._loop_tail(loop, top)

    def c_For(self, node: For, cond: bool) -> None:
        nsubs = self._subs(node.words or [])
        self.emit("FOR_INIT", node, nsubs)
        loop = _Loop(self.depth, self.rdepth)
        self.depth += 1
        top = self.here()
        nxt = self.emit("FOR_NEXT", node.var, None)
        self.loops.append(loop)
        self.node(node.body, cond)
        self.loops.pop()
        self.depth -= 1
        nxt[2] = self._loop_tail(loop, top)

    def c_Case(self, node: Case, cond: bool) -> None:
        nsubs = self._subs([node.word])
        self.emit("CASE_PUSH", node.word, nsubs)
        tests = []
        for patterns, _ in node.arms:
            tests.append(self.emit("CASE_TEST", patterns, None))
        self.emit("POP")
        self.emit("STATUS", 0)
        ends = [self.emit("JMP", None)]
        for test, (_, body) in zip(tests, node.arms):
            test[2] = self.here()
            self.emit("POP")
            self.emit("STATUS", 0)
            self.node(body, cond)
            ends.append(self.emit("JMP", None))
        for j in ends:
            j[1] = self.here()


@lru_cache(maxsize=256)
def compile_source(src: str) -> tuple[Unit, ...]:
    """Compile a script; a syntax error becomes a `SYNTAX` instruction where ash would
    meet it (after the lines before it have run)."""
    lines, err = parse_program(src)
    compiler = Compiler()
    compiler.units.append([])
    main = _UnitCompiler(compiler, 0)
    for line in lines:
        main.node(line, cond=False)
    if err is not None:
        main.emit("SYNTAX", err.msg, err.line)
    main.code[:] = [tuple(i) for i in main.code]
    return tuple(compiler.units)
