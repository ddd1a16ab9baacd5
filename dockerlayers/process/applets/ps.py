"""busybox ps (1.35, Debian's build: `-o`, no TIME column): the container's processes as
the model knows them (shell/ptable.py), PID 1 and execs, background jobs, ps itself.

busybox: procps/ps.c (out_spec widths; `{comm} args` when the program's name is not its
command line's first word)
"""

from __future__ import annotations

import posixpath

from ..users import name_of
from .context import AppletContext
from .registry import applet

#: name -> (width, header); numbers are right-aligned, the last column is not padded.
_SPECS = {
    "user": (8, "USER"),
    "group": (8, "GROUP"),
    "comm": (16, "COMMAND"),
    "args": (0, "COMMAND"),
    "pid": (5, "PID"),
    "ppid": (5, "PPID"),
    "pgid": (5, "PGID"),
    "nice": (5, "NI"),
    "rgroup": (8, "RGROUP"),
    "ruser": (8, "RUSER"),
    "tty": (6, "TT"),
    "vsz": (4, "VSZ"),
    "sid": (4, "SID"),
    "stat": (4, "STAT"),
    "rss": (4, "RSS"),
}
_NUMERIC = {"pid", "ppid", "pgid", "nice", "vsz", "sid", "rss"}
_DEFAULT = ["pid", "user", "args"]


def _value(ctx: AppletContext, row: dict, key: str) -> str:
    if key in ("user", "ruser"):
        return name_of(ctx.rootfs, "/etc/passwd", row["uid"]) or str(row["uid"])
    if key in ("group", "rgroup"):
        return name_of(ctx.rootfs, "/etc/group", row["gid"]) or str(row["gid"])
    if key == "comm":
        return row["comm"]
    if key == "args":
        args = " ".join(row["argv"])
        first = posixpath.basename(row["argv"][0]) if row["argv"] else ""
        if not args:
            return f"[{row['comm']}]"
        return args if row["comm"] == first else f"{{{row['comm']}}} {args}"
    if key == "pid":
        return str(row["pid"])
    if key == "ppid":
        return str(row["ppid"])
    if key in ("pgid", "sid"):
        return str(row["pid"] if row["ppid"] == 0 else row["ppid"])
    if key == "tty":
        return "?"
    if key == "stat":
        return "S"
    return "0"


@applet("ps")
def ps(ctx: AppletContext, argv: list[str]) -> int:
    """busybox ps [-o COL1,COL2=HEADER] (other options, `aux`, `-ef`, are accepted and
    change nothing, as in busybox's DESKTOP ps)."""
    cols: list[tuple[str, str | None]] = []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a.startswith("-o"):
            spec = a[2:] or (args.pop(0) if args else "")
            for part in spec.split(","):
                key, eq, header = part.partition("=")
                if key not in _SPECS:
                    ctx.error(f"bad -o argument '{key}', supported arguments: " + ",".join(_SPECS))
                    return 1
                cols.append((key, header if eq else None))
    cols = cols or [(k, None) for k in _DEFAULT]
    widths = [len(h) if h is not None else _SPECS[k][0] for k, h in cols]
    headers = [h if h is not None else _SPECS[k][1] for k, h in cols]
    lines = []
    if any(headers):
        lines.append(_line(headers, widths, [False] * len(cols)))
    numeric = [k in _NUMERIC for k, _ in cols]
    for row in ctx.procs():
        cells = [_value(ctx, row, k) for k, _ in cols]
        lines.append(_line(cells, widths, numeric, cut=True))
    ctx.out("".join(lines))
    return 0


def _line(cells: list[str], widths: list[int], right: list[bool], cut: bool = False) -> str:
    """One line: each cell in its width (numbers on the right), the last one unpadded."""
    out = []
    for i, (cell, w, r) in enumerate(zip(cells, widths, right)):
        last = i == len(cells) - 1
        if r:
            out.append(cell.rjust(w))
        elif last:
            out.append(cell)
        else:
            out.append((cell[:w] if cut and w else cell).ljust(w))
    return " ".join(out) + "\n"
