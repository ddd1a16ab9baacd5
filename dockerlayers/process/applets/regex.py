"""POSIX regular expressions (glibc's regcomp, as busybox uses them) run by Python's `re`.

A basic (BRE) or extended (ERE) expression is translated, with glibc's errors in glibc's
words (`Unmatched ( or \\(`): in a BRE `\\( \\) \\{ \\} \\| \\+ \\?` are operators and
`( ) { } | + ?` are plain characters; `*` at the start of an expression or group is plain; bracket
expressions take POSIX classes (`[[:digit:]]`) and a backslash in them is itself; `.`
matches a newline and `$` only the very end. Not modelled: POSIX's leftmost-longest
choice between alternatives (Python takes the first that matches).
"""

from __future__ import annotations

import re

_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "0-9a-zA-Z",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": "!-/:-@\\[-`{-~",
    "print": " -~",
    "graph": "!-~",
    "cntrl": "\\x00-\\x1f\\x7f",
    "xdigit": "0-9A-Fa-f",
}
_SPECIAL_IN_CLASS = set("\\]^-[")


class RegexError(Exception):
    """regcomp failed; the text is glibc's regerror for it."""


def _bracket(p: str, i: int) -> tuple[str, int]:
    """A bracket expression starting after `[` at `i`: (Python class, index past `]`)."""
    out = ["["]
    if i < len(p) and p[i] == "^":
        out.append("^")
        i += 1
    first = True
    prev: str | None = None  # the last single character (for a range check)
    while True:
        if i >= len(p):
            raise RegexError("Unmatched [, [^, [:, [., or [=")
        c = p[i]
        if c == "]" and not first:
            return "".join(out) + "]", i + 1
        first = False
        if c == "[" and i + 1 < len(p) and p[i + 1] in ":.=":
            kind = p[i + 1]
            end = p.find(kind + "]", i + 2)
            if end < 0:
                raise RegexError("Unmatched [, [^, [:, [., or [=")
            name = p[i + 2 : end]
            if kind == ":":
                if name not in _CLASSES:
                    raise RegexError("Invalid character class name")
                out.append(_CLASSES[name])
            else:
                out.extend("\\" + ch if ch in _SPECIAL_IN_CLASS else ch for ch in name)
            prev = None
            i = end + 2
            continue
        if c == "-" and prev is not None and i + 1 < len(p) and p[i + 1] != "]":
            hi = p[i + 1]
            if ord(hi) < ord(prev):
                raise RegexError("Invalid range end")
            out.append("-" + ("\\" + hi if hi in _SPECIAL_IN_CLASS else hi))
            prev = None
            i += 2
            continue
        out.append("\\" + c if c in _SPECIAL_IN_CLASS else c)
        prev = c
        i += 1


def translate(p: str, extended: bool) -> str:
    """The Python form of POSIX expression `p` (RegexError as glibc refuses it)."""
    out: list[str] = []
    depth = 0
    groups = 0
    open_groups: list[int] = []
    closed: set[int] = set()
    at_start = True  # where `*` is a plain character (BRE) or an error (ERE)
    i = 0
    n = len(p)

    def repeat_ok() -> None:
        if at_start:
            raise RegexError("Invalid preceding regular expression")
        last = out[-1] if out else ""
        if not extended and (last in ("*", "+", "?") or last.startswith("{")):
            raise RegexError("Invalid preceding regular expression")

    while i < n:
        c = p[i]
        if c == "\\":
            if i + 1 >= n:
                raise RegexError("Trailing backslash")
            d = p[i + 1]
            i += 2
            if not extended and d == "(":
                depth += 1
                groups += 1
                open_groups.append(groups)
                out.append("(")
                at_start = True
                continue
            if not extended and d == ")":
                if not depth:
                    raise RegexError("Unmatched ) or \\)")
                depth -= 1
                closed.add(open_groups.pop())
                out.append(")")
                at_start = False
                continue
            if not extended and d == "|":
                out.append("|")
                at_start = True
                continue
            if not extended and d == "{":
                i, q = _interval(p, i, extended)
                repeat_ok()
                out.append(q)
                continue
            if not extended and d in "+?":
                if at_start:
                    out.append("\\" + d)
                    at_start = False
                    continue
                out.append(d)
                continue
            if d.isdigit() and d != "0":
                k = int(d)
                if k not in closed:
                    raise RegexError("Invalid back reference")
                out.append(f"(?:\\{k})")
                at_start = False
                continue
            if d == "<":
                out.append(r"\b(?=\w)")
            elif d == ">":
                out.append(r"\b(?<=\w)")
            elif d in "wWsSbB":
                out.append("\\" + d)
            elif d == "`":
                out.append(r"\A")
            elif d == "'":
                out.append(r"\Z")
            else:
                out.append(re.escape(d))
            at_start = d in "<>bB`'" and at_start
            continue
        if c == "[":
            cls, i = _bracket(p, i + 1)
            out.append(cls)
            at_start = False
            continue
        if c == "*":
            if at_start and not extended:
                out.append(r"\*")
                at_start = False
            else:
                repeat_ok()
                out.append("*")
            i += 1
            continue
        if extended and c in "+?":
            repeat_ok()
            out.append(c)
            i += 1
            continue
        if extended and c == "{":
            i, q = _interval(p, i + 1, extended)
            repeat_ok()
            out.append(q)
            continue
        if extended and c == "(":
            depth += 1
            groups += 1
            open_groups.append(groups)
            out.append("(")
            at_start = True
            i += 1
            continue
        if extended and c == ")":
            i += 1
            if not depth:
                out.append(r"\)")
                at_start = False
                continue
            depth -= 1
            closed.add(open_groups.pop())
            out.append(")")
            at_start = False
            continue
        if extended and c == "|":
            out.append("|")
            at_start = True
            i += 1
            continue
        if c == "^":
            # an anchor at the start of an expression or group (and anywhere in an ERE)
            out.append("^" if (extended or at_start) else r"\^")
            i += 1
            continue
        if c == "$":
            rest = p[i + 1 :]
            anchor = extended or not rest or rest.startswith(("\\)", "\\|"))
            out.append(r"\Z" if anchor else r"\$")
            i += 1
            at_start = False
            continue
        out.append("." if c == "." else re.escape(c))
        at_start = False
        i += 1
    if depth:
        raise RegexError("Unmatched ( or \\(")
    return "".join(out)


def _interval(p: str, i: int, extended: bool) -> tuple[int, str]:
    """`{m,n}` after its opening brace at `i`: (index past it, Python quantifier)."""
    close = "}" if extended else "\\}"
    end = p.find(close, i)
    if end < 0:
        raise RegexError("Unmatched \\{")
    body = p[i:end]
    m = re.fullmatch(r"(\d*)(,(\d*))?", body)
    if not m or (not m.group(1) and not m.group(2)):
        raise RegexError("Invalid content of \\{\\}")
    lo = m.group(1) or "0"
    hi = m.group(3) if m.group(2) else lo
    if hi and int(hi) < int(lo):
        raise RegexError("Invalid content of \\{\\}")
    return end + len(close), "{" + lo + ("," + hi if m.group(2) else "") + "}"


def compile_posix(p: str, extended: bool, icase: bool = False) -> re.Pattern:
    """regcomp(p, REG_EXTENDED if extended, REG_ICASE if icase) as a Python pattern."""
    py = translate(p, extended)
    try:
        return re.compile(py, re.DOTALL | (re.IGNORECASE if icase else 0))
    except re.error as e:
        raise RegexError("Invalid regular expression") from e


__all__ = ["RegexError", "compile_posix", "translate"]
