"""`$((...))`: shell arithmetic on 64-bit signed integers (C precedence, assignments).

busybox: shell/math.c. Errors are ash's: `arithmetic syntax error`, `divide by zero`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z_0-9]*)|"
    r"(<<=|>>=|\*\*|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&^|]=|[-+*/%<>=!~&^|?:()]))"
)


class ArithError(Exception):
    pass


def _wrap(n: int) -> int:
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >> 63 else n


def _number(text: str) -> int:
    try:
        if text.lower().startswith("0x"):
            return int(text, 16)
        if len(text) > 1 and text.startswith("0"):
            return int(text, 8)
        return int(text)
    except ValueError:
        raise ArithError("arithmetic syntax error") from None


_BINARY = [  # (precedence, operators), lowest first; all left-associative
    (4, ("||",)),
    (5, ("&&",)),
    (6, ("|",)),
    (7, ("^",)),
    (8, ("&",)),
    (9, ("==", "!=")),
    (10, ("<", "<=", ">", ">=")),
    (11, ("<<", ">>")),
    (12, ("+", "-")),
    (13, ("*", "/", "%")),
]
_PREC = {op: p for p, ops in _BINARY for op in ops}


def _apply(op: str, a: int, b: int) -> int:
    if op in ("/", "%") and b == 0:
        raise ArithError("divide by zero")
    if op == "/":
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    if op == "%":
        return a - b * _apply("/", a, b)
    return {
        "||": lambda: int(bool(a) or bool(b)),
        "&&": lambda: int(bool(a) and bool(b)),
        "|": lambda: a | b,
        "^": lambda: a ^ b,
        "&": lambda: a & b,
        "==": lambda: int(a == b),
        "!=": lambda: int(a != b),
        "<": lambda: int(a < b),
        "<=": lambda: int(a <= b),
        ">": lambda: int(a > b),
        ">=": lambda: int(a >= b),
        "<<": lambda: a << (b & 63),
        ">>": lambda: a >> (b & 63),
        "+": lambda: a + b,
        "-": lambda: a - b,
        "*": lambda: a * b,
        "**": lambda: a**b if b >= 0 else 0,
    }[op]()


class _Eval:
    def __init__(
        self, text: str, get: Callable[[str], str | None], put: Callable[[str, str], None]
    ) -> None:
        self.toks: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ArithError("arithmetic syntax error")
            pos = m.end()
            if m.group(1):
                self.toks.append(("num", m.group(1)))
            elif m.group(2):
                self.toks.append(("var", m.group(2)))
            else:
                self.toks.append(("op", m.group(3)))
        self.i = 0
        self.get = get
        self.put = put

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take_op(self, *ops: str) -> str | None:
        t = self.peek()
        if t and t[0] == "op" and t[1] in ops:
            self.i += 1
            return t[1]
        return None

    def var(self, name: str) -> int:
        v = self.get(name)
        if v is None or v.strip() == "":
            return 0
        v = v.strip()
        if re.fullmatch(r"-?(0[xX][0-9a-fA-F]+|\d+)", v):
            neg = v.startswith("-")
            n = _number(v.lstrip("-"))
            return -n if neg else n
        return _Eval(v, self.get, self.put).run()

    def run(self) -> int:
        if not self.toks:
            return 0
        v = self.assign()
        if self.peek() is not None:
            raise ArithError("arithmetic syntax error")
        return v

    def assign(self) -> int:
        t = self.peek()
        nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
        if (
            t
            and t[0] == "var"
            and nxt
            and nxt[0] == "op"
            and nxt[1].endswith("=")
            and nxt[1] not in ("==", "!=", "<=", ">=")
        ):
            self.i += 2
            value = self.assign()
            op = nxt[1][:-1]
            if op:
                value = _apply(op, self.var(t[1]), value)
            value = _wrap(value)
            self.put(t[1], str(value))
            return value
        return self.ternary()

    def ternary(self) -> int:
        c = self.binary(4)
        if self.take_op("?"):
            a = self.assign()
            if not self.take_op(":"):
                raise ArithError("arithmetic syntax error")
            b = self.assign()
            return a if c else b
        return c

    def binary(self, prec: int) -> int:
        if prec > 13:
            return self.power()
        left = self.binary(prec + 1)
        while True:
            t = self.peek()
            if not (t and t[0] == "op" and _PREC.get(t[1]) == prec):
                return left
            self.i += 1
            right = self.binary(prec + 1)
            left = _wrap(_apply(t[1], left, right))

    def power(self) -> int:
        base = self.unary()
        if self.take_op("**"):
            return _wrap(_apply("**", base, self.power()))
        return base

    def unary(self) -> int:
        op = self.take_op("-", "+", "!", "~", "++", "--")
        if op in ("++", "--"):
            t = self.peek()
            if not t or t[0] != "var":
                raise ArithError("arithmetic syntax error")
            self.i += 1
            v = _wrap(self.var(t[1]) + (1 if op == "++" else -1))
            self.put(t[1], str(v))
            return v
        if op:
            v = self.unary()
            return _wrap({"-": -v, "+": v, "!": int(not v), "~": ~v}[op])
        return self.primary()

    def primary(self) -> int:
        t = self.peek()
        if t is None:
            raise ArithError("arithmetic syntax error")
        self.i += 1
        if t[0] == "num":
            return _wrap(_number(t[1]))
        if t[0] == "var":
            post = self.take_op("++", "--")
            v = self.var(t[1])
            if post:
                self.put(t[1], str(_wrap(v + (1 if post == "++" else -1))))
            return v
        if t[1] == "(":
            v = self.assign()
            if not self.take_op(")"):
                raise ArithError("arithmetic syntax error")
            return v
        raise ArithError("arithmetic syntax error")


def evaluate(text: str, get: Callable[[str], str | None], put: Callable[[str, str], None]) -> int:
    """Evaluate an arithmetic expression; variables are read with `get`, assigned with `put`."""
    return _Eval(text, get, put).run()
