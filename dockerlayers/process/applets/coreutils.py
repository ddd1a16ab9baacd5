"""More busybox 1.35 applets a learner types inside `sh -c` (reachable by name through
ash's standalone mode, not linked in the base image): yes sort uniq cut tr od dd md5sum
sha1sum sha256sum base64 readlink realpath truncate which expr xargs. Output formats and
messages are busybox's, checked against Debian's /bin/busybox
(tests/process/test_busybox_conformance.py).
"""

from __future__ import annotations

import base64 as b64
import hashlib
import math
import posixpath
import re
import stat as st_mod

from dockerlayers.graphdriver.rootfs import WouldBlock

from .context import AppletContext, Block, Exec
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
_OD_C = {0: "\\0", 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}


def _od_field(fmt: str, chunk: bytes) -> str:
    if fmt == "c":
        return "".join(
            f"{_OD_C[b] if b in _OD_C else chr(b) if 32 <= b < 127 else f'{b:03o}':>4}"
            for b in chunk
        )
    size = {
        "o2": 2,
        "x2": 2,
        "u2": 2,
        "o1": 1,
        "x1": 1,
        "u1": 1,
        "d2": 2,
        "d4": 4,
        "x4": 4,
        "o4": 4,
    }[fmt]
    width = {
        "o2": 6,
        "x2": 4,
        "u2": 5,
        "o1": 3,
        "x1": 2,
        "u1": 3,
        "d2": 6,
        "d4": 11,
        "x4": 8,
        "o4": 11,
    }[fmt]
    out = []
    padded = chunk + b"\0" * (-len(chunk) % size)
    for k in range(0, len(padded), size):
        n = int.from_bytes(padded[k : k + size], "little", signed=fmt[0] == "d")
        conv = {"o": "o", "x": "x", "u": "d", "d": "d"}[fmt[0]]
        spec = f"0{width}{conv}" if fmt[0] in "ox" else f">{width}{conv}"
        out.append(" " + format(n, spec))
    return "".join(out)


@applet("od")
def od(ctx: AppletContext, argv: list[str]) -> int:
    """busybox od [-bcdox] [-A d|o|x|n] [FILE]...: 16 bytes a line, `*` for repeats."""
    fmts: list[str] = []
    radix = "o"
    files: list[str] = []
    args = argv[1:]
    flag_fmt = {
        "b": "o1",
        "c": "c",
        "d": "u2",
        "o": "o2",
        "x": "x2",
        "X": "x4",
        "D": "d4",
        "O": "o4",
    }
    while args:
        a = args.pop(0)
        if a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                o = a[j]
                j += 1
                if o in "At":
                    val = a[j:] or (args.pop(0) if args else "")
                    if o == "A":
                        if val not in ("d", "o", "x", "n"):
                            ctx.error(
                                f"bad output address radix '{val}' (must be one of 'doxn')"
                                if val
                                else ""
                            )
                            return 1
                        radix = val
                    else:
                        m = re.fullmatch(r"([xodu])([1248]?)|c", val)
                        if not m:
                            ctx.error(f"invalid type string '{val}'")
                            return 1
                        fmts.append("c" if val == "c" else m.group(1) + (m.group(2) or "2"))
                    break
                if o in flag_fmt:
                    fmts.append(flag_fmt[o])
                else:
                    ctx.error(f"invalid option -- '{o}'")
                    usage(ctx)
                    return 1
        else:
            files.append(a)
    fmts = fmts or ["o2"]
    data, status = _read_files(ctx, files)
    if status and not data:
        return status
    addr_w = {"o": (7, "o"), "d": (7, "d"), "x": (6, "x"), "n": (0, "")}[radix]

    def addr(n: int) -> str:
        return format(n, f"0{addr_w[0]}{addr_w[1]}") if addr_w[0] else ""

    out = []
    prev = None
    starred = False
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        if chunk == prev and len(chunk) == 16:
            if not starred:
                out.append("*\n")
                starred = True
            continue
        starred = False
        prev = chunk
        for i, f in enumerate(fmts):
            out.append((addr(off) if i == 0 else " " * addr_w[0]) + _od_field(f, chunk) + "\n")
    out.append(addr(len(data)) + "\n" if addr_w[0] else "")
    ctx.out("".join(out))
    return status


