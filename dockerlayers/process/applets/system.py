"""System applets: sleep top date hostname true false test/[ env printenv pwd id whoami uname
kill tee busybox. Time comes from the process's clock, never the host's."""

from __future__ import annotations

import math
import re
import time

from ..signals import kill_command
from ..users import UserError, get_exec_user, name_of
from .context import AppletContext, Block, Exec
from .registry import APPLETS, BANNER, applet, usage

_SLEEP_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@applet("sleep")
def sleep(ctx: AppletContext, argv: list[str]) -> int | Block:
    """busybox sleep: the sum of its arguments, each N[.N][smhd], or `infinity`."""
    if len(argv) < 2:
        usage(ctx)
        return 1
    total = 0.0
    for arg in argv[1:]:
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", arg)
        if arg in ("inf", "infinity"):
            total = math.inf
            continue
        if not m:
            ctx.error(f"invalid number '{arg}'")
            return 1
        total += float(m.group(1)) * _SLEEP_UNITS.get(m.group(2) or "s", 1)
    if total <= 0:
        return 0
    return Block(ctx.now + total)


@applet("top")
def top(ctx: AppletContext, argv: list[str]) -> int | Block:
    """busybox top: redraws until it is killed; `-n N` (with `-b`) stops after N screens.
    The model draws nothing (it has no process table or load to show): it runs until
    signalled, which is what `docker run -d IMAGE top` relies on."""
    args = argv[1:]
    if "-n" in args:
        i = args.index("-n")
        if i + 1 < len(args) and args[i + 1].isdigit():
            return 0
    return Block(math.inf)


def strftime(fmt: str, t: float) -> str:
    """C strftime in UTC, plus %s (epoch seconds) and %N (nanoseconds)."""
    tm = time.gmtime(t)
    frac = int(round((t - math.floor(t)) * 1e9)) % 1_000_000_000
    out, i = [], 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%" and i + 1 < len(fmt):
            d = fmt[i + 1]
            i += 2
            if d == "s":
                out.append(str(int(math.floor(t))))
            elif d == "N":
                out.append(f"{frac:09d}")
            elif d == "Z":
                out.append("UTC")
            elif d == "z":
                out.append("+0000")
            elif d == "e":
                out.append(f"{tm.tm_mday:2d}")
            elif d == "%":
                out.append("%")
            else:
                out.append(time.strftime("%" + d, tm))
            continue
        out.append(c)
        i += 1
    return "".join(out)


@applet("date")
def date(ctx: AppletContext, argv: list[str]) -> int:
    """date [-u] [-d @SECONDS] [+FORMAT]; the container's TZ is UTC."""
    t = ctx.now
    fmt = "%a %b %e %H:%M:%S %Z %Y"
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a in ("-u", "-R"):
            if a == "-R":
                fmt = "%a, %d %b %Y %H:%M:%S %z"
        elif a == "-I":
            fmt = "%Y-%m-%d"
        elif a in ("-d", "-D") and args:
            spec = args.pop(0)
            if spec.startswith("@"):
                try:
                    t = float(spec[1:])
                except ValueError:
                    ctx.error(f"invalid date '{spec}'")
                    return 1
            else:
                ctx.error(f"invalid date '{spec}'")
                return 1
        elif a.startswith("+"):
            fmt = a[1:]
        else:
            ctx.error(f"invalid date '{a}'")
            return 1
    ctx.out(strftime(fmt, t) + "\n")
    return 0


@applet("hostname")
def hostname(ctx: AppletContext, argv: list[str]) -> int:
    """The container's UTS hostname (the one Docker also writes to /etc/hostname)."""
    name = ctx.hostname
    if not name:
        try:
            name = ctx.rootfs.read_text("/etc/hostname").strip()
        except OSError:
            name = "localhost"
    if "-s" in argv[1:]:
        name = name.split(".")[0]
    ctx.out(name + "\n")
    return 0


@applet("true")
def true(ctx: AppletContext, argv: list[str]) -> int:
    return 0


@applet("false")
def false(ctx: AppletContext, argv: list[str]) -> int:
    return 1


@applet("pwd")
def pwd(ctx: AppletContext, argv: list[str]) -> int:
    ctx.out(ctx.cwd + "\n")
    return 0


@applet("env")
def env(ctx: AppletContext, argv: list[str]) -> int | Exec:
    """env [-i] [-u NAME] [NAME=VALUE]... [COMMAND [ARG]...]"""
    args = argv[1:]
    new = dict(ctx.env)
    while args and args[0].startswith("-"):
        a = args.pop(0)
        if a in ("-i", "-"):
            new = {}
        elif a == "-u" and args:
            new.pop(args.pop(0), None)
        elif a == "--":
            break
    while args and "=" in args[0] and not args[0].startswith("="):
        k, _, v = args.pop(0).partition("=")
        new[k] = v
    if args:
        return Exec(args, new)
    ctx.out("".join(f"{k}={v}\n" for k, v in new.items()))
    return 0


@applet("printenv")
def printenv(ctx: AppletContext, argv: list[str]) -> int:
    if len(argv) == 1:
        ctx.out("".join(f"{k}={v}\n" for k, v in ctx.env.items()))
        return 0
    status = 0
    for name in argv[1:]:
        if name in ctx.env:
            ctx.out(ctx.env[name] + "\n")
        else:
            status = 1
    return status


def _lookup(ctx: AppletContext, path: str, ident: int) -> str | None:
    return name_of(ctx.rootfs, path, ident)


