"""Dockerfile parsing: instructions with their line numbers, flags and arguments.

Handles parser directives (`# escape=`), comments, line continuations, JSON (exec) form,
`--flag=value` options, and the word processing the legacy builder applies to arguments
(quotes, escapes, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}`).

moby (20.10): builder/dockerfile/parser/parser.go, parser/line_parsers.go,
builder/dockerfile/instructions/parse.go, builder/dockerfile/shell/lex.go
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

#: The instructions the legacy builder knows (others are a parse error).
KNOWN = frozenset(
    [
        "add",
        "arg",
        "cmd",
        "copy",
        "entrypoint",
        "env",
        "expose",
        "from",
        "healthcheck",
        "label",
        "maintainer",
        "onbuild",
        "run",
        "shell",
        "stopsignal",
        "user",
        "volume",
        "workdir",
    ]
)
#: The flags each instruction accepts (moby: instructions/parse.go, req.flags.Add*).
FLAGS: dict[str, frozenset[str]] = {
    "from": frozenset({"platform"}),
    "copy": frozenset({"from", "chown", "chmod"}),
    "add": frozenset({"chown", "chmod"}),
    "run": frozenset({"mount", "network", "security"}),
    "healthcheck": frozenset({"interval", "timeout", "start-period", "retries"}),
}
#: Flags that parse but need BuildKit (dispatch fails with this text).
BUILDKIT_ONLY = frozenset({"chmod", "mount", "network", "security"})
BUILDKIT_ERROR = (
    "the --{flag} option requires BuildKit. Refer to "
    "https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled"
)


class DockerfileParseError(ValueError):
    """`dockerfile parse error line N: ...` (moby 20.10: instructions.parseError)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"dockerfile parse error line {line}: {message}")
        self.line = line
        self.inner = message


class DockerfileEmptyError(ValueError):
    """A Dockerfile without any instruction (moby: parser.Parse)."""


@dataclass
class Instruction:
    """One instruction: `cmd` lower-case, `original` as written (continuations joined)."""

    cmd: str
    args: str
    line: int
    original: str
    flags: dict[str, str | None] = field(default_factory=dict)
    json_form: list[str] | None = None

    def __str__(self) -> str:
        return self.original


_WS = re.compile(r"[\t\v\f\r ]+")
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")


