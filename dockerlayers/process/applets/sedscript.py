"""busybox sed's script parser (editors/sed.c add_cmd, parse_cmd_args): the commands, their
addresses and arguments, with busybox's error words; sed.py runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .regex import RegexError, compile_posix

_SEMI_WS = "; \n\r\t\v"
_CMD_LETTERS = "saicrw:btTydDgGhHlnNpPqx={}"
_NO_EOL = "noeol"  # the last line had no newline


class SedError(Exception):
    """A fatal error: `sed: <message>`, status 1."""


@dataclass
class Cmd:
    cmd: str
    beg_line: int = 0  # 0: none; -1: $; -2: a numbered range already matched
    beg_match: re.Pattern | None = None
    end_line: int = 0  # 0: none; -1: $; <= -2: +N (as -2-N)
    end_match: re.Pattern | None = None
    beg_line_orig: int = 0
    end_line_orig: int = 0
    invert: bool = False
    in_match: bool = False
    string: str | None = None
    sub_match: re.Pattern | None = None
    which_match: int = 1
    sub_p: bool = False
    wfile: str | None = None
    ytable: dict[str, str] = field(default_factory=dict)


def _escapes(text: str) -> str:
    """copy_parsing_escapes: `\\n` `\\t` `\\r` become the characters (others are kept)."""
    for letter, ch in (("n", "\n"), ("t", "\t"), ("r", "\r")):
        out, i = [], 0
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                if text[i + 1] == letter:
                    out.append(ch)
                    i += 2
                    continue
                out.append("\\" + text[i + 1])
                i += 2
                continue
            out.append(c)
            i += 1
        text = "".join(out)
    return text


def _unescape(text: str, frm: str | None) -> str:
    """parse_escapes: `\\<frm>` → frm (or, with None, any `\\x` → x)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and (frm is None or text[i + 1] == frm):
            out.append(text[i + 1])
            i += 2
            continue
        if c == "\\" and i + 1 < len(text):
            out.append(text[i : i + 2])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _next_delim(delim: str, s: str, brackets: bool) -> int:
    """index_of_next_unescaped_regexp_delim: a `[...]` hides delimiters in a regex."""
    bracket = -1
    escaped = False
    for idx, ch in enumerate(s):
        if bracket >= 0:
            if ch == "]" and not (bracket == idx - 1 or (bracket == idx - 2 and s[idx - 1] == "^")):
                bracket = -1
        elif escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif brackets and ch == "[":
            bracket = idx
        elif ch == delim:
            return idx
    raise SedError(f"unmatched '{delim}'")