# -- dd ---------------------------------------------------------------------------------------
_DD_SUFFIX = {"c": 1, "w": 2, "b": 512, "kB": 1000, "k": 1024, "K": 1024, "MB": 10**6, "M": 1 << 20}
_DD_SUFFIX |= {"m": 1 << 20, "g": 1 << 30}
_DD_SUFFIX |= {"GB": 10**9, "G": 1 << 30}


def _dd_num(s: str) -> int | None:
    m = re.fullmatch(r"(\d+)(c|w|b|kB|k|K|MB|M|m|GB|G|g)?", s)
    if not m:
        return None
    return int(m.group(1)) * _DD_SUFFIX.get(m.group(2) or "c", 1)


@applet("dd")
def dd(ctx: AppletContext, argv: list[str]) -> int:
    """busybox dd if= of= bs= ibs= obs= count= skip= seek= conv=notrunc,sync,noerror
    status=none|noxfer; `N+M records in/out` on stderr (whole+partial blocks)."""
    opt: dict[str, str] = {}
    for a in argv[1:]:
        k, eq, v = a.partition("=")
        if not eq or k not in (
            "if",
            "of",
            "bs",
            "ibs",
            "obs",
            "count",
            "skip",
            "seek",
            "conv",
            "status",
            "iflag",
            "oflag",
        ):
            usage(ctx)
            return 1
        opt[k] = v
    nums: dict[str, int] = {}
    for k in ("bs", "ibs", "obs", "count", "skip", "seek"):
        if k in opt:
            n = _dd_num(opt[k])
            if n is None:
                ctx.error(f"invalid number '{opt[k]}'")
                return 1
            nums[k] = n
    ibs = nums.get("bs", nums.get("ibs", 512))
    obs = nums.get("bs", nums.get("obs", 512))
    conv = set(opt.get("conv", "").split(",")) - {""}
    count = nums.get("count")
    skip = nums.get("skip", 0)
    # the input: a file read as far as needed (an endless device needs a count)
    src = opt.get("if")
    if src is None:
        data = (
            ctx.stdin()
            if count is None
            else ctx.read(None if count is None else (skip + count) * ibs)
        )
    else:
        try:
            f = ctx.rootfs.open(ctx.path(src), "rb")
        except OSError as e:
            ctx.error(f"can't open '{src}': {e.strerror}")
            return 1
        with f:
            if count is None:
                try:
                    data = ctx.rootfs.read_bytes(ctx.path(src))
                except WouldBlock:
                    if not ctx.pipe_out:
                        raise
                    while True:  # an endless device into a pipe: until the reader is done
                        ctx.out(f.read(1 << 20))
            else:
                data = f.read((skip + count) * ibs)
    data = data[skip * ibs :]
    if count is not None:
        data = data[: count * ibs]
    blocks = [data[k : k + ibs] for k in range(0, len(data), ibs)]
    full_in = sum(1 for b in blocks if len(b) == ibs)
    part_in = len(blocks) - full_in
    if "sync" in conv:
        blocks = [b + b"\0" * (ibs - len(b)) for b in blocks]
    out_data = b"".join(blocks)
    full_out, part_out = len(out_data) // obs, 1 if len(out_data) % obs else 0
    dst = opt.get("of")
    if dst is None:
        ctx.out(out_data)
    else:
        seek = nums.get("seek", 0) * obs
        path = ctx.path(dst)
        try:
            try:
                old = ctx.rootfs.read_bytes(path)
            except FileNotFoundError:
                old = b""
            keep = old if "notrunc" in conv else old[:seek]
            new = keep[:seek] + b"\0" * max(0, seek - len(keep)) + out_data
            new += keep[len(new) :] if "notrunc" in conv else b""
            with ctx.rootfs.open(path, "wb") as fh:
                fh.write(new)
        except OSError as e:
            ctx.error(f"can't open '{dst}': {e.strerror}")
            return 1
    if opt.get("status") != "none":
        ctx.err(f"{full_in}+{part_in} records in\n{full_out}+{part_out} records out\n")
    return 0


