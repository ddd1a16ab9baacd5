"""Text applets: echo printf cat head tail wc grep seq basename dirname (busybox wording)."""

from __future__ import annotations

import posixpath
import re
import stat

from dockerlayers.graphdriver.rootfs import WouldBlock

from .context import AppletContext
from .registry import applet, usage


@applet("echo")
def echo(ctx: AppletContext, argv: list[str]) -> int:
    """busybox echo: -n -e -E; like ash's builtin, no escapes unless -e."""
    args = argv[1:]
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for ch in args.pop(0)[1:]:
            if ch == "n":
                newline = False
            elif ch == "e":
                escapes = True
            else:
                escapes = False
    text = " ".join(args)
    if escapes:
        text, stop = _unescape(text)
        if stop:
            ctx.out(text)
            return 0
    ctx.out(text + ("\n" if newline else ""))
    return 0


_ESC = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "e": "\x1b",
}


def _byte(n: int) -> str:
    """The character that stands for byte `n` (above 127: its surrogate escape, so that
    the output is that one byte, not its UTF-8 form)."""
    n &= 0xFF
    return chr(n) if n < 128 else chr(0xDC00 + n)


def _unescape(text: str) -> tuple[str, bool]:
    """Backslash escapes of echo -e / printf %b; True if `\\c` stopped the output."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "c":
                return "".join(out), True
            if n in _ESC:
                out.append(_ESC[n])
                i += 2
                continue
            if n == "0" or n in "1234567":
                m = re.match(r"0?([0-7]{1,3})", text[i + 1 :])
                if m:
                    out.append(_byte(int(m.group(1), 8)))
                    i += 1 + m.end()
                    continue
            if n == "x":
                m = re.match(r"[0-9a-fA-F]{1,2}", text[i + 2 :])
                if m:
                    out.append(_byte(int(m.group(0), 16)))
                    i += 2 + m.end()
                    continue
        out.append(c)
        i += 1
    return "".join(out), False


def _printf_num(ctx: AppletContext, arg: str, conv: str, bad: list) -> int | float:
    try:
        if conv in "feEgG":
            return float(arg) if arg else 0.0
        if arg[:1] in "'\"" and len(arg) > 1:
            return ord(arg[1])
        return int(arg, 0) if arg else 0
    except ValueError:
        ctx.error(f"invalid number '{arg}'")
        bad.append(arg)
        return 0


@applet("printf")
def printf(ctx: AppletContext, argv: list[str]) -> int:
    """POSIX printf: the format is reused while arguments remain."""
    if len(argv) < 2:
        ctx.error("usage: printf FORMAT [ARGUMENT...]")
        return 2
    fmt, args = argv[1], argv[2:]
    spec = re.compile(
        r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?([diouxXfeEgGcsb%])|\\[0-7]{1,3}|\\.|[^%\\]+|.", re.S
    )
    out: list[str] = []
    bad: list[str] = []
    while True:
        used = 0
        for m in spec.finditer(fmt):
            tok = m.group(0)
            if re.fullmatch(r"\\[0-7]{1,3}", tok):  # in a format: up to 3 digits, 0 among them
                out.append(_byte(int(tok[1:], 8)))
                continue
            if tok.startswith("\\"):
                text, stop = _unescape(tok)
                out.append(text)
                if stop:
                    ctx.out("".join(out))
                    return 0
                continue
            if not tok.startswith("%") or m.group(4) is None:
                out.append(tok)
                continue
            flags, width, prec, conv = m.group(1), m.group(2) or "", m.group(3), m.group(4)
            if conv == "%":
                out.append("%")
                continue
            arg = args[used] if used < len(args) else ""
            used += 1
            pyfmt = "%" + flags + width + (f".{prec}" if prec is not None else "")
            if conv in "sb":
                if conv == "b":
                    arg, stop = _unescape(arg)
                out.append((pyfmt + "s") % arg)
            elif conv == "c":
                out.append((pyfmt + "s") % arg[:1])
            elif conv in "diouxX":
                n = int(_printf_num(ctx, arg, conv, bad))
                out.append(
                    (pyfmt + ("d" if conv == "i" else conv))
                    % (n if conv not in "ouxX" or n >= 0 else n & (2**64 - 1))
                )
            else:
                out.append((pyfmt + conv) % float(_printf_num(ctx, arg, conv, bad)))
        args = args[used:]
        if not args or not used:
            break
    ctx.out("".join(out))
    return 1 if bad else 0


def _stdin(ctx: AppletContext, limit: int | None, lines: int | None) -> bytes:
    """stdin, read only as far as needed: `limit` bytes, or `lines` lines (so that
    `yes | head -n 2` ends: the rest stays in the pipe, see shell/core.PIPE_BOUND)."""
    if limit is not None:
        return ctx.read(limit)
    if lines is not None:
        got = []
        for _ in range(lines):
            line = ctx.readline()
            if line is None:
                break
            got.append(line)
        return "".join(got).encode("utf-8", "surrogateescape")
    return ctx.stdin()


def _inputs(
    ctx: AppletContext, files: list[str], limit: int | None = None, lines: int | None = None
):
    """Yield (name, data) for each file ('-' or none: stdin); errors as busybox prints them.

    With `limit`, at most that many bytes are read (`head -c N` of an endless device
    ends), with `lines` (stdin only) that many lines; a read that never ends
    (WouldBlock) blocks the program.
    """
    if not files:
        yield "-", _stdin(ctx, limit, lines)
        return
    for name in files:
        if name == "-":
            yield name, _stdin(ctx, limit, lines)
            continue
        try:
            if limit is None:
                yield name, ctx.rootfs.read_bytes(ctx.path(name))
            else:
                with ctx.rootfs.open(ctx.path(name), "rb") as f:
                    yield name, f.read(limit)
        except IsADirectoryError:
            yield name, IsADirectoryError
        except WouldBlock:
            raise
        except OSError as err:
            yield name, err


#: how much of a regular file `cat` reads at a time (its output streams to the log)
CAT_CHUNK = 1 << 20


def _cat_regular(ctx: AppletContext, name: str) -> bool:
    """Copy a regular file to stdout in chunks (memory stays flat for a large file); False
    for anything else (stdin, devices, FIFOs, errors: the general path answers those)."""
    if name == "-":
        return False
    try:
        if not stat.S_ISREG(ctx.rootfs.stat(ctx.path(name)).st_mode):
            return False
        f = ctx.rootfs.open(ctx.path(name), "rb")
    except OSError:
        return False
    with f:
        while chunk := f.read(CAT_CHUNK):
            ctx.out(chunk)
    return True


def _cat_endless(ctx: AppletContext, name: str) -> bool:
    """An endless device (/dev/zero, /dev/urandom) into a pipe: copied until the pipe is
    full and its reader done (the write raises: SIGPIPE); False for anything else."""
    try:
        if not stat.S_ISCHR(ctx.rootfs.stat(ctx.path(name)).st_mode):
            return False
        ctx.rootfs.read_bytes(ctx.path(name))
        return False  # a device that ends (/dev/null)
    except WouldBlock:
        pass
    except OSError:
        return False
    with ctx.rootfs.open(ctx.path(name), "rb") as f:
        while True:
            ctx.out(f.read(CAT_CHUNK))


@applet("cat")
def cat(ctx: AppletContext, argv: list[str]) -> int:
    status = 0
    files = [a for a in argv[1:] if a not in ("-u",)]
    for name in files or ["-"]:
        if _cat_regular(ctx, name):
            continue
        if name != "-" and ctx.pipe_out and _cat_endless(ctx, name):
            continue
        for _, data in _inputs(ctx, [name] if files else []):
            if data is IsADirectoryError:
                ctx.error("read error: Is a directory")
                status = 1
            elif isinstance(data, OSError):
                ctx.error(f"can't open '{name}': {data.strerror}")
                status = 1
            else:
                ctx.out(data)
    return status


def _count_opt(args: list[str], default: int) -> tuple[int, bool, list[str], bool]:
    """Parse -n N / -N / -c N for head and tail: (count, bytes, rest, from_start)."""
    n, by_bytes, rest, plus = default, False, [], False
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-n", "-c") and i + 1 < len(args):
            by_bytes = a == "-c"
            val = args[i + 1]
            plus = val.startswith("+")
            n = int(val.lstrip("+-"))
            i += 2
            continue
        if re.fullmatch(r"-[nc]\+?\d+", a):
            by_bytes = a[1] == "c"
            plus = a[2] == "+"
            n = int(a[2:].lstrip("+"))
        elif re.fullmatch(r"-\d+", a):
            n = int(a[1:])
        elif a in ("-q", "-v", "-f"):
            pass
        else:
            rest.append(a)
        i += 1
    return n, by_bytes, rest, plus


def _head_tail(ctx: AppletContext, argv: list[str], head: bool) -> int:
    try:
        n, by_bytes, files, plus = _count_opt(argv[1:], 10)
    except ValueError:
        ctx.error("invalid number")
        return 1
    status = 0
    many = len(files) > 1
    limit = n if head and by_bytes else None
    lines_wanted = n if head and not by_bytes else None
    for i, (name, data) in enumerate(_inputs(ctx, files, limit, lines_wanted)):
        if isinstance(data, OSError) or data is IsADirectoryError:
            why = "Is a directory" if data is IsADirectoryError else data.strerror
            ctx.error(f"{name}: {why}")
            status = 1
            continue
        if many:
            ctx.out(("\n" if i else "") + f"==> {name} <==\n")
        if by_bytes:
            part = data[:n] if head else (data[n - 1 :] if plus else data[-n:] if n else b"")
        else:
            lines = data.splitlines(keepends=True)
            if head:
                part = b"".join(lines[:n])
            elif plus:
                part = b"".join(lines[max(n - 1, 0) :])
            else:
                part = b"".join(lines[-n:]) if n else b""
        ctx.out(part)
    return status


@applet("head")
def head(ctx: AppletContext, argv: list[str]) -> int:
    return _head_tail(ctx, argv, head=True)


@applet("tail")
def tail(ctx: AppletContext, argv: list[str]) -> int:
    return _head_tail(ctx, argv, head=False)


@applet("wc")
def wc(ctx: AppletContext, argv: list[str]) -> int:
    """busybox wc: columns %9u, but a lone count is printed bare (`wc -l < f` → `3`)."""
    opts = set()
    files = []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1:
            opts.update(a[1:])
        else:
            files.append(a)
    cols = [c for c in "lwcL" if c in opts] or ["l", "w", "c"]
    totals = dict.fromkeys(cols, 0)
    status = 0
    results = []
    for name, data in _inputs(ctx, files):
        if isinstance(data, OSError) or data is IsADirectoryError:
            why = "Is a directory" if data is IsADirectoryError else data.strerror
            ctx.error(f"{name}: {why}")
            status = 1
            continue
        counts = {
            "l": data.count(b"\n"),
            "w": len(data.split()),
            "c": len(data),
            "L": max((len(x) for x in data.split(b"\n")), default=0),
        }
        for c in cols:
            totals[c] += counts[c]
        results.append((name if files else None, counts))
    if len(files) > 1:
        results.append(("total", totals))
    for name, counts in results:
        if len(cols) == 1 and name is None:
            line = str(counts[cols[0]])
        else:
            line = " ".join(f"{counts[c]:9d}" for c in cols)
            if len(cols) == 1:
                line = str(counts[cols[0]])
        if name is not None:
            line += f" {name}"
        ctx.out(line + "\n")
    return status


@applet("grep")
def grep(ctx: AppletContext, argv: list[str]) -> int:
    """grep with -v -c -q -i -o -F -E -n -l -x -w -s -e; basic regex mapped to Python's."""
    opts: set[str] = set()
    patterns: list[str] = []
    files: list[str] = []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--":
            files.extend(args)
            break
        if a == "-e" and args:
            patterns.append(args.pop(0))
        elif a.startswith("-") and len(a) > 1:
            opts.update(a[1:])
        elif not patterns and "e" not in opts:
            patterns.append(a)
        else:
            files.append(a)
    if not patterns:
        usage(ctx)
        return 2
    flags = re.I if "i" in opts else 0
    regs = []
    for p in patterns:
        if "F" in opts:
            rx = re.escape(p)
        elif "E" in opts:
            rx = p
        else:
            rx = _bre_to_python(p)
        if "w" in opts:
            rx = rf"\b(?:{rx})\b"
        if "x" in opts:
            rx = rf"(?:{rx})\Z"
        try:
            regs.append(re.compile(rx, flags))
        except re.error:
            ctx.error(f"bad regex '{p}'")
            return 2
    found = False
    status_err = False
    show_names = len(files) > 1
    for name, data in _inputs(ctx, files):
        if isinstance(data, OSError) or data is IsADirectoryError:
            if "s" not in opts:
                why = "Is a directory" if data is IsADirectoryError else data.strerror
                ctx.error(f"{name}: {why}")
            status_err = True
            continue
        label = "(standard input)" if name == "-" else name
        count = 0
        for lineno, raw in enumerate(data.decode("utf-8", "surrogateescape").splitlines(), 1):
            hit = any(r.match(raw) if "x" in opts else r.search(raw) for r in regs)
            if hit == ("v" in opts):
                continue
            count += 1
            found = True
            if "q" in opts:
                return 0
            if "c" in opts or "l" in opts:
                continue
            prefix = (f"{label}:" if show_names else "") + (f"{lineno}:" if "n" in opts else "")
            if "o" in opts and "v" not in opts:
                for r in regs:
                    for m in r.finditer(raw):
                        if m.group(0):
                            ctx.out(prefix + m.group(0) + "\n")
                continue
            ctx.out(prefix + raw + "\n")
        if "c" in opts:
            ctx.out((f"{label}:" if show_names else "") + f"{count}\n")
        if "l" in opts and count:
            ctx.out(label + "\n")
    if status_err and not found:
        return 2
    return 0 if found else 1


