"""`test` and `[`: POSIX test with busybox's messages (`test: -lt: argument expected`)."""

from __future__ import annotations

import stat as S

from ..credentials import R, W, X, permitted
from .context import AppletContext
from .registry import applet


class _TestError(Exception):
    pass


_UNARY_FILE = set("efdrwxsLhpSbcugk")


def _int(s: str) -> int:
    try:
        return int(s.strip())
    except ValueError:
        raise _TestError(f"{s}: bad number") from None


class _Test:
    def __init__(self, ctx: AppletContext, args: list[str]) -> None:
        self.ctx = ctx
        self.args = args
        self.i = 0

    def peek(self) -> str | None:
        return self.args[self.i] if self.i < len(self.args) else None

    def take(self) -> str:
        if self.i >= len(self.args):
            raise _TestError(
                f"{self.args[self.i - 1]}: argument expected" if self.i else "argument expected"
            )
        self.i += 1
        return self.args[self.i - 1]

    def expr(self) -> bool:
        v = self.and_()
        while self.peek() == "-o":
            self.i += 1
            v = self.and_() or v
        return v

    def and_(self) -> bool:
        v = self.not_()
        while self.peek() == "-a":
            self.i += 1
            v = self.not_() and v
        return v

    def not_(self) -> bool:
        if self.peek() == "!" and self.i + 1 < len(self.args):
            self.i += 1
            return not self.not_()
        return self.primary()

    def primary(self) -> bool:
        a = self.take()
        rest = len(self.args) - self.i
        if a == "(" and rest:
            v = self.expr()
            if self.take() != ")":
                raise _TestError("missing )")
            return v
        nxt = self.peek()
        if nxt in ("=", "==", "!=", "<", ">") and rest >= 2:
            self.i += 1
            b = self.take()
            return {"=": a == b, "==": a == b, "!=": a != b, "<": a < b, ">": a > b}[nxt]
        if nxt in ("-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef"):
            self.i += 1
            b = self.take()
            if nxt in ("-nt", "-ot", "-ef"):
                return self.compare_files(nxt, a, b)
            x, y = _int(a), _int(b)
            return {
                "-eq": x == y,
                "-ne": x != y,
                "-lt": x < y,
                "-le": x <= y,
                "-gt": x > y,
                "-ge": x >= y,
            }[nxt]
        if len(a) == 2 and a[0] == "-" and (rest or a in ("-n", "-z")):
            op = a[1]
            if op in ("n", "z"):
                s = self.take()
                return bool(s) if op == "n" else not s
            if op in _UNARY_FILE:
                return self.file_test(op, self.take())
            if op == "t":
                self.take()
                return False
        return a != ""

    def file_test(self, op: str, path: str) -> bool:
        fs = self.ctx.rootfs
        full = self.ctx.path(path)
        try:
            st = fs.lstat(full) if op in "Lh" else fs.stat(full)
        except OSError:
            return False
        mode = st.st_mode
        return {
            "e": True,
            "f": S.S_ISREG(mode),
            "d": S.S_ISDIR(mode),
            "L": S.S_ISLNK(mode),
            "h": S.S_ISLNK(mode),
            "p": S.S_ISFIFO(mode),
            "S": S.S_ISSOCK(mode),
            "b": S.S_ISBLK(mode),
            "c": S.S_ISCHR(mode),
            "s": st.st_size > 0,
            # access(2) as the process's uid and groups (root: r/w always, x if any x bit)
            "r": permitted(st, self.ctx.uid, self.ctx.groups, R),
            "w": permitted(st, self.ctx.uid, self.ctx.groups, W),
            "x": permitted(st, self.ctx.uid, self.ctx.groups, X),
            "u": bool(mode & S.S_ISUID),
            "g": bool(mode & S.S_ISGID),
            "k": bool(mode & S.S_ISVTX),
        }[op]

    def compare_files(self, op: str, a: str, b: str) -> bool:
        fs = self.ctx.rootfs
        try:
            sa, sb = fs.stat(self.ctx.path(a)), fs.stat(self.ctx.path(b))
        except OSError:
            return False
        if op == "-nt":
            return sa.st_mtime > sb.st_mtime
        if op == "-ot":
            return sa.st_mtime < sb.st_mtime
        return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


@applet("test", "[", "[[")
def test(ctx: AppletContext, argv: list[str]) -> int:
    args = argv[1:]
    name = argv[0].rsplit("/", 1)[-1]
    if name in ("[", "[["):
        close = "]" if name == "[" else "]]"
        if not args or args[-1] != close:
            ctx.error(f"missing {close}")
            return 2
        args = args[:-1]
    if not args:
        return 1
    t = _Test(ctx, args)
    try:
        result = t.expr()
        if t.i < len(args):
            raise _TestError(f"{args[t.i]}: unknown operand")
    except _TestError as err:
        ctx.error(str(err))
        return 2
    return 0 if result else 1
