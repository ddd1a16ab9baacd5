"""Command-line flags the way spf13/pflag (which the docker CLI uses) parses them.

`--name value`, `--name=value`, `-n value`, `-nvalue`, grouped booleans (`-aq`),
`--bool=false`, `--` to end flags, repeated list flags (`-e A -e B`), and, for commands
like `run` and `exec`, flag parsing that stops at the first positional argument. Errors
carry pflag's exact words (`unknown flag: --x`, `flag needs an argument: 'n' in -n`, ...).

docker/cli: vendor/github.com/spf13/pflag/flag.go, cli/cobra.go (usage layout)
"""

from __future__ import annotations

from typing import Any

from dockerlayers.timetypes import parse_go_duration


class FlagError(Exception):
    """A pflag parse error; the CLI adds `See '... --help'.` and exits 125."""


class Flag:
    """One flag: `kind` is bool, string, int, list (repeatable), or duration (seconds).

    (A plain class, not a dataclass: every command defines dozens, in a fresh process.)"""

    __slots__ = ("name", "short", "kind", "default", "help", "hidden", "type_name")

    def __init__(
        self,
        name: str,
        short: str = "",
        kind: str = "bool",
        default: Any = None,
        help: str = "",
        hidden: bool = False,
        type_name: str = "",
    ) -> None:
        self.name = name
        self.short = short
        self.kind = kind
        if default is None:
            default = {"bool": False, "string": "", "int": 0, "list": [], "duration": 0.0}.get(kind)
        self.default = default
        self.help = help
        self.hidden = hidden
        self.type_name = type_name or {"bool": "", "list": "list"}.get(kind, kind)

    def __repr__(self) -> str:
        return f"Flag({self.name!r}, {self.short!r}, kind={self.kind!r})"

    @property
    def display(self) -> str:
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


class Parsed:
    """The result: flag values by dest, positionals, and which flags were set."""

    def __init__(
        self, values: dict[str, Any], args: list[str], changed: set[str] | None = None
    ) -> None:
        self.values = values
        self.args = args
        self.changed = changed if changed is not None else set()

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _convert(flag: Flag, value: str) -> Any:
    if flag.kind == "bool":
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise FlagError(
            f'invalid argument "{value}" for "{flag.display}" flag: strconv.ParseBool: parsing "{value}": invalid syntax'  # noqa: E501
        )
    if flag.kind == "int":
        try:
            return int(value, 0) if value.lower().startswith(("0x", "0o", "0b")) else int(value)
        except ValueError:
            raise FlagError(
                f'invalid argument "{value}" for "{flag.display}" flag: strconv.ParseInt: parsing "{value}": invalid syntax'  # noqa: E501
            ) from None
    if flag.kind == "duration":
        try:
            return parse_go_duration(value)
        except ValueError:
            raise FlagError(
                f'invalid argument "{value}" for "{flag.display}" flag: time: invalid duration "{value}"'  # noqa: E501
            ) from None
    return value


def parse_flags(flags: list[Flag], argv: list[str], interspersed: bool = True) -> Parsed:
    """Parse `argv` against `flags` (pflag semantics); raises FlagError."""
    by_name = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    values: dict[str, Any] = {
        f.dest: (list(f.default) if f.kind == "list" else f.default) for f in flags
    }
    changed: set[str] = set()
    args: list[str] = []

    def set_value(flag: Flag, raw: str) -> None:
        value = _convert(flag, raw)
        if flag.kind == "list":
            if flag.dest not in changed:
                values[flag.dest] = []
            values[flag.dest].append(value)
        else:
            values[flag.dest] = value
        changed.add(flag.dest)

    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            args.extend(argv[i:])
            break
        if not a.startswith("-") or a == "-":
            args.append(a)
            if not interspersed:
                args.extend(argv[i:])
                break
            continue
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            flag = by_name.get(name)
            if flag is None:
                raise FlagError(f"unknown flag: --{name}")
            if eq:
                set_value(flag, value)
            elif flag.kind == "bool":
                set_value(flag, "true")
            elif i < len(argv):
                set_value(flag, argv[i])
                i += 1
            else:
                raise FlagError(f"flag needs an argument: --{name}")
            continue
        shorts = a[1:]
        while shorts:
            c = shorts[0]
            flag = by_short.get(c)
            if flag is None:
                raise FlagError(f"unknown shorthand flag: '{c}' in {a}")
            if len(shorts) > 2 and shorts[1] == "=":
                set_value(flag, shorts[2:])
                break
            if flag.kind == "bool":
                set_value(flag, "true")
                shorts = shorts[1:]
                continue
            if len(shorts) > 1:
                set_value(flag, shorts[1:])
            elif i < len(argv):
                set_value(flag, argv[i])
                i += 1
            else:
                raise FlagError(f"flag needs an argument: '{c}' in -{c}")
            break
    return Parsed(values, args, changed)


def flag_usages(flags: list[Flag], cols: int = 79) -> str:
    """pflag FlagUsagesWrapped: `  -a, --all    Show all ...` aligned, sorted by name, the
    usage wrapped at `cols` (docker/cli's wrappedFlagUsages: an 80-column terminal - 1)."""
    lines = []
    for f in sorted(flags, key=lambda f: f.name):
        if f.hidden:
            continue
        line = f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}"
        if f.type_name:
            line += " " + f.type_name
        usage = f.help
        if f.kind == "bool" and f.default:
            usage += " (default true)"
        elif f.kind == "string" and f.default:
            usage += f' (default "{f.default}")'
        elif f.kind == "int" and f.default:
            usage += f" (default {f.default})"
        lines.append((line, usage))
    width = max((len(line) for line, _ in lines), default=0)
    indent = width + 3
    return "".join(
        f"{line}{' ' * (indent - len(line))}{_wrap(indent, cols, usage)}\n" for line, usage in lines
    )


def _wrap_n(i: int, slop: int, s: str) -> tuple[str, str]:
    """pflag wrapN: the first line of at most `i` (+ `slop`) characters, and the rest."""
    if i + slop > len(s):
        return s, ""
    w = max(s.rfind(c, 0, i) for c in " \t\n")
    if w <= 0:
        return s, ""
    nl = s.rfind("\n", 0, i)
    if 0 < nl < w:
        return s[:nl], s[nl + 1 :]
    return s[:w], s[w + 1 :]


def _wrap(i: int, w: int, s: str) -> str:
    """pflag wrap: `s` in lines of width `w`, the ones after the first indented by `i`."""
    if w == 0:
        return s.replace("\n", "\n" + " " * i)
    room = w - i
    r = ""
    if room < 24:
        i = 16
        room = w - i
        r += "\n" + " " * i
    if room < 24:
        return s.replace("\n", r)
    slop = 5
    room -= slop
    first, s = _wrap_n(room, slop, s)
    r += first.replace("\n", "\n" + " " * i)
    while s:
        t, s = _wrap_n(room, slop, s)
        r += "\n" + " " * i + t.replace("\n", "\n" + " " * i)
    return r
