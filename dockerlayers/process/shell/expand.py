"""Word expansion: parameters, `$(...)` results, arithmetic, field splitting on IFS,
pathname expansion (through the container's RootFS) and quote removal — POSIX 2.6 order.

`$(...)` bodies have already run (the VM runs them as frames before the command); their
outputs arrive here, in order, through `subs`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from typing import Any

from .arith import ArithError, evaluate


class ExpandError(Exception):
    """An expansion error; ash prints `sh: <msg>` and a non-interactive shell exits 2."""


_GLOB_CHARS = set("*?[")


def escape_glob(text: str) -> str:
    return "".join(f"[{c}]" if c in _GLOB_CHARS else c for c in text)


class Expander:
    """Expands words for one command. `lookup(name)` gives a variable (None if unset),
    `special(name)` a special parameter ($? $$ $# $! $- $0 and positionals), `assign`
    sets a variable; `fs` (the RootFS: listdir, lexists) enables pathname expansion."""

    def __init__(
        self,
        lookup: Callable[[str], str | None],
        assign: Callable[[str, str], None],
        params: list[str],
        special: Callable[[str], str | None],
        subs: Iterator[str],
        fs: object | None = None,
        cwd: str = "/",
        nounset: bool = False,
    ) -> None:
        self.lookup = lookup
        self.assign = assign
        self.params = params
        self.special = special
        self.subs = subs
        self.fs: Any = fs
        self.cwd = cwd
        self.nounset = nounset

    # -- values --------------------------------------------------------------------------
    def _get(self, name: str) -> str | None:
        if name in ("@", "*"):
            return " ".join(self.params) if self.params else None
        if not (name[0].isalpha() or name[0] == "_"):
            return self.special(name)
        return self.lookup(name)

    def _param(self, part: tuple) -> str:
        _, name, op, arg, _quoted = part
        value = self._get(name)
        if name == "*" and self.params:
            ifs = self.lookup("IFS")
            value = (ifs[:1] if ifs is not None else " ").join(self.params)
        if op is None:
            if value is None and self.nounset and name not in ("@", "*"):
                raise ExpandError(f"{name}: parameter not set")
            return value or ""
        if op == "len":
            return str(len(value or ""))
        colon = op.startswith(":") and len(op) == 2
        base = op[-1]
        missing = value is None or (colon and value == "")
        if base == "-":
            return self.string(arg) if missing else value  # type: ignore[return-value]
        if base == "=":
            if missing:
                value = self.string(arg)
                self.assign(name, value)
            return value  # type: ignore[return-value]
        if base == "?":
            if missing:
                msg = (
                    self.string(arg)
                    if arg
                    else ("parameter not set or null" if colon else "parameter not set")
                )
                raise ExpandError(f"{name}: {msg}")
            return value  # type: ignore[return-value]
        if base == "+":
            return "" if missing else self.string(arg)
        # pattern removal: # ## % %%
        pat = self.pattern(arg or [])
        value = value or ""
        n = len(value)
        if op in ("#", "##"):
            rng = range(n + 1) if op == "#" else range(n, -1, -1)
            for i in rng:
                if fnmatch.fnmatchcase(value[:i], pat):
                    return value[i:]
        else:
            rng = range(n, -1, -1) if op == "%" else range(n + 1)
            for i in rng:
                if fnmatch.fnmatchcase(value[i:], pat):
                    return value[:i]
        return value

    def _value(self, part: tuple) -> str:
        kind = part[0]
        if kind == "param":
            return self._param(part)
        if kind == "cmdsub":
            return next(self.subs, "")
        if kind == "arith":
            text = self.string(part[1])
            try:
                return str(evaluate(text, self.lookup, self.assign))
            except ArithError as err:
                raise ExpandError(str(err)) from None
        if kind == "tilde":
            return self.lookup("HOME") or "/" if not part[1] else "~" + part[1]
        raise AssertionError(kind)  # pragma: no cover

    # -- forms ---------------------------------------------------------------------------
    def string(self, word: list | None) -> str:
        """Expand without field splitting or globbing (assignments, redirections, case)."""
        out = []
        for part in word or []:
            out.append(part[1] if part[0] == "lit" else self._value(part))
        return "".join(out)

    def pattern(self, word: list) -> str:
        """Expand to an fnmatch pattern: quoted text matches itself literally."""
        out = []
        for part in word:
            if part[0] == "lit":
                out.append(escape_glob(part[1]) if part[2] else part[1])
            else:
                value = self._value(part)
                quoted = part[-1] if part[0] != "tilde" else True
                out.append(escape_glob(value) if quoted else value)
        return "".join(out)

    def fields(self, word: list) -> list[str]:
        """Expand to fields: split unquoted results on IFS, then glob, then unquote."""
        out: list[list[tuple[str, bool]]] = []
        cur: list[tuple[str, bool]] = []
        has = False

        def finish() -> None:
            nonlocal cur, has
            if has:
                out.append(cur)
            cur, has = [], False

        for part in word:
            kind = part[0]
            if kind == "lit":
                cur.append((part[1], part[2]))
                has = has or part[2] or bool(part[1])
                continue
            if kind == "param" and part[1] == "@" and part[2] is None and part[4]:
                for i, p in enumerate(self.params):
                    if i:
                        finish()
                    cur.append((p, True))
                    has = True
                continue
            value = self._value(part)
            quoted = True if kind == "tilde" else part[-1]
            if quoted:
                cur.append((value, True))
                has = True
                continue
            if kind == "param" and part[1] in ("@", "*") and part[2] is None:
                chunks = self.params
            else:
                chunks = [value]
            for ci, chunk in enumerate(chunks):
                if ci:
                    finish()
                for k, piece in enumerate(self._split(chunk)):
                    if k:
                        finish()
                    if piece:
                        cur.append((piece, False))
                        has = True
        finish()
        result: list[str] = []
        for segs in out:
            result.extend(self._glob(segs))
        return result

    def _split(self, value: str) -> list[str]:
        ifs = self.lookup("IFS")
        if ifs is None:
            ifs = " \t\n"
        if not ifs:
            return [value]
        ws = "".join(c for c in ifs if c in " \t\n")
        other = "".join(c for c in ifs if c not in " \t\n")
        alts = []
        if other:
            w = f"[{re.escape(ws)}]*" if ws else ""
            alts.append(f"{w}[{re.escape(other)}]{w}")
        if ws:
            alts.append(f"[{re.escape(ws)}]+")
        return re.split("|".join(alts), value)

    def _glob(self, segs: list[tuple[str, bool]]) -> list[str]:
        text = "".join(t for t, _ in segs)
        if self.fs is None or not any(not q and any(c in _GLOB_CHARS for c in t) for t, q in segs):
            return [text]
        pattern = "".join(escape_glob(t) if q else t for t, q in segs)
        matches = self._match(pattern)
        return matches or [text]

    def _real(self, path: str) -> str:
        if path.startswith("/"):
            return path
        return self.cwd.rstrip("/") + "/" + path if path else self.cwd

    def _match(self, pattern: str) -> list[str]:
        fs = self.fs
        assert fs is not None
        lead = "/" if pattern.startswith("/") else ""
        comps = [c for c in pattern.split("/") if c]
        results = [""]
        for i, comp in enumerate(comps):
            sep = "" if i == len(comps) - 1 else "/"
            nxt = []
            for base in results:
                if not any(c in _GLOB_CHARS for c in comp):
                    cand = base + re.sub(r"\[(.)\]", r"\1", comp)
                    if fs.lexists(self._real(lead + cand)):
                        nxt.append(cand + sep)
                    continue
                try:
                    names = fs.listdir(self._real(lead + base) or "/")
                except OSError:
                    continue
                for name in names:
                    if name.startswith(".") and not comp.startswith("."):
                        continue
                    if fnmatch.fnmatchcase(name, comp):
                        nxt.append(base + name + sep)
            results = nxt
        return sorted(lead + r for r in results)