# -- checksums, base64 --------------------------------------------------------------------------
def _sum(ctx: AppletContext, argv: list[str], algo: str) -> int:
    files = [a for a in argv[1:] if not (a.startswith("-") and a != "-")]
    check = any(a in ("-c", "--check") for a in argv[1:])
    status = 0
    if check:
        data, status = _read_files(ctx, files, cant_open=True)
        for line in _lines(data):
            m = re.fullmatch(r"([0-9a-fA-F]+) [ *](.*)", line)
            if not m:
                continue
            name = m.group(2)
            try:
                got = hashlib.new(algo, ctx.rootfs.read_bytes(ctx.path(name))).hexdigest()
            except OSError as e:
                ctx.error(f"can't open '{name}': {e.strerror}")
                ctx.out(f"{name}: FAILED\n")
                status = 1
                continue
            ok = got == m.group(1).lower()
            ctx.out(f"{name}: {'OK' if ok else 'FAILED'}\n")
            status |= 0 if ok else 1
        return status
    for name in files or ["-"]:
        try:
            data = ctx.stdin() if name == "-" else ctx.rootfs.read_bytes(ctx.path(name))
        except IsADirectoryError:
            ctx.error(f"{name}: Is a directory")
            status = 1
            continue
        except OSError as e:
            ctx.error(f"can't open '{name}': {e.strerror}")
            status = 1
            continue
        ctx.out(f"{hashlib.new(algo, data).hexdigest()}  {name}\n")
    return status


@applet("md5sum")
def md5sum(ctx: AppletContext, argv: list[str]) -> int:
    return _sum(ctx, argv, "md5")


@applet("sha1sum")
def sha1sum(ctx: AppletContext, argv: list[str]) -> int:
    return _sum(ctx, argv, "sha1")


@applet("sha256sum")
def sha256sum(ctx: AppletContext, argv: list[str]) -> int:
    return _sum(ctx, argv, "sha256")


@applet("sha512sum")
def sha512sum(ctx: AppletContext, argv: list[str]) -> int:
    return _sum(ctx, argv, "sha512")


@applet("base64")
def base64(ctx: AppletContext, argv: list[str]) -> int:
    """busybox base64 [-d] [-w COL] [FILE]: lines of 76 columns."""
    args = argv[1:]
    decode = False
    wrap = 76
    files = []
    while args:
        a = args.pop(0)
        if a == "-d":
            decode = True
        elif a.startswith("-w"):
            wrap = int(a[2:] or (args.pop(0) if args else "76"))
        else:
            files.append(a)
    data, status = _read_files(ctx, files[:1])
    if status:
        return status
    if decode:
        text = re.sub(rb"\s", b"", data)
        try:
            ctx.out(b64.b64decode(text + b"=" * (-len(text) % 4)))
        except ValueError:
            ctx.error("invalid input")
            return 1
        return 0
    enc = b64.b64encode(data).decode()
    if wrap:
        ctx.out("".join(enc[k : k + wrap] + "\n" for k in range(0, len(enc), wrap)))
    else:
        ctx.out(enc + ("\n" if enc else ""))
    return 0


# -- paths ------------------------------------------------------------------------------------
def _resolve(ctx: AppletContext, path: str, must_exist: bool) -> str | None:
    """realpath(3): every symlink followed; None if a part is missing (the last may be
    missing unless `must_exist`, as readlink -f allows)."""
    parts = [p for p in ctx.path(path).split("/") if p]
    done = "/"
    for _ in range(1000):
        if not parts:
            return done
        p = parts.pop(0)
        if p == ".":
            continue
        if p == "..":
            done = posixpath.dirname(done) or "/"
            continue
        cand = posixpath.join(done, p)
        try:
            if ctx.rootfs.islink(cand):
                target = ctx.rootfs.readlink(cand)
                parts = [x for x in target.split("/") if x] + parts
                if target.startswith("/"):
                    done = "/"
                continue
            ctx.rootfs.lstat(cand)
        except OSError:
            if must_exist or parts:
                return None
        done = cand
    return None


@applet("readlink")
def readlink(ctx: AppletContext, argv: list[str]) -> int:
    """busybox readlink [-fnv] FILE: a link's target, or (-f) the canonical path."""
    opts = set()
    files = []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1:
            opts.update(a[1:])
        else:
            files.append(a)
    if len(files) != 1:
        usage(ctx)
        return 1
    end = "" if "n" in opts else "\n"
    if "f" in opts:
        got = _resolve(ctx, files[0], False)
        if got is None:
            return 1
        ctx.out(got + end)
        return 0
    try:
        ctx.out(ctx.rootfs.readlink(ctx.path(files[0])) + end)
    except OSError:
        return 1
    return 0


@applet("realpath")
def realpath(ctx: AppletContext, argv: list[str]) -> int:
    files = argv[1:]
    if not files:
        usage(ctx)
        return 1
    status = 0
    for f in files:
        got = _resolve(ctx, f, True)
        if got is None:
            ctx.error(f"{f}: No such file or directory")
            status = 1
            continue
        ctx.out(got + "\n")
    return status