def _bre_to_python(p: str) -> str:
    """POSIX basic regex → Python: \\( \\) \\{ \\} \\| are the operators; ( ) { } | + ? literal."""
    out, i = [], 0
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            n = p[i + 1]
            out.append(n if n in "(){}|+?" else "\\" + n)
            i += 2
            continue
        out.append("\\" + c if c in "(){}|+?" else c)
        i += 1
    return "".join(out)


@applet("seq")
def seq(ctx: AppletContext, argv: list[str]) -> int:
    args = [a for a in argv[1:]]
    sep = "\n"
    if len(args) >= 2 and args[0] == "-s":
        sep = args[1]
        args = args[2:]
    try:
        nums = [float(a) if "." in a else int(a) for a in args]
    except ValueError as err:
        ctx.error(f"invalid number '{str(err).split()[-1].strip(chr(39))}'")
        return 1
    if not 1 <= len(nums) <= 3:
        usage(ctx)
        return 1
    first, inc, last = (
        (1, 1, nums[0]) if len(nums) == 1 else (nums[0], 1, nums[1]) if len(nums) == 2 else nums
    )
    if inc == 0:
        return 1
    # written in chunks as busybox writes its stdout: no cap, no whole list in memory
    chunk: list[str] = []
    x = first
    started = False
    while (x <= last) if inc > 0 else (x >= last):
        chunk.append(str(x))
        x += inc
        if len(chunk) == 10_000:
            ctx.out((sep if started else "") + sep.join(chunk))
            started, chunk = True, []
    if chunk:
        ctx.out((sep if started else "") + sep.join(chunk))
        started = True
    if started:
        ctx.out("\n")
    return 0


@applet("basename")
def basename(ctx: AppletContext, argv: list[str]) -> int:
    if len(argv) < 2:
        usage(ctx)
        return 1
    path = argv[1].rstrip("/") or "/"
    name = posixpath.basename(path) or "/"
    if len(argv) > 2 and name != argv[2] and name.endswith(argv[2]):
        name = name[: -len(argv[2])]
    ctx.out(name + "\n")
    return 0


@applet("dirname")
def dirname(ctx: AppletContext, argv: list[str]) -> int:
    if len(argv) < 2:
        usage(ctx)
        return 1
    path = argv[1].rstrip("/") or "/"
    d = posixpath.dirname(path).rstrip("/") or ("/" if path.startswith("/") else ".")
    ctx.out(d + "\n")
    return 0
