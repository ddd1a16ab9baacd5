"""Parse the `sh -c` subset into the tree of `ast.py`, with busybox ash's error texts.

Like ash, a script is parsed one line (complete command) at a time and each is run before
the next is read, so `echo a; echo b` + a syntax error on line 3 prints a and b first:
`parse_program` returns the commands read before the error and the error itself.

busybox: shell/ash.c (readtoken, parsefname, list/andor/pipeline/command, tokname).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    Redir,
    Redirected,
    Simple,
    Word,
)

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


class Parser:
    """Recursive-descent parser over a source string; tokens are read on demand."""

    def __init__(self, src: str, pos: int = 0, line: int = 1) -> None:
        self.src = src
        self.pos = pos
        self.line = line
        self._peeked: Token | None = None
        self._heredocs: list[tuple[Redir, str, bool, bool]] = []

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
        sub = Parser("".join(buf), 0, self.line)
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
            inner = Parser(text, 0, self.line)
            inner_parts = inner._lex_dquoted(None)
            parts.append(("arith", inner_parts, quoted))
            return
        if i < len(s) and s[i] == "(":
            sub = Parser(s, i + 1, self.line)
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
                redir.target[:] = Parser(body, 0, self.line)._lex_dquoted(None) or [
                    ("lit", "", True)
                ]
        self._heredocs = []

    # -- grammar -----------------------------------------------------------------------
    def _skip_newlines(self) -> None:
        while self.peek().kind == "newline":
            self.next()

    def _is_op(self, tok: Token, *ops: str) -> bool:
        return tok.kind == "op" and tok.value in ops

    def parse_list_until(self, enders: tuple[str, ...]) -> List:
        """A compound list: and-or lists separated by ; & or newlines, up to a keyword in
        `enders`, a `)`/`;;`, or end of input (not consumed)."""
        items: list[tuple[object, bool]] = []
        self._skip_newlines()
        while True:
            tok = self.peek()
            if tok.kind == "eof" or self._is_op(tok, ")", ";;") or tok.keyword() in enders:
                break
            if tok.keyword() in ("then", "else", "elif", "fi", "do", "done", "esac", "}", "in"):
                break
            andor = self.parse_and_or()
            tok = self.peek()
            bg = False
            if self._is_op(tok, "&", ";"):
                bg = tok.value == "&"
                self.next()
            elif tok.kind == "newline":
                pass
            elif not (tok.kind == "eof" or self._is_op(tok, ")", ";;") or tok.keyword()):
                raise self._unexpected(tok)
            items.append((andor, bg))
            self._skip_newlines()
        return List(items)

    def parse_and_or(self) -> AndOr:
        first = self.parse_pipeline()
        rest = []
        while self._is_op(self.peek(), "&&", "||"):
            op = self.next().value
            self._skip_newlines()
            rest.append((op, self.parse_pipeline()))
        return AndOr(first, rest)

    def parse_pipeline(self) -> Pipeline:
        negate = False
        if self.peek().keyword() == "!":
            self.next()
            negate = True
        cmds = [self.parse_command()]
        while self._is_op(self.peek(), "|"):
            self.next()
            self._skip_newlines()
            cmds.append(self.parse_command())
        return Pipeline(cmds, negate)

    def _expect_kw(self, kw: str) -> Token:
        tok = self.next()
        if tok.keyword() != kw:
            raise self._unexpected(tok, kw)
        return tok

    def _body(self, enders: tuple[str, ...], expecting: str) -> List:
        body = self.parse_list_until(enders)
        if not body.items:
            tok = self.peek()
            raise self._unexpected(tok, expecting if tok.kind == "eof" else None)
        return body

    def parse_command(self) -> object:
        tok = self.peek()
        kw = tok.keyword()
        cmd: object
        if kw == "if":
            cmd = self._parse_if()
        elif kw in ("while", "until"):
            self.next()
            cond = self._body(("do",), "do")
            self._expect_kw("do")
            body = self._body(("done",), "done")
            self._expect_kw("done")
            cmd = Loop(cond, body, until=kw == "until")
        elif kw == "for":
            cmd = self._parse_for()
        elif kw == "case":
            cmd = self._parse_case()
        elif kw == "{":
            self.next()
            body = self._body(("}",), "}")
            self._expect_kw("}")
            cmd = Group(body)
        elif self._is_op(tok, "("):
            self.next()
            body = self.parse_list_until(())
            end = self.next()
            if not self._is_op(end, ")"):
                raise self._unexpected(end, ")")
            if not body.items:
                raise self._unexpected(end)
            cmd = Group(body, subshell=True)
        elif tok.kind in ("word", "redir") and not kw:
            return self._parse_simple()
        else:
            raise self._unexpected(tok)
        redirs = self._parse_redirs()
        return Redirected(cmd, redirs) if redirs else cmd

    def _parse_redirs(self) -> list[Redir]:
        redirs = []
        while self.peek().kind == "redir":
            redirs.append(self._parse_redir(self.next()))
        return redirs

    def _parse_redir(self, tok: Token) -> Redir:
        target = self.next()
        if target.kind != "word":
            raise self._unexpected(target)
        if tok.value in ("<<", "<<-"):
            delim = "".join(p[1] for p in target.parts if p[0] == "lit")
            quoted = any(p[0] == "lit" and p[2] for p in target.parts)
            redir = Redir(tok.fd, "<<", [])
            self._heredocs.append((redir, delim, tok.value == "<<-", quoted))
            return redir
        return Redir(tok.fd, tok.value, target.parts)

    def _parse_simple(self) -> object:
        line = self.peek().line
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirs: list[Redir] = []
        while True:
            tok = self.peek()
            if tok.kind == "redir":
                redirs.append(self._parse_redir(self.next()))
                continue
            if tok.kind != "word":
                break
            if not words and tok.parts and tok.parts[0][0] == "lit" and not tok.parts[0][2]:
                text = tok.parts[0][1]
                name, eq, rest = text.partition("=")
                if eq and is_name(name):
                    self.next()
                    value = ([("lit", rest, False)] if rest else []) + list(tok.parts[1:])
                    assigns.append((name, value))
                    continue
            self.next()
            words.append(tok.parts or [])
            if len(words) == 1 and not assigns and self._is_op(self.peek(), "("):
                return self._parse_funcdef(tok)
        if not words and not assigns and not redirs:
            raise self._unexpected(self.peek())
        return Simple(assigns, words, redirs, line)

    def _parse_funcdef(self, name_tok: Token) -> FuncDef:
        self.next()
        close = self.next()
        if not self._is_op(close, ")"):
            raise self._unexpected(close, ")")
        self._skip_newlines()
        return FuncDef(name_tok.value, self.parse_command())

    def _parse_if(self) -> If:
        self.next()
        branches = []
        cond = self._body(("then",), "then")
        self._expect_kw("then")
        body = self._body(("elif", "else", "fi"), "fi")
        branches.append((cond, body))
        orelse = None
        while True:
            tok = self.next()
            kw = tok.keyword()
            if kw == "elif":
                cond = self._body(("then",), "then")
                self._expect_kw("then")
                body = self._body(("elif", "else", "fi"), "fi")
                branches.append((cond, body))
            elif kw == "else":
                orelse = self._body(("fi",), "fi")
                self._expect_kw("fi")
                break
            elif kw == "fi":
                break
            else:
                raise self._unexpected(tok, "fi")
        return If(branches, orelse)

    def _parse_for(self) -> For:
        line = self.next().line
        name = self.next()
        if name.kind != "word" or not is_name(name.value):
            raise ShellSyntaxError("syntax error: bad for loop variable", name.line)
        self._skip_newlines()
        tok = self.peek()
        words: list[Word] | None = None
        if tok.keyword() == "in":
            self.next()
            words = []
            while self.peek().kind == "word":
                words.append(self.next().parts or [])
            tok = self.next()
            if not (self._is_op(tok, ";") or tok.kind == "newline"):
                raise self._unexpected(tok)
        elif self._is_op(tok, ";"):
            self.next()
        self._skip_newlines()
        self._expect_kw("do")
        body = self._body(("done",), "done")
        self._expect_kw("done")
        return For(name.value, words, body, line)

    def _parse_case(self) -> Case:
        line = self.next().line
        word = self.next()
        if word.kind != "word":
            raise self._unexpected(word)
        self._skip_newlines()
        self._expect_kw("in")
        arms = []
        self._skip_newlines()
        while self.peek().keyword() != "esac":
            tok = self.peek()
            if tok.kind == "eof":
                raise self._unexpected(tok, ")")
            if self._is_op(tok, "("):
                self.next()
            patterns = []
            while True:
                pat = self.next()
                if pat.kind != "word":
                    raise self._unexpected(pat, ")")
                patterns.append(pat.parts or [])
                sep = self.next()
                if self._is_op(sep, ")"):
                    break
                if not self._is_op(sep, "|"):
                    raise self._unexpected(sep, ")")
            body = self.parse_list_until(("esac",))
            arms.append((patterns, body))
            tok = self.peek()
            if self._is_op(tok, ";;"):
                self.next()
                self._skip_newlines()
            elif tok.keyword() != "esac":
                raise self._unexpected(tok, ";;" if tok.kind == "eof" else None)
        self.next()
        return Case(word.parts or [], arms, line)

    def parse_line(self) -> List | None:
        """One complete command (up to a newline); None at end of input."""
        self._skip_newlines()
        if self.peek().kind == "eof":
            return None
        items: list[tuple[object, bool]] = []
        while True:
            tok = self.peek()
            if tok.kind in ("newline", "eof"):
                break
            andor = self.parse_and_or()
            tok = self.peek()
            bg = False
            if self._is_op(tok, "&", ";"):
                bg = tok.value == "&"
                self.next()
            elif tok.kind not in ("newline", "eof"):
                raise self._unexpected(tok)
            items.append((andor, bg))
        return List(items)


def parse_program(src: str) -> tuple[list[List], ShellSyntaxError | None]:
    """Parse a whole script: the lines before the first syntax error, and that error."""
    parser = Parser(src)
    lines: list[List] = []
    try:
        while True:
            line = parser.parse_line()
            if line is None:
                return lines, None
            lines.append(line)
    except ShellSyntaxError as err:
        return lines, err


def parse(src: str) -> List:
    """Parse a whole script or raise ShellSyntaxError."""
    lines, err = parse_program(src)
    if err is not None:
        raise err
    return List([item for line in lines for item in line.items])