@applet("truncate")
def truncate(ctx: AppletContext, argv: list[str]) -> int:
    """busybox truncate [-c] -s [+|-]SIZE FILE..."""
    args = argv[1:]
    size_s = None
    create = True
    files = []
    while args:
        a = args.pop(0)
        if a == "-c":
            create = False
        elif a.startswith("-s"):
            size_s = a[2:] or (args.pop(0) if args else None)
        else:
            files.append(a)
    if size_s is None or not files:
        usage(ctx)
        return 1
    n = _dd_num(size_s)  # busybox's size suffixes (k K M G kB MB GB b), no +/- sizes
    if n is None:
        ctx.error(f"invalid number '{size_s}'")
        return 1
    status = 0
    for f in files:
        path = ctx.path(f)
        try:
            old = ctx.rootfs.read_bytes(path)
        except FileNotFoundError:
            if not create:
                continue
            old = b""
        except OSError as e:
            ctx.error(f"{f}: {e.strerror}")
            status = 1
            continue
        new = old[:n] + b"\0" * max(0, n - len(old))
        try:
            with ctx.rootfs.open(path, "wb") as fh:
                fh.write(new)
        except OSError as e:
            ctx.error(f"{f}: {e.strerror}")
            status = 1
    return status


@applet("which")
def which(ctx: AppletContext, argv: list[str]) -> int:
    """busybox which [-a] COMMAND...: the files in PATH (applets without a file are not
    found, as busybox's which looks only at PATH)."""
    names = [a for a in argv[1:] if a != "-a"]
    every = "-a" in argv[1:]
    if not names:
        usage(ctx)
        return 1
    status = 0
    path_var = ctx.env.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    for name in names:
        found = False
        cands = (
            [name] if "/" in name else [posixpath.join(d or ".", name) for d in path_var.split(":")]
        )
        for c in cands:
            try:
                st = ctx.rootfs.stat(ctx.path(c))
            except OSError:
                continue
            if st_mod.S_ISREG(st.st_mode) and st.st_mode & 0o111:
                ctx.out(c + "\n")
                found = True
                if not every:
                    break
        status |= 0 if found else 1
    return status


# -- expr -------------------------------------------------------------------------------------
class _ExprError(Exception):
    pass


def _expr_int(v: str) -> int | None:
    return int(v) if re.fullmatch(r"-?\d+", v) else None


@applet("expr")
def expr(ctx: AppletContext, argv: list[str]) -> int:
    """busybox expr: | & = > >= < <= != + - * / % : ( ) length substr index match."""
    toks = argv[1:]
    pos = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(toks):
            raise _ExprError("syntax error")
        pos += 1
        return toks[pos - 1]

    def truth(v: str) -> bool:
        return v not in ("", "0") and _expr_int(v) != 0

    def arith(a: str, b: str, op: str) -> str:
        x, y = _expr_int(a), _expr_int(b)
        if x is None or y is None:
            raise _ExprError("non-numeric argument")
        if op in "/%" and y == 0:
            raise _ExprError("division by zero")
        if op == "+":
            return str(x + y)
        if op == "-":
            return str(x - y)
        if op == "*":
            return str(x * y)
        q = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)
        return str(q if op == "/" else x - q * y)

    def primary() -> str:
        t = take()
        if t == "(":
            v = or_()
            if take() != ")":
                raise _ExprError("syntax error")
            return v
        if t == "length":
            return str(len(take()))
        if t == "substr":
            s, p, n = take(), _expr_int(take()), _expr_int(take())
            if p is None or n is None or p < 1 or n < 1:
                return ""
            return s[p - 1 : p - 1 + n]
        if t == "index":
            s, chars = take(), take()
            return str(min((s.index(c) + 1 for c in chars if c in s), default=0))
        if t == "match":
            return match(take(), take())
        return t

    def match(s: str, pat: str) -> str:
        from .regex import RegexError, compile_posix

        try:
            rx = compile_posix(pat, False)
        except RegexError as e:
            raise _ExprError(str(e)) from None
        m = rx.match(s)
        if rx.groups:
            return (m.group(1) or "") if m else ""
        return str(m.end()) if m else "0"

    def colon() -> str:
        v = primary()
        while peek() == ":":
            take()
            v = match(v, primary())
        return v

    def mul() -> str:
        v = colon()
        while peek() in ("*", "/", "%"):
            op = take()
            v = arith(v, colon(), op)
        return v

    def add() -> str:
        v = mul()
        while peek() in ("+", "-"):
            op = take()
            v = arith(v, mul(), op)
        return v

    def cmp() -> str:
        v = add()
        while peek() in ("=", "==", "!=", "<", "<=", ">", ">="):
            op = take()
            w = add()
            x, y = _expr_int(v), _expr_int(w)
            a, b = (x, y) if x is not None and y is not None else (v, w)
            res = {
                "=": a == b,
                "==": a == b,
                "!=": a != b,
                "<": a < b,  # type: ignore[operator]
                "<=": a <= b,  # type: ignore[operator]
                ">": a > b,  # type: ignore[operator]
                ">=": a >= b,  # type: ignore[operator]
            }[op]
            v = "1" if res else "0"
        return v

    def and_() -> str:
        v = cmp()
        while peek() == "&":
            take()
            w = cmp()
            v = v if truth(v) and truth(w) else "0"
        return v

    def or_() -> str:
        v = and_()
        while peek() == "|":
            take()
            w = and_()
            v = v if truth(v) else (w if truth(w) else "0")
        return v

    if not toks:
        ctx.error("too few arguments")
        return 2
    try:
        v = or_()
        if pos != len(toks):
            raise _ExprError("syntax error")
    except _ExprError as e:
        ctx.error(str(e))
        return 2
    ctx.out(v + "\n")
    return 0 if truth(v) else 1


