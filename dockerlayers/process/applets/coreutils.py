"""More busybox 1.35 applets a learner types inside `sh -c` (reachable by name through
ash's standalone mode, not linked in the base image): yes sort uniq cut tr (and, in
binary.py and shellutils.py, od dd the sums base64 readlink realpath truncate which expr
xargs). Output formats and messages are busybox's, checked against Debian's /bin/busybox
(tests/process/test_busybox_conformance.py).
"""

from __future__ import annotations

import math
import re

from .context import AppletContext, Block
from .registry import applet, usage
from .text import _inputs

#: how much `yes` writes at a time into a pipe (it ends when the pipe is full: SIGPIPE)
_YES_CHUNK = 1 << 20


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _lines(data: bytes) -> list[str]:
    text = _text(data)
    return text.split("\n")[:-1] if text.endswith("\n") else (text.split("\n") if text else [])


def _read_files(ctx: AppletContext, files: list[str], cant_open: bool = False) -> tuple[bytes, int]:
    """All input files (stdin if none) as one stream; (data, status) with busybox's
    `NAME: F: ...` for a missing one (`NAME: can't open 'F': ...` with `cant_open`)."""
    parts, status = [], 0
    for name, data in _inputs(ctx, files):
        if isinstance(data, OSError) or data is IsADirectoryError:
            why = "Is a directory" if data is IsADirectoryError else data.strerror
            ctx.error(f"can't open '{name}': {why}" if cant_open else f"{name}: {why}")
            status = 1
            continue
        parts.append(data)
    return b"".join(parts), status


