"""`.dockerignore`: which files of the build context the daemon receives.

The rules are those of the Docker 20.10 CLI and daemon:

* `ReadAll`: a line starting with `#` (in column 0) is a comment; other lines are trimmed,
  cleaned like a path (`./a/` -> `a`, a leading `/` dropped); `!` marks an exception.
* A pattern is turned into a regular expression: `*` = anything but `/`, `?` = one
  character but `/`, `**` = any number of folders (also none), `.` and `$` are literal,
  `\\` escapes; everything else (`[a-z]`, ...) is passed to the regexp engine as is — so a
  `[!x]` class is *not* a negation, unlike Go's filepath.Match.
* `matches(path)`: the last pattern that matches decides; a pattern also matches a path
  whose parent folder prefix (as many components as the pattern has) matches it.
* The CLI walks the context in lexical order and skips an excluded folder entirely unless an
  exception pattern starts with that folder (then it walks in, leaving the folder's own
  entry out). `Dockerfile` and `.dockerignore` are always sent, and removed again by the
  daemon when the patterns match them.

moby (20.10): builder/dockerignore/dockerignore.go ReadAll, pkg/fileutils/fileutils.go
PatternMatcher, pkg/archive/archive.go TarWithOptions, builder/remotecontext/detect.go
removeDockerfile; docker/cli cli/command/image/build/dockerignore.go
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass


class IgnoreError(ValueError):
    """A malformed `.dockerignore` pattern."""


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]
    dirs: int

    def __str__(self) -> str:
        return self.text


def _compile(pattern: str) -> re.Pattern[str]:
    """moby pkg/fileutils Pattern.compile."""
    out = ["^"]
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 1
                if i + 1 < n and pattern[i + 1] == "/":
                    i += 1
                out.append(".*" if i + 1 >= n else "(.*/)?")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch in ".$":
            out.append("\\" + ch)
        elif ch == "\\":
            if i + 1 < n:
                i += 1
                out.append(re.escape(pattern[i]))
            else:
                out.append("\\\\")
        else:
            out.append(ch)
        i += 1
    out.append("$")
    try:
        return re.compile("".join(out))
    except re.error as e:
        raise IgnoreError(f"syntax error in pattern: {pattern}") from e


def read_all(text: str) -> list[str]:
    """The patterns of a `.dockerignore` file (moby: dockerignore.ReadAll)."""
    out = []
    for n, line in enumerate(text.split("\n")):
        if n == 0 and line.startswith("\ufeff"):
            line = line[1:]
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = posixpath.normpath(pattern)
            if pattern.startswith("//"):
                pattern = "/" + pattern.lstrip("/")
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append(("!" if invert else "") + pattern)
    return out


class PatternMatcher:
    """An ordered list of patterns (moby: fileutils.PatternMatcher)."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns: list[Pattern] = []
        for raw in patterns:
            p = raw.strip()
            if not p:
                continue
            p = posixpath.normpath(p)  # filepath.Clean of the whole line, `!` included
            exclusion = p.startswith("!")
            if exclusion:
                if len(p) == 1:
                    raise IgnoreError('illegal exclusion pattern: "!"')
                p = p[1:]
            self.patterns.append(Pattern(p, exclusion, _compile(p), len(p.split("/"))))

    @classmethod
    def from_dockerignore(cls, text: str) -> PatternMatcher:
        return cls(read_all(text))

    @property
    def exclusions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def matches(self, path: str) -> bool:
        """True if `path` (relative to the context, `/`-separated) is excluded."""
        path = path.replace(os.sep, "/")
        parent = posixpath.dirname(path) or "."
        parent_dirs = parent.split("/")
        matched = False
        for p in self.patterns:
            hit = bool(p.regex.match(path))
            if not hit and parent != "." and p.dirs <= len(parent_dirs):
                hit = bool(p.regex.match("/".join(parent_dirs[: p.dirs])))
            if hit:
                matched = not p.exclusion
        return matched

    def walk(self, root: str) -> Iterator[str]:
        """The context's paths (relative, `/`-separated, lexical order) the CLI would send.

        moby: pkg/archive/archive.go TarWithOptions (the ExcludePatterns walk)
        """

        def visit(rel_dir: str) -> Iterator[str]:
            host_dir = os.path.join(root, rel_dir) if rel_dir else root
            try:
                names = sorted(os.listdir(host_dir))
            except OSError:
                return
            for name in names:
                rel = f"{rel_dir}/{name}" if rel_dir else name
                host = os.path.join(root, rel)
                is_dir = os.path.isdir(host) and not os.path.islink(host)
                if self.matches(rel):
                    if not is_dir or not self.exclusions:
                        continue
                    prefix = rel + "/"
                    if not any(
                        p.exclusion and (p.text + "/").startswith(prefix) for p in self.patterns
                    ):
                        continue
                    yield from visit(rel)  # walked into, its own entry left out
                    continue
                yield rel
                if is_dir:
                    yield from visit(rel)

        yield from visit("")


def read_dockerignore(context: str) -> PatternMatcher:
    """The context's `.dockerignore`, or an empty matcher."""
    path = os.path.join(context, ".dockerignore")
    try:
        with open(path, encoding="utf-8") as f:
            return PatternMatcher.from_dockerignore(f.read())
    except FileNotFoundError:
        return PatternMatcher([])
