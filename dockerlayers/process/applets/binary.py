"""Applets on bytes: od dd md5sum sha1sum sha256sum sha512sum base64, each checked
against Debian's busybox 1.35.0."""

from __future__ import annotations

import base64 as b64
import hashlib
import re

from dockerlayers.graphdriver.rootfs import WouldBlock

from .context import AppletContext
from .coreutils import _lines, _read_files
from .registry import applet, usage

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


__all__ = [
    "base64",
    "dd",
    "md5sum",
    "od",
    "sha1sum",
    "sha256sum",
    "sha512sum",
]