@applet("yes")
def yes(ctx: AppletContext, argv: list[str]) -> int | Block:
    """busybox yes: its arguments (or `y`) forever. Into a pipe it runs until the pipe is
    full and its reader is done (SIGPIPE, see shell/core.PIPE_BOUND); anywhere else the
    model cannot hold endless output, so it runs without end and shows nothing."""
    line = (" ".join(argv[1:]) if len(argv) > 1 else "y") + "\n"
    if not ctx.pipe_out:
        return Block(math.inf)
    chunk = (line * max(1, _YES_CHUNK // len(line))).encode("utf-8", "surrogateescape")
    while True:
        ctx.out(chunk)


# -- sort -------------------------------------------------------------------------------------
def _sort_key(line: str, keys: list[tuple[int, int, int, int]], sep: str | None) -> list[str]:
    if not keys:
        return [line]
    if sep is None:
        # fields: a run of blanks starts each field after the first (GNU/busybox)
        fields = re.findall(r"\s*\S+|\s+$", line) or [""]
    else:
        fields = line.split(sep)
    out = []
    for f1, c1, f2, c2 in keys:
        if f1 > len(fields):
            out.append("")
            continue
        last = len(fields) if not f2 else min(f2, len(fields))
        chunk = (sep or "").join(fields[f1 - 1 : last])
        if sep is None and not f2:
            chunk = "".join(fields[f1 - 1 :])
        start = max(c1 - 1, 0) if c1 else 0
        if c2:
            end_in_last = len((sep or "").join(fields[f1 - 1 : last - 1]))
            end_in_last += len(sep or "") if last > f1 and sep else 0
            chunk = chunk[: end_in_last + c2]
        out.append(chunk[start:])
    return out


def _num(s: str) -> float:
    m = re.match(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s)
    return float(m.group(0)) if m else 0.0


@applet("sort")
def sort(ctx: AppletContext, argv: list[str]) -> int:
    """busybox sort: -n -r -u -s -f -b -k F[.C][,F[.C]] -t SEP -o FILE; byte order."""
    opts: set[str] = set()
    keys: list[tuple[int, int, int, int]] = []
    sep: str | None = None
    out_file = None
    files: list[str] = []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--":
            files.extend(args)
            break
        if not a.startswith("-") or a == "-":
            files.append(a)
            continue
        j = 1
        while j < len(a):
            o = a[j]
            j += 1
            if o in "ktoT":
                val = a[j:] or (args.pop(0) if args else None)
                if val is None:
                    ctx.error(f"option requires an argument -- '{o}'")
                    usage(ctx)
                    return 1
                if o == "k":
                    m = re.fullmatch(
                        r"(\d+)(?:\.(\d+))?[a-zA-Z]*(?:,(\d+)(?:\.(\d+))?[a-zA-Z]*)?", val
                    )
                    if not m or int(m.group(1)) == 0:
                        ctx.error("bad field specification")
                        return 2
                    opts.update(ch for ch in val if ch.isalpha())
                    keys.append(tuple(int(g) if g else 0 for g in m.groups()))  # type: ignore[arg-type]
                elif o == "t":
                    sep = val
                elif o == "o":
                    out_file = val
                break
            if o in "nrusfbgMcdzh":
                opts.add(o)
            else:
                ctx.error(f"invalid option -- '{o}'")
                usage(ctx)
                return 1
    data, status = _read_files(ctx, files)
    if status:
        return 2  # busybox sort dies at the first file it cannot open (status 2)
    lines = _lines(data)

    def key(line: str):
        parts = _sort_key(line, keys, sep)
        if "b" in opts:
            parts = [p.lstrip() for p in parts]
        if "f" in opts:
            parts = [p.upper() for p in parts]
        if "n" in opts or "g" in opts:
            return [_num(p) for p in parts]
        return [p.encode("utf-8", "surrogateescape") for p in parts]

    rev = "r" in opts
    if "s" in opts:  # stable: equal keys keep their input order
        lines.sort(key=key, reverse=rev)
    else:  # equal keys: the whole lines decide (busybox's fallback strcmp)
        lines.sort(key=lambda ln: (key(ln), ln.encode("utf-8", "surrogateescape")), reverse=rev)
    if "u" in opts:  # of lines with equal keys the first (in sorted order) stays
        kept, last = [], None
        for ln in lines:
            k = key(ln)
            if not kept or k != last:
                kept.append(ln)
            last = k
        lines = kept
    text = "".join(ln + "\n" for ln in lines)
    if out_file:
        with ctx.rootfs.open(ctx.path(out_file), "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape"))
    else:
        ctx.out(text)
    return status


@applet("uniq")
def uniq(ctx: AppletContext, argv: list[str]) -> int:
    """busybox uniq [-cdui] [-f N] [-s N] [INPUT [OUTPUT]]."""
    opts: set[str] = set()
    skip_f = skip_c = 0
    files: list[str] = []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a.startswith("-") and a != "-":
            j = 1
            while j < len(a):
                o = a[j]
                j += 1
                if o in "fsw":
                    val = a[j:] or (args.pop(0) if args else "0")
                    if o == "f":
                        skip_f = int(val)
                    elif o == "s":
                        skip_c = int(val)
                    break
                opts.add(o)
        else:
            files.append(a)
    try:
        data = (
            ctx.stdin()
            if not files or files[0] == "-"
            else ctx.rootfs.read_bytes(ctx.path(files[0]))
        )
    except OSError as e:
        ctx.error(f"can't open '{files[0]}': {e.strerror}")
        return 1

    def cmp(line: str) -> str:
        s = line
        for _ in range(skip_f):
            s = re.sub(r"^\s*\S*", "", s, count=1)
        s = s[skip_c:]
        return s.lower() if "i" in opts else s

    out = []
    groups: list[list[str]] = []
    for line in _lines(data):
        if groups and cmp(groups[-1][0]) == cmp(line):
            groups[-1].append(line)
        else:
            groups.append([line])
    for g in groups:
        if "d" in opts and len(g) == 1 or "u" in opts and len(g) > 1:
            continue
        out.append((f"{len(g):7d} " if "c" in opts else "") + g[0] + "\n")
    text = "".join(out)
    if len(files) > 1:
        with ctx.rootfs.open(ctx.path(files[1]), "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape"))
    else:
        ctx.out(text)
    return 0


def _ranges(spec: str) -> list[tuple[int, int]] | None:
    out = []
    for part in spec.split(","):
        m = re.fullmatch(r"(\d*)(-?)(\d*)", part)
        if not m or (not m.group(1) and not m.group(3)):
            return None
        lo = int(m.group(1)) if m.group(1) else 1
        hi = int(m.group(3)) if m.group(3) else (lo if not m.group(2) else 1 << 30)
        if lo == 0:
            return None
        out.append((lo, hi))
    return out


