"""Parse the `sh -c` subset into the tree of `ast.py`, with busybox ash's error texts.

Like ash, a script is parsed one line (complete command) at a time and each is run before
the next is read, so `echo a; echo b` + a syntax error on line 3 prints a and b first:
`parse_program` returns the commands read before the error and the error itself.

busybox: shell/ash.c (readtoken, parsefname, list/andor/pipeline/command, tokname).
"""

from __future__ import annotations

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
from .lexer import RESERVED, Lexer, ShellSyntaxError, Token, is_name

__all__ = ["RESERVED", "Parser", "ShellSyntaxError", "Token", "is_name", "parse", "parse_program"]


class Parser(Lexer):
    """Recursive-descent parser over a source string; tokens are read on demand."""

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