@applet("xargs")
def xargs(ctx: AppletContext, argv: list[str]) -> int | Exec:
    """busybox xargs [-n N] [-0] [-t] [-r] [PROG ARGS]: runs PROG (default echo) with the
    words of stdin. One run is handed to the machine (as `env` does); more than one (-n)
    runs them as a shell loop would, through `sh -c` with the words quoted."""
    args = argv[1:]
    per: int | None = None
    zero = trace = no_run_empty = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        a = args.pop(0)
        if a == "--":
            break
        if a.startswith("-n"):
            per = int(a[2:] or (args.pop(0) if args else "0"))
        elif a == "-0":
            zero = True
        elif a == "-t":
            trace = True
        elif a == "-r":
            no_run_empty = True
        else:
            ctx.error(f"invalid option -- '{a[1:2]}'")
            usage(ctx)
            return 1
    prog = args or ["echo"]
    data = _text(ctx.stdin())
    words = [w for w in data.split("\0")] if zero else _xargs_words(data)
    if zero and words and words[-1] == "":
        words.pop()
    if not words and no_run_empty:
        return 0
    runs = [words] if not per else [words[k : k + per] for k in range(0, len(words), per)] or [[]]
    if len(runs) == 1:
        if trace:
            ctx.err(" ".join(prog + runs[0]) + "\n")
        return Exec(prog + runs[0], dict(ctx.env))
    script = "s=0\n" + "".join(
        ("echo " + _quote(" ".join(prog + r)) + " >&2; " if trace else "")
        + " ".join(_quote(w) for w in prog + r)
        + " || s=123\n"
        for r in runs
    )
    return Exec(["sh", "-c", script + "exit $s\n"], dict(ctx.env))


def _quote(w: str) -> str:
    return "'" + w.replace("'", "'\\''") + "'"


def _xargs_words(data: str) -> list[str]:
    """Words as xargs reads them: blanks separate, quotes and backslash escape."""
    words, cur, i, have = [], [], 0, False
    while i < len(data):
        c = data[i]
        if c in "'\"":
            end = data.find(c, i + 1)
            end = len(data) if end < 0 else end
            cur.append(data[i + 1 : end])
            have = True
            i = end + 1
            continue
        if c == "\\" and i + 1 < len(data):
            cur.append(data[i + 1])
            have = True
            i += 2
            continue
        if c.isspace():
            if have:
                words.append("".join(cur))
                cur, have = [], False
            i += 1
            continue
        cur.append(c)
        have = True
        i += 1
    if have:
        words.append("".join(cur))
    return words


__all__ = [
    "base64",
    "cut",
    "dd",
    "expr",
    "md5sum",
    "od",
    "readlink",
    "realpath",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "sort",
    "tr",
    "truncate",
    "uniq",
    "which",
    "xargs",
    "yes",
]