@applet("id")
def id_(ctx: AppletContext, argv: list[str]) -> int:
    """busybox id [-ugGnr] [USER]: the process's ids (or USER's, from /etc/passwd and the
    groups that list it), names from the container's /etc/passwd and /etc/group; a name
    that is missing prints the number and `id: unknown ID N`, status 1.

    busybox: coreutils/id.c
    """
    opts, names = "", []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1 and not names:
            bad = [c for c in a[1:] if c not in "ugGnr"]
            if bad:
                ctx.error(f"invalid option -- '{bad[0]}'")
                usage(ctx)
                return 1
            opts += a[1:]
        else:
            names.append(a)
    just = [c for c in "ugG" if c in opts]
    if len(just) > 1 or len(names) > 1 or (("n" in opts or "r" in opts) and not just):
        usage(ctx)
        return 1
    uid, gid, groups = ctx.uid, ctx.gid, list(ctx.groups)
    if names:
        try:
            who = get_exec_user(ctx.rootfs, names[0]) if not names[0].isdigit() else None
        except UserError:
            who = None
        if who is None:
            ctx.error(f"unknown user {names[0]}")
            return 1
        # getgrouplist's order: the gid, then /etc/group's order
        uid, gid = who.uid, who.gid
        groups = [gid, *(g for g in dict.fromkeys(who.sgids) if g != gid)]
    status = 0

    def show(ident: int, path: str) -> str:
        nonlocal status
        if "n" not in opts:
            return str(ident)
        name = _lookup(ctx, path, ident)
        if name is None:
            status = 1
            ctx.out(f"{ident}\n")
            ctx.error(f"unknown ID {ident}")
            return ""
        return name

    if just:
        if just[0] == "G":  # the egid first, then the others
            firsts = [gid, *(g for g in groups if g != gid)] if not names else groups
            parts = [show(g, "/etc/group") for g in firsts]
            if status == 0:
                ctx.out(" ".join(parts) + "\n")
            return status
        text = show(uid, "/etc/passwd") if just[0] == "u" else show(gid, "/etc/group")
        if status == 0:
            ctx.out(text + "\n")
        return status

    def named(ident: int, path: str) -> str:
        name = _lookup(ctx, path, ident)
        return f"{ident}({name})" if name else str(ident)

    gs = ",".join(named(g, "/etc/group") for g in groups)
    ctx.out(f"uid={named(uid, '/etc/passwd')} gid={named(gid, '/etc/group')} groups={gs}\n")
    return 0


@applet("whoami")
def whoami(ctx: AppletContext, argv: list[str]) -> int:
    name = _lookup(ctx, "/etc/passwd", ctx.uid)
    if name is None:
        ctx.error(f"unknown uid {ctx.uid}")
        return 1
    ctx.out(name + "\n")
    return 0


#: What a simulated kernel reports.
UNAME = {
    "s": "Linux",
    "r": "6.1.0-dockerlayers",
    "v": "#1 SMP PREEMPT_DYNAMIC",
    "m": "x86_64",
    "o": "GNU/Linux",
}


@applet("uname")
def uname(ctx: AppletContext, argv: list[str]) -> int:
    opts = "".join(a[1:] for a in argv[1:] if a.startswith("-")) or "s"
    if "a" in opts:
        opts = "snrvmo"
    values = dict(UNAME, n=ctx.hostname or "localhost", p="unknown", i="unknown")
    order = "snrvmpio"
    ctx.out(" ".join(values[c] for c in order if c in opts) + "\n")
    return 0


@applet("kill")
def kill(ctx: AppletContext, argv: list[str]) -> int:
    """busybox kill (the shell's builtin shares its code); signals go through the machine."""
    return kill_command(ctx.write, argv, "kill: ", ctx.kill)


@applet("tee")
def tee(ctx: AppletContext, argv: list[str]) -> int:
    append = "-a" in argv[1:]
    files = [a for a in argv[1:] if not a.startswith("-")]
    data = ctx.stdin()
    status = 0
    for f in files:
        try:
            with ctx.rootfs.open(ctx.path(f), "ab" if append else "wb") as fh:
                fh.write(data)
        except OSError as err:
            ctx.error(f"{f}: {err.strerror}")
            status = 1
    ctx.out(data)
    return status


_BUSYBOX_HELP = """BusyBox is copyrighted by many authors between 1998-2015.
Licensed under GPLv2. See source distribution for detailed
copyright notices.

Usage: busybox [function [arguments]...]
   or: busybox --list[-full]
   or: busybox --install [-s] [DIR]
   or: function [arguments]...

\tBusyBox is a multi-call binary that combines many common Unix
\tutilities into a single executable.  The shell in this build
\tis configured to run built-in utilities without $PATH search.
\tYou don't need to install a link to busybox for each utility.
\tTo run external program, use full path (/sbin/ip instead of ip).

Currently defined functions:
"""


def function_list(names: list[str], width: int = 80) -> str:
    """busybox's `Currently defined functions:` lines (appletlib.c: a tab, `, `
    between names, a new line before a name that would reach `width`)."""
    out, col = [], 0
    width -= 1  # no comma in the very last column
    for name in names:
        len2 = len(name) + 2
        if col >= width - len2:
            out.append(",\n")
            col = 0
        if col == 0:
            col = 6
            out.append("\t")
        else:
            out.append(", ")
        out.append(name)
        col += len2
    return "".join(out) + "\n"


@applet("busybox")
def busybox(ctx: AppletContext, argv: list[str]) -> int:
    """`busybox` alone (or --help) prints its help with the applets it has; --list names
    them one a line (running `busybox APPLET` is the machine's job)."""
    names = sorted(set(APPLETS) | {"sh", "ash"})
    if len(argv) > 1 and argv[1] in ("--list", "--list-full"):
        ctx.out("".join(n + "\n" for n in names))
        return 0
    ctx.out(f"{BANNER}\n{_BUSYBOX_HELP}{function_list(names)}")
    return 0
