"""The lexer of the `sh -c` subset: words (quotes, `$`, backquotes), operators,
redirections and here-documents, read on demand as ash reads them.

Command substitutions are parsed by the parser that drives the lexer (`self._subparser`).

busybox: shell/ash.c (readtoken, readtoken1, parsesub, parsebackq, readheredoc).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ast import List, Redir, Word

RESERVED = frozenset(
    [
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "do",
        "done",
        "case",
        "esac",
        "while",
        "until",
        "for",
        "in",
        "{",
        "}",
        "!",
    ]
)
_OPS = ("&&", "||", ";;", ";", "&", "|", "(", ")")
_REDIR_OPS = ("<<-", "<<", ">>", ">|", ">&", "<&", "<>", ">", "<")
_META = set(" \t\n;&|()<>")
_SPECIAL_PARAMS = set("?$#@*!-0123456789")


class ShellSyntaxError(Exception):
    """A syntax error; `str()` is ash's text without the `sh: ` prefix."""

    def __init__(self, msg: str, line: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.line = line


@dataclass
class Token:
    kind: str  # word | op | redir | newline | eof
    value: str  # the operator, or the literal text for words
    parts: Word | None = None
    fd: int = -1
    line: int = 0

    def describe(self) -> str:
        """ash's tokname(): quoted for operators and keywords."""
        if self.kind == "eof":
            return "end of file"
        if self.kind == "newline":
            return "newline"
        if self.kind == "redir":
            return "redirection"
        if self.kind == "word":
            kw = self.keyword()
            return f'"{kw}"' if kw else "word"
        return f'"{self.value}"'

    def keyword(self) -> str | None:
        if self.kind == "word" and self.parts and len(self.parts) == 1:
            p = self.parts[0]
            if p[0] == "lit" and not p[2] and p[1] in RESERVED:
                return p[1]
        return None


def is_name(s: str) -> bool:
    return bool(s) and (s[0].isalpha() or s[0] == "_") and all(c.isalnum() or c == "_" for c in s)


def _add_lit(parts: Word, text: str, quoted: bool) -> None:
    if not text:
        return
    if parts and parts[-1][0] == "lit" and parts[-1][2] == quoted:
        parts[-1] = ("lit", parts[-1][1] + text, quoted)
    else:
        parts.append(("lit", text, quoted))


class Lexer:
    """Tokens of a source string, read on demand; the base of `Parser`."""

    def __init__(self, src: str, pos: int = 0, line: int = 1) -> None:
        self.src = src
        self.pos = pos
        self.line = line
        self._peeked: Token | None = None
        self._heredocs: list[tuple[Redir, str, bool, bool]] = []

    def _subparser(self, src: str, pos: int, line: int) -> Any:
        """A parser of the same kind for a command substitution or here-document body."""
        return type(self)(src, pos, line)

    # -- errors ------------------------------------------------------------------------
    def _unexpected(self, tok: Token, expecting: str | None = None) -> ShellSyntaxError:
        msg = f"syntax error: unexpected {tok.describe()}"
        if expecting:
            msg += f' (expecting "{expecting}")'
        return ShellSyntaxError(msg, tok.line)

    # -- lexer -------------------------------------------------------------------------
    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = self._lex()
        return self._peeked

    def next(self) -> Token:
        tok = self.peek()
        self._peeked = None
        return tok

    def _lex(self) -> Token:
        s = self.src
        while True:
            while self.pos < len(s) and s[self.pos] in " \t":
                self.pos += 1
            if s.startswith("\\\n", self.pos):
                self.pos += 2
                self.line += 1
                continue
            if self.pos < len(s) and s[self.pos] == "#":
                while self.pos < len(s) and s[self.pos] != "\n":
                    self.pos += 1
            break
        line = self.line
        if self.pos >= len(s):
            return Token("eof", "", line=line)
        c = s[self.pos]
        if c == "\n":
            self.pos += 1
            self.line += 1
            self._read_heredocs()
            return Token("newline", "\n", line=line)
        # IO number: digits directly followed by < or >
        j = self.pos
        while j < len(s) and s[j].isdigit():
            j += 1
        if j > self.pos and j < len(s) and s[j] in "<>":
            fd = int(s[self.pos : j])
            self.pos = j
            return self._lex_redir(fd, line)
        if c in "<>":
            return self._lex_redir(-1, line)
        for op in _OPS:
            if s.startswith(op, self.pos):
                self.pos += len(op)
                return Token("op", op, line=line)
        parts, raw = self._lex_word()
        return Token("word", raw, parts=parts, line=line)

    def _lex_redir(self, fd: int, line: int) -> Token:
        for op in _REDIR_OPS:
            if self.src.startswith(op, self.pos):
                self.pos += len(op)
                if fd < 0:
                    fd = 0 if op[0] == "<" and op != "<>" else 1
                    if op == "<>":
                        fd = 0
                return Token("redir", op, fd=fd, line=line)
        raise AssertionError("not a redirection")  # pragma: no cover

    def _lex_word(self) -> tuple[Word, str]:
        s = self.src
        start = self.pos
        parts: Word = []
        if s[self.pos] == "~":
            j = self.pos + 1
            while j < len(s) and (s[j].isalnum() or s[j] in "_-.") and s[j] != "/":
                j += 1
            if j >= len(s) or s[j] == "/" or s[j] in _META:
                parts.append(("tilde", s[self.pos + 1 : j]))
                self.pos = j
        while self.pos < len(s):
            c = s[self.pos]
            if c in _META:
                break
            if c == "\\":
                if self.pos + 1 >= len(s):
                    _add_lit(parts, "\\", False)
                    self.pos += 1
                elif s[self.pos + 1] == "\n":
                    self.pos += 2
                    self.line += 1
                else:
                    _add_lit(parts, s[self.pos + 1], True)
                    self.pos += 2
            elif c == "'":
                end = s.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("syntax error: unterminated quoted string", self.line)
                text = s[self.pos + 1 : end]
                self.line += text.count("\n")
                parts.append(("lit", text, True))
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                inner = self._lex_dquoted('"')
                if not inner:
                    parts.append(("lit", "", True))
                parts.extend(inner)
            elif c == "$":
                self._lex_dollar(parts, quoted=False)
            elif c == "`":
                parts.append(("cmdsub", self._lex_backquote(), False))
            else:
                j = self.pos
                while j < len(s) and s[j] not in _META and s[j] not in "\\'\"$`":
                    j += 1
                _add_lit(parts, s[self.pos : j], False)
                self.pos = j
        return parts, s[start : self.pos]

    def _lex_dquoted(self, end: str | None) -> Word:
        """Inside "...": only $ ` \\ are special (`end` None: a here-document body)."""
        s = self.src
        parts: Word = []
        while True:
            if self.pos >= len(s):
                if end is None:
                    return parts
                raise ShellSyntaxError("syntax error: unterminated quoted string", self.line)
            c = s[self.pos]
            if end is not None and c == end:
                self.pos += 1
                return parts
            if c == "\\" and self.pos + 1 < len(s):
                nxt = s[self.pos + 1]
                if nxt == "\n":
                    self.line += 1
                    self.pos += 2
                    continue
                if nxt in "$`\\" or (nxt == '"' and end is not None):
                    _add_lit(parts, nxt, True)
                else:
                    _add_lit(parts, "\\" + nxt, True)
                self.pos += 2
            elif c == "$":
                self._lex_dollar(parts, quoted=True)
            elif c == "`":
                parts.append(("cmdsub", self._lex_backquote(), True))
            else:
                if c == "\n":
                    self.line += 1
                _add_lit(parts, c, True)
                self.pos += 1

    def _lex_backquote(self) -> List:
        s = self.src
        self.pos += 1
        buf = []
        while True:
            if self.pos >= len(s):
                raise ShellSyntaxError(
                    'syntax error: unexpected end of file (expecting "`")', self.line
                )
            c = s[self.pos]
            if c == "`":
                self.pos += 1
                break
            if c == "\\" and self.pos + 1 < len(s) and s[self.pos + 1] in "$`\\":
                buf.append(s[self.pos + 1])
                self.pos += 2
                continue
            buf.append(c)
            self.pos += 1
        sub = self._subparser("".join(buf), 0, self.line)
        body = sub.parse_list_until(())
        tok = sub.peek()
        if tok.kind != "eof":
            raise sub._unexpected(tok)
        return body

    def _lex_dollar(self, parts: Word, quoted: bool) -> None:
        s = self.src
        i = self.pos + 1
        if s.startswith("((", i):
            self.pos = i + 2
            depth = 0
            start = self.pos
            while True:
                if self.pos >= len(s):
                    raise ShellSyntaxError(
                        'syntax error: unexpected end of file (expecting "))")', self.line
                    )
                c = s[self.pos]
                if c == "(":
                    depth += 1
                elif c == ")":
                    if depth == 0 and s.startswith("))", self.pos):
                        break
                    depth -= 1
                self.pos += 1
            text = s[start : self.pos]
            self.pos += 2
            inner = self._subparser(text, 0, self.line)
            inner_parts = inner._lex_dquoted(None)
            parts.append(("arith", inner_parts, quoted))
            return
        if i < len(s) and s[i] == "(":
            sub = self._subparser(s, i + 1, self.line)
            body = sub.parse_list_until(())
            tok = sub.next()
            if tok.kind != "op" or tok.value != ")":
                raise sub._unexpected(tok, ")")
            self.pos = sub.pos
            self.line = sub.line
            parts.append(("cmdsub", body, quoted))
            return
        if i < len(s) and s[i] == "{":
            self._lex_brace_param(parts, quoted)
            return
        if i < len(s) and s[i] in _SPECIAL_PARAMS:
            parts.append(("param", s[i], None, None, quoted))
            self.pos = i + 1
            return
        j = i
        while j < len(s) and (s[j].isalnum() or s[j] == "_"):
            j += 1
        if j > i and not s[i].isdigit():
            parts.append(("param", s[i:j], None, None, quoted))
            self.pos = j
            return
        _add_lit(parts, "$", quoted)
        self.pos = i

    def _lex_brace_param(self, parts: Word, quoted: bool) -> None:
        s = self.src
        i = self.pos + 2
        length = False
        if i < len(s) and s[i] == "#" and i + 1 < len(s) and s[i + 1] not in "}":
            length = True
            i += 1
        j = i
        if j < len(s) and s[j] in _SPECIAL_PARAMS:
            j += 1
            if s[i].isdigit():
                while j < len(s) and s[j].isdigit():
                    j += 1
        else:
            while j < len(s) and (s[j].isalnum() or s[j] == "_"):
                j += 1
        name = s[i:j]
        if not name or j >= len(s):
            raise ShellSyntaxError(
                "syntax error: missing '}'" if j >= len(s) else "syntax error: bad substitution",
                self.line,
            )
        if length:
            if s[j] != "}":
                raise ShellSyntaxError("syntax error: bad substitution", self.line)
            parts.append(("param", name, "len", None, quoted))
            self.pos = j + 1
            return
        if s[j] == "}":
            parts.append(("param", name, None, None, quoted))
            self.pos = j + 1
            return
        op = None
        for cand in (":-", ":=", ":?", ":+", "##", "%%", "-", "=", "?", "+", "#", "%"):
            if s.startswith(cand, j):
                op = cand
                break
        if op is None:
            raise ShellSyntaxError("syntax error: bad substitution", self.line)
        self.pos = j + len(op)
        arg = self._lex_param_arg(quoted)
        parts.append(("param", name, op, arg, quoted))

    def _lex_param_arg(self, quoted: bool) -> Word:
        """The word after the operator in ${x:-word}, up to the matching `}`."""
        s = self.src
        parts: Word = []
        while True:
            if self.pos >= len(s):
                raise ShellSyntaxError("syntax error: missing '}'", self.line)
            c = s[self.pos]
            if c == "}":
                self.pos += 1
                return parts
            if c == "\\" and self.pos + 1 < len(s):
                _add_lit(parts, s[self.pos + 1], True)
                self.pos += 2
            elif c == "'" and not quoted:
                end = s.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("syntax error: unterminated quoted string", self.line)
                parts.append(("lit", s[self.pos + 1 : end], True))
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                inner = self._lex_dquoted('"')
                parts.extend(inner or [("lit", "", True)])
            elif c == "$":
                self._lex_dollar(parts, quoted)
            elif c == "`":
                parts.append(("cmdsub", self._lex_backquote(), quoted))
            else:
                if c == "\n":
                    self.line += 1
                _add_lit(parts, c, quoted)
                self.pos += 1

    def _read_heredocs(self) -> None:
        s = self.src
        for redir, delim, strip, quoted in self._heredocs:
            lines = []
            while True:
                if self.pos >= len(s):
                    break
                end = s.find("\n", self.pos)
                if end < 0:
                    end = len(s)
                line = s[self.pos : end]
                self.pos = min(end + 1, len(s))
                self.line += 1
                if strip:
                    line = line.lstrip("\t")
                if line == delim:
                    break
                lines.append(line + "\n")
            body = "".join(lines)
            if quoted:
                redir.target[:] = [("lit", body, True)]
            else:
                redir.target[:] = self._subparser(body, 0, self.line)._lex_dquoted(None) or [
                    ("lit", "", True)
                ]
        self._heredocs = []
