"""`.dockerignore`: which files of the build context COPY and ADD may see.

Patterns are matched like Go's filepath.Match plus `**` (any number of folders); a pattern
starting with `!` re-includes what an earlier one excluded; the last matching pattern wins;
a path is excluded when it or one of its parent folders matches.

moby: builder/dockerignore/dockerignore.go ReadAll, github.com/moby/patternmatcher
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]


def _compile(pattern: str) -> re.Pattern[str]:
    """moby/patternmatcher Pattern.compile: `**` spans folders, `*`/`?` do not."""
    out = ["^"]
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 1
                # "**/" matches zero or more folders; a trailing "**" matches anything
                if i + 1 < n and pattern[i + 1] == "/":
                    i += 1
                    out.append("(.*/)?")
                else:
                    out.append(".*")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : j]
                if body.startswith("^") or body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return re.compile("".join(out))


class PatternMatcher:
    """An ordered list of patterns."""

    def __init__(self, lines: list[str]) -> None:
        self.patterns: list[Pattern] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            exclusion = line.startswith("!")
            if exclusion:
                line = line[1:].strip()
            if not line:
                continue
            cleaned = posixpath.normpath(line.lstrip("/")) if line.strip("/") else "."
            self.patterns.append(Pattern(cleaned, exclusion, _compile(cleaned)))

    def matches(self, path: str) -> bool:
        """True if `path` (relative to the context, `/`-separated) is excluded.

        moby/patternmatcher MatchesOrParentMatches
        """
        path = posixpath.normpath(path.replace(os.sep, "/"))
        parents = []
        parent = posixpath.dirname(path)
        while parent and parent != ".":
            parents.append(parent)
            parent = posixpath.dirname(parent)
        matched = False
        for p in self.patterns:
            if p.exclusion != matched:
                continue  # only a pattern that could flip the answer matters
            hit = bool(p.regex.match(path)) or any(p.regex.match(q) for q in parents)
            if hit:
                matched = not p.exclusion
        return matched


def read_dockerignore(context: str) -> PatternMatcher:
    """The context's `.dockerignore`, or an empty matcher."""
    path = os.path.join(context, ".dockerignore")
    try:
        with open(path, encoding="utf-8") as f:
            return PatternMatcher(f.read().splitlines())
    except FileNotFoundError:
        return PatternMatcher([])
