"""The shell's syntax tree: what `parser.py` produces and `compiler.py` consumes.

A *word* is a list of parts, each a tuple:
  ("lit", text, quoted)                      literal text (quoted: no splitting or globbing)
  ("param", name, op, arg_word, quoted)      $x ${x} ${x:-w} ${#x} ${x%pat} ...
  ("cmdsub", List, quoted)                   $(...) and `...`
  ("arith", word, quoted)                    $((...)); the word is the expression text
  ("tilde", user)                            ~ or ~user at the start of a word
"""

from __future__ import annotations

from dataclasses import dataclass, field

Word = list[tuple]


@dataclass
class Redir:
    """`fd op target`: op is one of > >> >| < <> >& <& <<; heredoc text is in `target`."""

    fd: int
    op: str
    target: Word


@dataclass
class Simple:
    assigns: list[tuple[str, Word]]
    words: list[Word]
    redirs: list[Redir]
    line: int


@dataclass
class Pipeline:
    cmds: list
    negate: bool = False


@dataclass
class AndOr:
    first: object
    rest: list[tuple[str, object]]  # ("&&" | "||", pipeline)


@dataclass
class List:
    items: list[tuple[object, bool]]  # (and_or, background)


@dataclass
class If:
    branches: list[tuple[List, List]]
    orelse: List | None


@dataclass
class Loop:
    cond: List
    body: List
    until: bool = False


@dataclass
class For:
    var: str
    words: list[Word] | None  # None: "$@"
    body: List
    line: int = 0


@dataclass
class Case:
    word: Word
    arms: list[tuple[list[Word], List]]
    line: int = 0


@dataclass
class Group:
    body: List
    subshell: bool = False


@dataclass
class FuncDef:
    name: str
    body: object


@dataclass
class Redirected:
    """A compound command with redirections (`while ...; done < file`)."""

    cmd: object
    redirs: list[Redir] = field(default_factory=list)
