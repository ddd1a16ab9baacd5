"""Dockerfile parsing: instructions with their line numbers, flags and arguments.

Handles comments, line continuations (with the `# escape=` directive), JSON (exec) form,
`--flag=value` options (`COPY --from=...`, `FROM --platform=...`) and `ARG` expansion of
`${VAR}` / `$VAR` in the instructions that expand them.

moby: builder/dockerfile/parser/parser.go, builder/dockerfile/instructions/parse.go
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

#: The instructions the legacy builder knows (others are a parse error).
KNOWN = frozenset(
    "add arg cmd copy entrypoint env expose from healthcheck label maintainer onbuild run "
    "shell stopsignal user volume workdir".split()
)
#: Instructions whose arguments get variable substitution (moby: replaceEnvAllowed).
EXPANDED = frozenset(
    "add copy env expose from label stopsignal onbuild user volume workdir".split()
)


class DockerfileParseError(ValueError):
    """`Dockerfile parse error line N: ...`"""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"Dockerfile parse error line {line}: {message}")
        self.line = line


@dataclass
class Instruction:
    """One instruction: `cmd` lower-case, `original` as written (continuations joined)."""

    cmd: str
    args: str
    line: int
    original: str
    flags: dict[str, str] = field(default_factory=dict)
    json_form: list[str] | None = None

    def __str__(self) -> str:
        return self.original


_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")


def parse(text: str) -> list[Instruction]:
    """Split a Dockerfile into instructions.

    moby: builder/dockerfile/parser/parser.go Parse
    """
    escape = "\\"
    lines = text.splitlines()
    i = 0
    # parser directives: only at the very top, before any other line
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            break
        if m.group(1).lower() == "escape":
            if m.group(2) not in ("\\", "`"):
                raise DockerfileParseError(i + 1, f"invalid ESCAPE '{m.group(2)}'. Must be ` or \\")
            escape = m.group(2)
        i += 1
    out: list[Instruction] = []
    while i < len(lines):
        start = i
        raw = lines[i]
        i += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = [raw]
        while parts[-1].rstrip().endswith(escape):
            parts[-1] = parts[-1].rstrip()[: -len(escape)]
            # comment and empty lines inside a continuation are skipped
            while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
                i += 1
            if i >= len(lines):
                break
            parts.append(lines[i])
            i += 1
        joined = "".join(parts).strip()
        word, _, rest = joined.strip().partition(" ")
        if not word:
            continue
        cmd = word.lower()
        if cmd not in KNOWN:
            raise DockerfileParseError(start + 1, f"unknown instruction: {word.upper()}")
        rest = rest.strip()
        flags: dict[str, str] = {}
        if cmd in ("copy", "add", "from", "run"):
            while rest.startswith("--"):
                flag, _, remainder = rest.partition(" ")
                name, eq, value = flag[2:].partition("=")
                if not eq:
                    raise DockerfileParseError(start + 1, f"flag --{name} requires a value")
                flags[name] = value
                rest = remainder.strip()
        json_form = None
        if rest.startswith("["):
            try:
                value = json.loads(rest)
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    json_form = value
            except ValueError:
                json_form = None
        out.append(Instruction(cmd, rest, start + 1, joined.strip(), flags, json_form))
    return out


_VAR = re.compile(r"\\\$|\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand(word: str, env: dict[str, str]) -> str:
    """`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}`; `\\$` stays a literal `$`.

    moby: builder/dockerfile/shell/lex.go (the subset Dockerfiles use)
    """

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "\\$":
            return "$"
        name = m.group(1) or m.group(4)
        value = env.get(name)
        op, arg = m.group(2), m.group(3)
        if op == "-":
            return value if value else (arg or "")
        if op == "+":
            return (arg or "") if value else ""
        return value or ""

    return _VAR.sub(sub, word)


def split_words(text: str) -> list[str]:
    """Whitespace-separated words, honouring quotes (for COPY/ADD/ENV arguments)."""
    words: list[str] = []
    cur: list[str] = []
    quote = ""
    have = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(text):
                i += 1
                cur.append(text[i])
            else:
                cur.append(ch)
        elif ch in "\"'":
            quote, have = ch, True
        elif ch == "\\" and i + 1 < len(text):
            i += 1
            cur.append(text[i])
            have = True
        elif ch.isspace():
            if cur or have:
                words.append("".join(cur))
                cur, have = [], False
        else:
            cur.append(ch)
            have = True
        i += 1
    if cur or have:
        words.append("".join(cur))
    return words


def key_values(text: str) -> list[tuple[str, str]]:
    """`ENV`/`LABEL`/`ARG` arguments: `k=v k2="v 2"` or the old `key value with spaces`.

    moby: builder/dockerfile/parser/line_parsers.go parseNameVal
    """
    words = split_words(text)
    if not words:
        return []
    if "=" not in words[0]:
        key, _, value = text.strip().partition(" ")
        return [(key, " ".join(split_words(value.strip())) if value.strip() else "")]
    pairs = []
    for w in words:
        k, eq, v = w.partition("=")
        if not eq:
            raise ValueError(f"Syntax error - can't find = in \"{w}\". Must be of the form: name=value")
        pairs.append((k, v))
    return pairs