class Script:
    """A parsed sed script: its commands in order, and what they need at run time."""

    def __init__(self, extended: bool) -> None:
        self.flags = re.DOTALL
        self.extended = extended
        self.cmds: list[Cmd] = []
        self.quiet = 0
        self.previous: re.Pattern | None = None
        self._pending: str | None = None

    def compile(self, pattern: str, icase: bool = False) -> re.Pattern:
        try:
            return compile_posix(pattern, self.extended, icase)
        except RegexError as e:
            raise SedError(f"bad regex '{pattern}': {e}") from None

    def _address(self, s: str, i: int) -> tuple[int, int, re.Pattern | None]:
        """get_address: (next index, line or 0/-1, regex)."""
        if i < len(s) and s[i].isdigit():
            j = i
            while j < len(s) and s[j].isdigit():
                j += 1
            return j, int(s[i:j]), None
        if i < len(s) and s[i] == "$":
            return i + 1, -1, None
        if i < len(s) and s[i] in "/\\":
            delim = "/"
            if s[i] == "\\":
                i += 1
                delim = s[i] if i < len(s) else ""
            i += 1
            n = _next_delim(delim, s[i:], True)
            if n:
                rx = self.compile(_escapes(s[i : i + n]))
                self.previous = rx
            elif self.previous is None:
                raise SedError("no previous regexp")
            else:
                rx = self.previous
            return i + n + 1, 0, rx
        return i, 0, None

    def add(self, line: str) -> None:
        """add_cmd: one line of script (a trailing odd backslash joins the next one)."""
        if self._pending is not None:
            line = self._pending + "\n" + line
            self._pending = None
        stripped = line.rstrip("\\")
        if (len(line) - len(stripped)) % 2:
            self._pending = line[:-1]
            return
        s, i = line, 0
        while i < len(s):
            while i < len(s) and s[i] in _SEMI_WS:
                i += 1
            if i >= len(s):
                break
            if s[i] == "#":
                if s[i + 1 : i + 2] == "n":
                    self.quiet += 1
                nl = [k for k in (s.find("\n", i), s.find("\r", i)) if k >= 0]
                if not nl:
                    break
                i = min(nl)
                continue
            cmd = Cmd("")
            i, cmd.beg_line, cmd.beg_match = self._address(s, i)
            cmd.beg_line_orig = cmd.beg_line
            if i < len(s) and s[i] == ",":
                i += 1
                if i + 1 < len(s) and s[i] == "+" and s[i + 1].isdigit():
                    j = i + 1
                    while j < len(s) and s[j].isdigit():
                        j += 1
                    cmd.end_line = -2 - int(s[i + 1 : j])
                    i = j
                else:
                    j, cmd.end_line, cmd.end_match = self._address(s, i)
                    if j == i:
                        raise SedError("no address after comma")
                    i = j
                cmd.end_line_orig = cmd.end_line
            while i < len(s) and s[i].isspace():
                i += 1
            if i < len(s) and s[i] == "!":
                cmd.invert = True
                i += 1
                while i < len(s) and s[i].isspace():
                    i += 1
            if i >= len(s):
                raise SedError("missing command")
            cmd.cmd = s[i]
            i = self._args(cmd, s, i + 1)
            self.cmds.append(cmd)

    def finish(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.add(pending)

    def _args(self, cmd: Cmd, s: str, i: int) -> int:
        """parse_cmd_args: the command's arguments; the index past them."""
        c = cmd.cmd
        if c not in _CMD_LETTERS:
            raise SedError(f"unsupported command {c}")
        if c == "s":
            return self._subst(cmd, s, i)
        if c in "aic":
            if c in "ai" and (cmd.end_line or cmd.end_match):
                raise SedError(f"command '{c}' uses only one address")
            while i < len(s):
                if s[i] in "\n\\":
                    i += 1
                    break
                if not s[i].isspace():
                    break
                i += 1
            cmd.string = _unescape(_escapes(s[i:]), None)
            return len(s)
        if c in "rw":
            if c == "r" and (cmd.end_line or cmd.end_match):
                raise SedError(f"command '{c}' uses only one address")
            name, i = self._filename(s, i)
            cmd.string = name
            cmd.wfile = name if c == "w" else None
            return i
        if c in ":btT":
            while i < len(s) and s[i].isspace():
                i += 1
            j = i
            while j < len(s) and s[j] not in _SEMI_WS:
                j += 1
            if j > i:
                cmd.string = s[i:j]
            return j
        if c == "y":
            if i >= len(s):
                raise SedError("bad format in substitution expression")
            delim = s[i]
            a_len = _next_delim(delim, s[i + 1 :], False)
            match = _escapes(s[i + 1 : i + 1 + a_len])
            rest = s[i + 2 + a_len :]
            b_len = _next_delim(delim, rest, False)
            repl = _escapes(rest[:b_len])
            match, repl = _unescape(match, delim), _unescape(repl, delim)
            for a, b in zip(match, repl):
                cmd.ytable.setdefault(a, b)
            return i + 2 + a_len + b_len + 1
        return i

    def _filename(self, s: str, i: int) -> tuple[str, int]:
        while i < len(s) and s[i].isspace():
            i += 1
        j = s.find("\n", i)
        j = len(s) if j < 0 else j
        if j == i:
            raise SedError("empty filename")
        return s[i:j], j

    def _subst(self, cmd: Cmd, s: str, i: int) -> int:
        if i >= len(s):
            raise SedError("bad format in substitution expression")
        delim = s[i]
        a_len = _next_delim(delim, s[i + 1 :], True)
        match = _escapes(s[i + 1 : i + 1 + a_len])
        rest_at = i + 2 + a_len
        b_len = _next_delim(delim, s[rest_at:], False)
        cmd.string = _escapes(s[rest_at : rest_at + b_len])
        idx = rest_at + b_len + 1
        icase = False
        while idx < len(s):
            ch = s[idx]
            if ch.isdigit():
                j = idx
                while j < len(s) and s[j].isdigit():
                    j += 1
                if not match.startswith("^"):
                    cmd.which_match = int(s[idx:j])
                idx = j
                continue
            if ch.isspace() and ch != "\n":
                idx += 1
                continue
            if ch == "g":
                if not match.startswith("^"):
                    cmd.which_match = 0
            elif ch == "p":
                cmd.sub_p = True
            elif ch == "w":
                cmd.wfile, idx = self._filename(s, idx + 1)
                continue
            elif ch in "iI":
                icase = True
            elif ch == "#":
                idx = len(s)
                break
            elif ch in ";}\n":
                break
            else:
                raise SedError("bad option in substitution expression")
            idx += 1
        if match:
            cmd.sub_match = self.compile(match, icase)
        return idx
