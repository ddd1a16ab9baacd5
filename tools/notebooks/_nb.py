"""Tiny helpers to write a notebook as a list of cells (markdown and code).

Each `nbNN_*.py` module in this folder defines `NAME` (the file in `notebooks/`) and
`CELLS`; `build.py` turns them into .ipynb files and, with `--execute`, runs them.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown" or "code"
    source: str


def md(text: str) -> Cell:
    """A markdown cell (dedented, stripped)."""
    return Cell("markdown", textwrap.dedent(text).strip("\n"))


def code(text: str) -> Cell:
    """A code cell (dedented, stripped). Keep it to one visible thing."""
    return Cell("code", textwrap.dedent(text).strip("\n"))


def moby(*paths: str) -> str:
    """A markdown list of moby source files (paths as in moby v20.10.24, the engine modelled)."""
    # used as `md("""... ## Read next\n\n        """ + moby(...) + """...""")`: the first
    # line is indented by the text before it, the others like the cell text around them, so
    # that md()'s dedent leaves the list flush left
    return "\n        ".join(
        f"- [`{p}`](https://github.com/moby/moby/blob/v20.10.24/{p})" for p in paths
    )
