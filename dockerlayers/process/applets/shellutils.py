"""Applets scripts lean on: readlink realpath truncate which expr xargs, each checked against
Debian's busybox 1.35.0."""

from __future__ import annotations

import posixpath
import re
import stat as st_mod

from .binary import _dd_num
from .context import AppletContext, Exec
from .coreutils import _text
from .registry import applet, usage


def _resolve(ctx: AppletContext, path: str, must_exist: bool) -> str | None:
    """realpath(3): every symlink followed; None if a part is missing (the last may be
    missing unless `must_exist`, as readlink -f allows)."""
    parts = [p for p in ctx.path(path).split("/") if p]
    done = "/"
    for _ in range(1000):
        if not parts:
            return done
        p = parts.pop(0)
        if p == ".":
            continue
        if p == "..":
            done = posixpath.dirname(done) or "/"
            continue
        cand = posixpath.join(done, p)
        try:
            if ctx.rootfs.islink(cand):
                target = ctx.rootfs.readlink(cand)
                parts = [x for x in target.split("/") if x] + parts
                if target.startswith("/"):
                    done = "/"
                continue
            ctx.rootfs.lstat(cand)
        except OSError:
            if must_exist or parts:
                return None
        done = cand
    return None


@applet("readlink")
def readlink(ctx: AppletContext, argv: list[str]) -> int:
    """busybox readlink [-fnv] FILE: a link's target, or (-f) the canonical path."""
    opts = set()
    files = []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1:
            opts.update(a[1:])
        else:
            files.append(a)
    if len(files) != 1:
        usage(ctx)
        return 1
    end = "" if "n" in opts else "\n"
    if "f" in opts:
        got = _resolve(ctx, files[0], False)
        if got is None:
            return 1
        ctx.out(got + end)
        return 0
    try:
        ctx.out(ctx.rootfs.readlink(ctx.path(files[0])) + end)
    except OSError:
        return 1
    return 0


@applet("realpath")
def realpath(ctx: AppletContext, argv: list[str]) -> int:
    files = argv[1:]
    if not files:
        usage(ctx)
        return 1
    status = 0
    for f in files:
        got = _resolve(ctx, f, True)
        if got is None:
            ctx.error(f"{f}: No such file or directory")
            status = 1
            continue
        ctx.out(got + "\n")
    return status


@applet("truncate")
def truncate(ctx: AppletContext, argv: list[str]) -> int:
    """busybox truncate [-c] -s [+|-]SIZE FILE..."""
    args = argv[1:]
    size_s = None
    create = True
    files = []
    while args:
        a = args.pop(0)
        if a == "-c":
            create = False
        elif a.startswith("-s"):
            size_s = a[2:] or (args.pop(0) if args else None)
        else:
            files.append(a)
    if size_s is None or not files:
        usage(ctx)
        return 1
    n = _dd_num(size_s)  # busybox's size suffixes (k K M G kB MB GB b), no +/- sizes
    if n is None:
        ctx.error(f"invalid number '{size_s}'")
        return 1
    status = 0
    for f in files:
        path = ctx.path(f)
        try:
            old = ctx.rootfs.read_bytes(path)
        except FileNotFoundError:
            if not create:
                continue
            old = b""
        except OSError as e:
            ctx.error(f"{f}: {e.strerror}")
            status = 1
            continue
        new = old[:n] + b"\0" * max(0, n - len(old))
        try:
            with ctx.rootfs.open(path, "wb") as fh:
                fh.write(new)
        except OSError as e:
            ctx.error(f"{f}: {e.strerror}")
            status = 1
    return status


@applet("which")
def which(ctx: AppletContext, argv: list[str]) -> int:
    """busybox which [-a] COMMAND...: the files in PATH (applets without a file are not
    found, as busybox's which looks only at PATH)."""
    names = [a for a in argv[1:] if a != "-a"]
    every = "-a" in argv[1:]
    if not names:
        usage(ctx)
        return 1
    status = 0
    path_var = ctx.env.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    for name in names:
        found = False
        cands = (
            [name] if "/" in name else [posixpath.join(d or ".", name) for d in path_var.split(":")]
        )
        for c in cands:
            try:
                st = ctx.rootfs.stat(ctx.path(c))
            except OSError:
                continue
            if st_mod.S_ISREG(st.st_mode) and st.st_mode & 0o111:
                ctx.out(c + "\n")
                found = True
                if not every:
                    break
        status |= 0 if found else 1
    return status


# -- expr -------------------------------------------------------------------------------------
class _ExprError(Exception):
    pass


def _expr_int(v: str) -> int | None:
    return int(v) if re.fullmatch(r"-?\d+", v) else None