@applet("cut")
def cut(ctx: AppletContext, argv: list[str]) -> int:
    """busybox cut -b|-c|-f LIST [-d SEP] [-s] [FILE]..."""
    mode = None
    spec = ""
    delim = "\t"
    only = False
    files: list[str] = []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a.startswith("-") and a != "-" and len(a) > 1:
            o = a[1]
            if o in "bcfd":
                val = a[2:] or (args.pop(0) if args else "")
                if o == "d":
                    delim = val[:1] or "\t"
                else:
                    mode, spec = o, val
            elif o == "s":
                only = True
            elif o == "n":
                pass
            continue
        files.append(a)
    if mode is None:
        ctx.error("expected a list of bytes, characters, or fields")
        return 1
    ranges = _ranges(spec)
    if ranges is None:
        ctx.error("invalid byte, character or field list" if mode != "f" else "invalid field list")
        return 1
    data, status = _read_files(ctx, files)

    def wanted(n: int) -> bool:
        return any(lo <= n <= hi for lo, hi in ranges)

    out = []
    for line in _lines(data):
        if mode == "f":
            if delim not in line:
                if not only:
                    out.append(line + "\n")
                continue
            fields = line.split(delim)
            out.append(delim.join(f for i, f in enumerate(fields, 1) if wanted(i)) + "\n")
        else:
            raw = line.encode("utf-8", "surrogateescape")
            out.append(_text(bytes(b for i, b in enumerate(raw, 1) if wanted(i))) + "\n")
    ctx.out("".join(out))
    return status


_TR_CLASSES = {
    "alpha": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "lower": "abcdefghijklmnopqrstuvwxyz",
    "digit": "0123456789",
    "alnum": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "space": "\t\n\v\f\r ",
    "blank": "\t ",
    "punct": "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum()),
    "xdigit": "0123456789ABCDEFabcdef",
    "cntrl": "".join(chr(c) for c in [*range(32), 127]),
    "print": "".join(chr(c) for c in range(32, 127)),
    "graph": "".join(chr(c) for c in range(33, 127)),
}


def _tr_set(s: str) -> str:
    """A tr SET expanded: escapes, ranges a-z, [:class:], [x*n]."""
    chars: list[str] = []
    i = 0
    esc = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(s):
        m = re.match(r"\[:(\w+):\]", s[i:])
        if m and m.group(1) in _TR_CLASSES:
            chars.extend(_TR_CLASSES[m.group(1)])
            i += m.end()
            continue
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            m2 = re.match(r"[0-7]{1,3}", s[i + 1 :])
            if m2:
                c = chr(int(m2.group(0), 8))
                i += 1 + len(m2.group(0))
            else:
                c = esc.get(s[i + 1], s[i + 1])
                i += 2
        else:
            i += 1
        if i + 1 < len(s) and s[i] == "-":
            hi = s[i + 1]
            if hi == "\\" and i + 2 < len(s):
                hi = esc.get(s[i + 2], s[i + 2])
                i += 1
            chars.extend(chr(x) for x in range(ord(c), ord(hi) + 1))
            i += 2
            continue
        chars.append(c)
    return "".join(chars)


@applet("tr")
def tr(ctx: AppletContext, argv: list[str]) -> int:
    """busybox tr [-cds] STRING1 [STRING2]."""
    opts: set[str] = set()
    sets: list[str] = []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1 and not sets:
            opts.update(a[1:])
        else:
            sets.append(a)
    if not sets or ("d" not in opts and "s" not in opts and len(sets) < 2):
        usage(ctx)
        return 1
    s1 = _tr_set(sets[0])
    s2 = _tr_set(sets[1]) if len(sets) > 1 else ""
    text = _text(ctx.stdin())
    if "c" in opts:
        s1 = "".join(chr(x) for x in range(256) if chr(x) not in s1)
    if "d" in opts:
        drop = set(s1)
        text = "".join(ch for ch in text if ch not in drop)
        squeeze = set(s2)
    else:
        if s2:
            s2 = s2 + s2[-1] * max(0, len(s1) - len(s2))
            table = {}
            for a, b in zip(s1, s2):
                table[a] = b
            text = "".join(table.get(ch, ch) for ch in text)
            squeeze = set(s2)
        else:
            squeeze = set(s1)
    if "s" in opts:
        out, prev = [], None
        for ch in text:
            if ch == prev and ch in squeeze:
                continue
            out.append(ch)
            prev = ch
        text = "".join(out)
    ctx.out(text)
    return 0


# -- od ---------------------------------------------------------------------------------------


__all__ = [
    "cut",
    "sort",
    "tr",
    "uniq",
    "yes",
]