def parse(text: str) -> tuple[list[Instruction], str]:
    """Split a Dockerfile into instructions; returns (instructions, escape token).

    moby: builder/dockerfile/parser/parser.go Parse
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    escape = "\\"
    i = 0
    seen: set[str] = set()
    # parser directives: only at the very top, each once; anything else ends them
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i].strip())
        if not m or m.group(1).lower() not in ("escape", "syntax"):
            break
        name = m.group(1).lower()
        if name in seen:
            raise DockerfileParseError(i + 1, f"only one {name} parser directive can be used")
        seen.add(name)
        if name == "escape":
            if m.group(2) not in ("\\", "`"):
                raise DockerfileParseError(i + 1, f"invalid ESCAPE '{m.group(2)}'. Must be ` or \\")
            escape = m.group(2)
        i += 1
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")

    def is_comment(s: str) -> bool:
        return s.lstrip(" \t").startswith("#")

    out: list[Instruction] = []
    while i < len(lines):
        start = i
        raw = lines[i].rstrip("\r").lstrip(" \t")
        i += 1
        if raw.startswith("#"):
            continue
        line, more = _trim_continuation(raw, continuation)
        if not more and not line.strip():
            continue
        while more and i < len(lines):
            nxt = lines[i].rstrip("\r")
            i += 1
            if is_comment(nxt):
                continue
            if not nxt.strip():
                continue  # an empty continuation line (a warning in 20.10)
            part, more = _trim_continuation(nxt, continuation)
            line += part
        joined = line.strip()
        if not joined:
            continue
        out.append(_instruction(joined, start + 1))
    if not out:
        raise DockerfileEmptyError("file with no instructions")
    return out, escape


def _trim_continuation(line: str, regex: re.Pattern[str]) -> tuple[str, bool]:
    if regex.search(line):
        return regex.sub("", line), True
    return line, False


def _instruction(joined: str, line: int) -> Instruction:
    parts = _WS.split(joined, maxsplit=1)
    word = parts[0]
    rest = parts[1] if len(parts) > 1 else ""
    cmd = word.lower()
    flags: dict[str, str | None] = {}
    # moby: parser.extractBuilderFlags -- leading `--name[=value]` words
    while rest.startswith("--"):
        m = re.match(r"(\S*)\s*", rest)
        assert m is not None
        flag = m.group(1)
        rest = rest[m.end() :]
        if flag == "--":
            break
        name, eq, value = flag[2:].partition("=")
        flags[name] = value if eq else None
    if cmd not in KNOWN:
        raise DockerfileParseError(line, f"unknown instruction: {word.upper()}")
    allowed = FLAGS.get(cmd, frozenset())
    for name in flags:
        if name not in allowed:
            raise DockerfileParseError(line, f"Unknown flag: {name}")
    rest = rest.strip()
    json_form = None
    if rest.startswith("["):
        try:
            value = json.loads(rest)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                json_form = value
        except ValueError:
            json_form = None
    ins = Instruction(cmd, rest, line, joined, flags, json_form)
    _check_arguments(ins)
    return ins


def _check_arguments(ins: Instruction) -> None:
    """The argument-count checks moby makes while parsing (parse errors with a line)."""
    name = ins.cmd.upper()
    if ins.cmd in ("copy", "add"):
        words = ins.json_form if ins.json_form is not None else split_words(ins.args)
        if len(words) < 2:
            if len(words) == 1:
                raise DockerfileParseError(
                    ins.line,
                    f"{name} requires at least two arguments, but only one was provided. "
                    "Destination could not be determined",
                )
            raise DockerfileParseError(ins.line, f"{name} requires at least two arguments")
    elif ins.cmd == "from":
        words = split_words(ins.args)
        if len(words) == 3 and words[1].lower() == "as":
            stage = words[2].lower()
            if not re.fullmatch(r"[a-z][a-z0-9-_\.]*", stage):
                raise DockerfileParseError(
                    ins.line,
                    f'invalid name for build stage: "{stage}", name can\'t start with a number '
                    "or contain symbols",
                )
        elif len(words) != 1:
            raise DockerfileParseError(ins.line, "FROM requires either one or three arguments")
    elif ins.cmd in ("env", "label", "arg", "expose", "volume", "onbuild", "healthcheck"):
        if not ins.args:
            raise DockerfileParseError(ins.line, f"{name} requires at least one argument")
        if ins.cmd == "onbuild":  # moby 20.10: instructions/parse.go parseOnBuild
            trigger = ins.args.split(None, 1)[0].upper()
            if trigger == "ONBUILD":
                raise DockerfileParseError(
                    ins.line, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
                )
            if trigger in ("MAINTAINER", "FROM"):
                raise DockerfileParseError(
                    ins.line, f"{trigger} isn't allowed as an ONBUILD trigger"
                )
    elif ins.cmd in ("workdir", "user", "stopsignal", "maintainer"):
        if not ins.args:
            raise DockerfileParseError(ins.line, f"{name} requires exactly one argument")
    elif ins.cmd == "shell" and ins.json_form is None:
        raise DockerfileParseError(ins.line, "SHELL requires the arguments to be in JSON form")


# -- words ---------------------------------------------------------------------------------------
def split_words(text: str) -> list[str]:
    """Whitespace-separated words with their quotes kept (moby: line_parsers.go parseWords)."""
    words: list[str] = []
    cur: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(text):
                i += 1
                cur.append(text[i])
        elif ch in "\"'":
            quote = ch
            cur.append(ch)
        elif ch == "\\" and i + 1 < len(text):
            cur.append(ch)
            i += 1
            cur.append(text[i])
        elif ch.isspace():
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
        i += 1
    if cur:
        words.append("".join(cur))
    return words


def key_values(text: str, name: str = "ENV") -> list[tuple[str, str]]:
    """`ENV`/`LABEL` arguments, quotes kept: `k=v k2="v 2"` or the old `key value words`.

    moby: builder/dockerfile/parser/line_parsers.go parseNameVal
    """
    words = split_words(text)
    if not words:
        raise ValueError(f"{name} requires at least one argument")
    if "=" not in words[0]:
        parts = _WS.split(text.strip(), maxsplit=1)
        if len(parts) < 2:
            raise ValueError(f"{name} must have two arguments")
        return [(parts[0], parts[1].strip())]
    pairs = []
    for w in words:
        k, eq, v = w.partition("=")
        if not eq:
            raise ValueError(
                f'Syntax error - can\'t find = in "{w}". Must be of the form: name=value'
            )
        pairs.append((k, v))
    return pairs


class ShellLex:
    """Word processing with variables, like the builder's shell lexer.

    moby: builder/dockerfile/shell/lex.go (ProcessWord, ProcessWords)
    """

    def __init__(self, escape: str = "\\") -> None:
        self.escape = escape

    def process_word(self, word: str, env: dict[str, str]) -> str:
        return self._process(word, env, False)[0]

    def process_words(self, word: str, env: dict[str, str]) -> list[str]:
        return self._process(word, env, True)[1]

    def _process(self, word: str, env: dict[str, str], split: bool) -> tuple[str, list[str]]:
        self.src = word
        self.pos = 0
        self.env = env
        out, words = self._stop_on("", split)
        return out, words

    def _peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def _next(self) -> str:
        ch = self._peek()
        self.pos += 1 if ch else 0
        return ch

    def _stop_on(self, stop: str, split: bool = False) -> tuple[str, list[str]]:
        result: list[str] = []
        words: list[str] = []
        cur: list[str] = []
        in_word = False
        while True:
            ch = self._peek()
            if not ch or (stop and ch == stop):
                if stop and ch == stop:
                    self._next()
                elif stop:
                    raise ValueError(
                        f"unexpected end of statement while looking for matching {stop}"
                    )
                break
            if ch == "'":
                self._next()
                text = self._single_quote()
                in_word = True
            elif ch == '"':
                self._next()
                text = self._double_quote()
                in_word = True
            elif ch == "$":
                self._next()
                text = self._dollar()
                if split and text:
                    # an unquoted variable is split into words
                    pieces = re.split(r"\s+", text)
                    for j, piece in enumerate(pieces):
                        if j > 0 and (cur or in_word):
                            words.append("".join(cur))
                            cur, in_word = [], False
                        if piece:
                            cur.append(piece)
                            in_word = True
                    result.append(text)
                    continue
            else:
                self._next()
                if ch == self.escape:
                    nxt = self._next()
                    text = nxt
                    in_word = True
                elif split and ch.isspace():
                    if cur or in_word:
                        words.append("".join(cur))
                        cur, in_word = [], False
                    result.append(ch)
                    continue
                else:
                    text = ch
                    in_word = True
            result.append(text)
            cur.append(text)
        if cur or in_word:
            words.append("".join(cur))
        return "".join(result), words

    def _single_quote(self) -> str:
        out = []
        while True:
            ch = self._next()
            if not ch:
                raise ValueError(
                    "unexpected end of statement while looking for matching single-quote"
                )
            if ch == "'":
                return "".join(out)
            out.append(ch)

    def _double_quote(self) -> str:
        out = []
        while True:
            ch = self._peek()
            if not ch:
                raise ValueError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self._next()
                return "".join(out)
            if ch == "$":
                self._next()
                out.append(self._dollar())
                continue
            self._next()
            if ch == self.escape:
                nxt = self._peek()
                if not nxt:
                    continue
                if nxt in ('"', "$", self.escape):
                    ch = self._next()
            out.append(ch)

    def _name(self) -> str:
        m = re.compile(r"[0-9]+|[A-Za-z_][A-Za-z0-9_]*").match(self.src, self.pos)
        if not m:
            return ""
        self.pos = m.end()
        return m.group(0)

    def _dollar(self) -> str:
        if self._peek() != "{":
            name = self._name()
            if not name:
                return "$"
            return self.env.get(name, "")
        self._next()
        name = self._name()
        ch = self._peek()
        if ch == "}":
            self._next()
            return self.env.get(name, "")
        if ch == ":":
            self._next()
            modifier = self._next()
            word, _ = self._stop_on("}")
            value = self.env.get(name, "")
            if modifier == "-":
                return value if value else word
            if modifier == "+":
                return word if value else ""
            raise ValueError(f"Unsupported modifier ({modifier}) in substitution")
        raise ValueError("Missing ':' in substitution")


def expand(word: str, env: dict[str, str], escape: str = "\\") -> str:
    """ProcessWord: quotes removed, escapes applied, variables substituted."""
    return ShellLex(escape).process_word(word, env)