@applet("expr")
def expr(ctx: AppletContext, argv: list[str]) -> int:
    """busybox expr: | & = > >= < <= != + - * / % : ( ) length substr index match."""
    toks = argv[1:]
    pos = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(toks):
            raise _ExprError("syntax error")
        pos += 1
        return toks[pos - 1]

    def truth(v: str) -> bool:
        return v not in ("", "0") and _expr_int(v) != 0

    def arith(a: str, b: str, op: str) -> str:
        x, y = _expr_int(a), _expr_int(b)
        if x is None or y is None:
            raise _ExprError("non-numeric argument")
        if op in "/%" and y == 0:
            raise _ExprError("division by zero")
        if op == "+":
            return str(x + y)
        if op == "-":
            return str(x - y)
        if op == "*":
            return str(x * y)
        q = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)
        return str(q if op == "/" else x - q * y)

    def primary() -> str:
        t = take()
        if t == "(":
            v = or_()
            if take() != ")":
                raise _ExprError("syntax error")
            return v
        if t == "length":
            return str(len(take()))
        if t == "substr":
            s, p, n = take(), _expr_int(take()), _expr_int(take())
            if p is None or n is None or p < 1 or n < 1:
                return ""
            return s[p - 1 : p - 1 + n]
        if t == "index":
            s, chars = take(), take()
            return str(min((s.index(c) + 1 for c in chars if c in s), default=0))
        if t == "match":
            return match(take(), take())
        return t

    def match(s: str, pat: str) -> str:
        from .regex import RegexError, compile_posix

        try:
            rx = compile_posix(pat, False)
        except RegexError as e:
            raise _ExprError(str(e)) from None
        m = rx.match(s)
        if rx.groups:
            return (m.group(1) or "") if m else ""
        return str(m.end()) if m else "0"

    def colon() -> str:
        v = primary()
        while peek() == ":":
            take()
            v = match(v, primary())
        return v

    def mul() -> str:
        v = colon()
        while peek() in ("*", "/", "%"):
            op = take()
            v = arith(v, colon(), op)
        return v

    def add() -> str:
        v = mul()
        while peek() in ("+", "-"):
            op = take()
            v = arith(v, mul(), op)
        return v

    def cmp() -> str:
        v = add()
        while peek() in ("=", "==", "!=", "<", "<=", ">", ">="):
            op = take()
            w = add()
            x, y = _expr_int(v), _expr_int(w)
            a, b = (x, y) if x is not None and y is not None else (v, w)
            res = {
                "=": a == b,
                "==": a == b,
                "!=": a != b,
                "<": a < b,  # type: ignore[operator]
                "<=": a <= b,  # type: ignore[operator]
                ">": a > b,  # type: ignore[operator]
                ">=": a >= b,  # type: ignore[operator]
            }[op]
            v = "1" if res else "0"
        return v

    def and_() -> str:
        v = cmp()
        while peek() == "&":
            take()
            w = cmp()
            v = v if truth(v) and truth(w) else "0"
        return v

    def or_() -> str:
        v = and_()
        while peek() == "|":
            take()
            w = and_()
            v = v if truth(v) else (w if truth(w) else "0")
        return v

    if not toks:
        ctx.error("too few arguments")
        return 2
    try:
        v = or_()
        if pos != len(toks):
            raise _ExprError("syntax error")
    except _ExprError as e:
        ctx.error(str(e))
        return 2
    ctx.out(v + "\n")
    return 0 if truth(v) else 1


@applet("xargs")
def xargs(ctx: AppletContext, argv: list[str]) -> int | Exec:
    """busybox xargs [-n N] [-0] [-t] [-r] [PROG ARGS]: runs PROG (default echo) with the
    words of stdin. One run is handed to the machine (as `env` does); more than one (-n)
    runs them as a shell loop would, through `sh -c` with the words quoted."""
    args = argv[1:]
    per: int | None = None
    zero = trace = no_run_empty = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        a = args.pop(0)
        if a == "--":
            break
        if a.startswith("-n"):
            per = int(a[2:] or (args.pop(0) if args else "0"))
        elif a == "-0":
            zero = True
        elif a == "-t":
            trace = True
        elif a == "-r":
            no_run_empty = True
        else:
            ctx.error(f"invalid option -- '{a[1:2]}'")
            usage(ctx)
            return 1
    prog = args or ["echo"]
    data = _text(ctx.stdin())
    words = [w for w in data.split("\0")] if zero else _xargs_words(data)
    if zero and words and words[-1] == "":
        words.pop()
    if not words and no_run_empty:
        return 0
    runs = [words] if not per else [words[k : k + per] for k in range(0, len(words), per)] or [[]]
    if len(runs) == 1:
        if trace:
            ctx.err(" ".join(prog + runs[0]) + "\n")
        return Exec(prog + runs[0], dict(ctx.env))
    script = "s=0\n" + "".join(
        ("echo " + _quote(" ".join(prog + r)) + " >&2; " if trace else "")
        + " ".join(_quote(w) for w in prog + r)
        + " || s=123\n"
        for r in runs
    )
    return Exec(["sh", "-c", script + "exit $s\n"], dict(ctx.env))


def _quote(w: str) -> str:
    return "'" + w.replace("'", "'\\''") + "'"


def _xargs_words(data: str) -> list[str]:
    """Words as xargs reads them: blanks separate, quotes and backslash escape."""
    words, cur, i, have = [], [], 0, False
    while i < len(data):
        c = data[i]
        if c in "'\"":
            end = data.find(c, i + 1)
            end = len(data) if end < 0 else end
            cur.append(data[i + 1 : end])
            have = True
            i = end + 1
            continue
        if c == "\\" and i + 1 < len(data):
            cur.append(data[i + 1])
            have = True
            i += 2
            continue
        if c.isspace():
            if have:
                words.append("".join(cur))
                cur, have = [], False
            i += 1
            continue
        cur.append(c)
        have = True
        i += 1
    if have:
        words.append("".join(cur))
    return words


__all__ = [
    "expr",
    "readlink",
    "realpath",
    "truncate",
    "which",
    "xargs",
]
