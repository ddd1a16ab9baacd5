"""File applets: ls rm mkdir rmdir touch cp mv ln chmod chown stat find du — all through
the container's RootFS, with busybox's messages (`rm: can't remove 'x': No such file or
directory`)."""

from __future__ import annotations

import errno
import fnmatch
import os
import posixpath
import stat as S
import time

from dockerlayers import platform

from .context import AppletContext
from .registry import applet, usage


def _flags(argv: list[str], known: str) -> tuple[set[str], list[str]]:
    """Split short options (combined, like -rf) from operands; `--` ends options."""
    opts: set[str] = set()
    rest: list[str] = []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--":
            rest.extend(args)
            break
        if a.startswith("-") and len(a) > 1 and all(c in known for c in a[1:]):
            opts.update(a[1:])
        else:
            rest.append(a)
    return opts, rest


def _names(ctx: AppletContext, path: str) -> dict[int, str]:
    table: dict[int, str] = {}
    try:
        for line in ctx.rootfs.read_text(path).splitlines():
            f = line.split(":")
            if len(f) > 2 and f[2].isdigit():
                table.setdefault(int(f[2]), f[0])
    except (OSError, UnicodeDecodeError):
        pass
    return table


def _mode_string(mode: int) -> str:
    return S.filemode(mode)


@applet("ls")
def ls(ctx: AppletContext, argv: list[str]) -> int:
    """ls -l -a -A -1 -R -d -n (one name per line, as when output is not a terminal)."""
    opts, paths = _flags(argv, "laA1RdnhFpi")
    fs = ctx.rootfs
    users = _names(ctx, "/etc/passwd") if "l" in opts and "n" not in opts else {}
    groups = _names(ctx, "/etc/group") if "l" in opts and "n" not in opts else {}
    status = 0

    def line(name: str, full: str) -> str:
        if "l" not in opts:
            return name
        st = fs.lstat(full)
        when = st.st_mtime
        fmt = "%b %e %H:%M" if abs(ctx.now - when) < 182 * 86400 else "%b %e  %Y"
        target = f" -> {fs.readlink(full)}" if S.S_ISLNK(st.st_mode) else ""
        user = users.get(st.st_uid, str(st.st_uid))
        group = groups.get(st.st_gid, str(st.st_gid))
        size = f"{st.st_size:9d}"
        if S.S_ISCHR(st.st_mode) or S.S_ISBLK(st.st_mode):  # busybox: "%4u,%4u"
            size = f"{os.major(st.st_rdev):4d},{os.minor(st.st_rdev):4d}"
        return (
            f"{_mode_string(st.st_mode)} {platform.nlink(st):4d} {user:<8.8} {group:<8.8} "
            f"{size} {time.strftime(fmt, time.gmtime(when))} {name}{target}"
        )

    def entries(d: str) -> list[str]:
        names = fs.listdir(d)
        if "a" in opts:
            names = [".", ".."] + names
        elif "A" not in opts:
            names = [n for n in names if not n.startswith(".")]
        return names

    def listing(d: str, shown: str) -> list[str]:
        names = entries(d)
        out = []
        if "l" in opts:
            total = 0
            for n in names:
                try:
                    total += fs.lstat(posixpath.join(d, n)).st_blocks // 2
                except OSError:
                    pass
            out.append(f"total {total}")
        for n in names:
            out.append(line(n, posixpath.normpath(posixpath.join(d, n))))
        return out

    targets = paths or ["."]
    files, dirs = [], []
    for p in targets:
        full = ctx.path(p)
        try:
            fs.lstat(full)
        except OSError as e:
            ctx.error(f"{p}: {e.strerror}")
            status = 1
            continue
        if fs.isdir(full) and "d" not in opts and not (fs.islink(full) and "l" in opts):
            dirs.append((p, full))
        else:
            files.append((p, full))
    # operands are sorted as entries are: files first, then each folder (coreutils/ls.c)
    files.sort(key=lambda t: t[0].encode("utf-8", "surrogateescape"))
    dirs.sort(key=lambda t: t[0].encode("utf-8", "surrogateescape"))
    out: list[str] = [line(p, full) for p, full in files]
    multi = len(targets) > 1 or "R" in opts
    queue = list(dirs)
    first = not out
    while queue:
        p, full = queue.pop(0)
        if not first or out:
            out.append("")
        first = False
        if multi:
            out.append(f"{p}:")
        try:
            out.extend(listing(full, p))
        except PermissionError as e:
            ctx.error(f"can't open '{p}': {e.strerror}")
            status = 1
            continue
        if "R" in opts:
            subs = [
                (posixpath.join(p, n), posixpath.join(full, n))
                for n in entries(full)
                if n not in (".", "..")
                and fs.isdir(posixpath.join(full, n))
                and not fs.islink(posixpath.join(full, n))
            ]
            queue[0:0] = subs
    if out and out[0] == "":
        out.pop(0)
    if out:
        ctx.out("\n".join(out) + "\n")
    return status


def _remove_tree(ctx: AppletContext, full: str, shown: str, force: bool) -> bool:
    fs = ctx.rootfs
    ok = True
    if fs.isdir(full) and not fs.islink(full):
        for name in fs.listdir(full):
            ok &= _remove_tree(ctx, posixpath.join(full, name), posixpath.join(shown, name), force)
        try:
            fs.rmdir(full)
        except OSError as err:
            ctx.error(f"can't remove '{shown}': {err.strerror}")
            return False
        return ok
    try:
        fs.remove(full)
    except OSError as err:
        ctx.error(f"can't remove '{shown}': {err.strerror}")
        return False
    return ok


@applet("rm")
def rm(ctx: AppletContext, argv: list[str]) -> int:
    opts, paths = _flags(argv, "rRfiv")
    force = "f" in opts
    if not paths:
        if force:
            return 0
        usage(ctx)
        return 1
    status = 0
    for p in paths:
        full = ctx.path(p)
        if posixpath.basename(p.rstrip("/")) in (".", ".."):
            ctx.error("can't remove '.' or '..'")
            status = 1
            continue
        if not ctx.rootfs.lexists(full):
            if not force:
                ctx.error(f"can't remove '{p}': No such file or directory")
                status = 1
            continue
        is_dir = ctx.rootfs.isdir(full) and not ctx.rootfs.islink(full)
        if is_dir and not opts & {"r", "R"}:
            ctx.error(f"'{p}' is a directory")
            status = 1
            continue
        if not _remove_tree(ctx, full, p, force):
            status = 1
    return status


def _parse_mode(spec: str, old: int, is_dir: bool) -> int | None:
    """chmod's MODE: octal, or [ugoa]*[+-=][rwxXst]* clauses separated by commas."""
    if spec and all(c in "01234567" for c in spec):
        return int(spec, 8)
    mode = old & 0o7777
    for clause in spec.split(","):
        i = 0
        who = ""
        while i < len(clause) and clause[i] in "ugoa":
            who += clause[i]
            i += 1
        if i >= len(clause):
            return None
        while i < len(clause):
            op = clause[i]
            if op not in "+-=":
                return None
            i += 1
            perms = ""
            while i < len(clause) and clause[i] in "rwxXst":
                perms += clause[i]
                i += 1
            mask = 0
            for w in who or "a":
                shift = {"u": 6, "g": 3, "o": 0}
                targets = "ugo" if w == "a" else w
                for t in targets:
                    for p in perms:
                        if p == "r":
                            mask |= 4 << shift[t]
                        elif p == "w":
                            mask |= 2 << shift[t]
                        elif p == "x" or (p == "X" and (is_dir or old & 0o111)):
                            mask |= 1 << shift[t]
                        elif p == "s":
                            mask |= 0o4000 if t == "u" else 0o2000 if t == "g" else 0
                        elif p == "t":
                            mask |= 0o1000
            if op == "+":
                mode |= mask
            elif op == "-":
                mode &= ~mask
            else:
                clear = 0
                for w in who or "a":
                    for t in "ugo" if w == "a" else w:
                        clear |= 0o7 << {"u": 6, "g": 3, "o": 0}[t]
                mode = (mode & ~clear) | mask
    return mode


@applet("chmod")
def chmod(ctx: AppletContext, argv: list[str]) -> int:
    args = argv[1:]
    recursive = False
    while args and args[0] in ("-R", "-f", "-v", "-c"):
        recursive |= args.pop(0) == "-R"
    if len(args) < 2:
        usage(ctx)
        return 1
    spec, paths = args[0], args[1:]
    fs = ctx.rootfs
    if _parse_mode(spec, 0o644, False) is None:
        ctx.error(f"invalid mode '{spec}'")
        return 1
    status = 0
    for p in paths:
        full = ctx.path(p)
        targets = [full]
        if recursive and fs.isdir(full):
            targets = []
            for top, _dirs, files in fs.walk(full):
                targets.append(top)
                targets.extend(posixpath.join(top, f) for f in files)
        for t in targets:
            try:
                st = fs.stat(t)
                fs.chmod(t, _parse_mode(spec, st.st_mode, S.S_ISDIR(st.st_mode)))
            except OSError as err:
                ctx.error(f"{p if t == full else t}: {err.strerror}")
                status = 1
    return status


@applet("chown", "chgrp")
def chown(ctx: AppletContext, argv: list[str]) -> int:
    args = argv[1:]
    recursive = False
    while args and args[0] in ("-R", "-h", "-f", "-v"):
        recursive |= args.pop(0) == "-R"
    if len(args) < 2:
        usage(ctx)
        return 1
    spec, paths = args[0], args[1:]
    user, _, group = spec.replace(".", ":").partition(":")
    if ctx.name == "chgrp":
        user, group = "", spec
    users = {v: k for k, v in _names(ctx, "/etc/passwd").items()}
    groups = {v: k for k, v in _names(ctx, "/etc/group").items()}

    def ident(name: str, table: dict[str, int], kind: str) -> int | None:
        if not name:
            return -1
        if name.isdigit():
            return int(name)
        if name in table:
            return table[name]
        ctx.error(f"unknown {kind} {name}")
        return None

    uid = ident(user, users, "user")
    gid = ident(group, groups, "group")
    if uid is None or gid is None:
        return 1
    fs = ctx.rootfs
    status = 0
    for p in paths:
        full = ctx.path(p)
        targets = [full]
        if recursive and fs.isdir(full):
            targets = []
            for top, dirs, files in fs.walk(full):
                targets.append(top)
                targets.extend(
                    posixpath.join(top, f)
                    for f in files + dirs
                    if fs.islink(posixpath.join(top, f))
                )
                targets.extend(
                    posixpath.join(top, f) for f in files if not fs.islink(posixpath.join(top, f))
                )
        for t in dict.fromkeys(targets):
            try:
                st = fs.lstat(t)
                fs.chown(t, st.st_uid if uid < 0 else uid, st.st_gid if gid < 0 else gid)
            except OSError as err:
                ctx.error(f"{p}: {err.strerror}")
                status = 1
    return status


@applet("mkdir")
def mkdir(ctx: AppletContext, argv: list[str]) -> int:
    args = argv[1:]
    parents, mode = False, None
    paths = []
    while args:
        a = args.pop(0)
        if a == "-p":
            parents = True
        elif a == "-m" and args:
            mode = args.pop(0)
        elif a.startswith("-m") and len(a) > 2:
            mode = a[2:]
        elif a in ("-pv", "-vp", "-v"):
            parents |= "p" in a
        else:
            paths.append(a)
    if not paths:
        usage(ctx)
        return 1
    status = 0
    for p in paths:
        full = ctx.path(p)
        try:
            if parents:
                if ctx.rootfs.isdir(full):
                    continue
                ctx.rootfs.mkdir(full, parents=True, exist_ok=True)
            else:
                ctx.rootfs.mkdir(full)
            if mode is not None:
                new = _parse_mode(mode, 0o777, True)
                if new is None:
                    ctx.error(f"invalid mode '{mode}'")
                    return 1
                ctx.rootfs.chmod(full, new)
        except OSError as err:
            ctx.error(f"can't create directory '{p}': {err.strerror}")
            status = 1
    return status


@applet("rmdir")
def rmdir(ctx: AppletContext, argv: list[str]) -> int:
    opts, paths = _flags(argv, "p")
    if not paths:
        usage(ctx)
        return 1
    status = 0
    for p in paths:
        chain = [p]
        if "p" in opts:
            cur = p.rstrip("/")
            while "/" in cur.strip("/"):
                cur = posixpath.dirname(cur)
                chain.append(cur)
        for c in chain:
            try:
                ctx.rootfs.rmdir(ctx.path(c))
            except OSError as err:
                ctx.error(f"'{c}': {err.strerror}")
                status = 1
                break
    return status


@applet("touch")
def touch(ctx: AppletContext, argv: list[str]) -> int:
    opts, paths = _flags(argv, "cham")
    if not paths:
        usage(ctx)
        return 1
    status = 0
    for p in paths:
        full = ctx.path(p)
        try:
            if ctx.rootfs.exists(full):
                ctx.rootfs.utime(full, (ctx.now, ctx.now))
            elif "c" not in opts:
                with ctx.rootfs.open(full, "ab"):
                    pass
                ctx.rootfs.utime(full, (ctx.now, ctx.now))
        except OSError as err:
            ctx.error(f"{p}: {err.strerror}")
            status = 1
    return status


def _copy(ctx: AppletContext, src: str, dst: str, shown: str, opts: set[str]) -> bool:
    fs = ctx.rootfs
    preserve = bool(opts & {"a", "p"})
    nofollow = bool(opts & {"a", "P", "d", "r", "R"}) and "L" not in opts
    st = fs.lstat(src) if nofollow else fs.stat(src)
    if S.S_ISLNK(st.st_mode):
        if fs.lexists(dst):
            fs.remove(dst)
        fs.symlink(fs.readlink(src), dst)
        return True
    if S.S_ISDIR(st.st_mode):
        if not opts & {"r", "R", "a"}:
            ctx.error(f"omitting directory '{shown}'")
            return False
        if not fs.isdir(dst):
            fs.mkdir(dst)
        ok = True
        for name in fs.listdir(src):
            ok &= _copy(
                ctx,
                posixpath.join(src, name),
                posixpath.join(dst, name),
                posixpath.join(shown, name),
                opts,
            )
        if preserve:
            fs.chmod(dst, S.S_IMODE(st.st_mode))
            fs.utime(dst, (st.st_atime, st.st_mtime))
        return ok
    data = fs.read_bytes(src)
    existed = fs.exists(dst)
    with fs.open(dst, "wb") as f:
        f.write(data)
    if preserve or not existed:
        fs.chmod(dst, S.S_IMODE(st.st_mode) if preserve else S.S_IMODE(st.st_mode) & ~0o022)
    if preserve:
        fs.utime(dst, (st.st_atime, st.st_mtime))
    return True


def _into(ctx: AppletContext, srcs: list[str], dest: str) -> list[tuple[str, str, str]] | None:
    """Pair each source with its destination path (DEST/name when DEST is a folder)."""
    full_dest = ctx.path(dest)
    is_dir = ctx.rootfs.isdir(full_dest)
    if len(srcs) > 1 and not is_dir:
        ctx.error(f"'{dest}' is not a directory")
        return None
    pairs = []
    for s in srcs:
        target = (
            posixpath.join(full_dest, posixpath.basename(s.rstrip("/"))) if is_dir else full_dest
        )
        pairs.append((s, ctx.path(s), target))
    return pairs


@applet("cp")
def cp(ctx: AppletContext, argv: list[str]) -> int:
    opts, paths = _flags(argv, "rRapPdfiLvHnT")
    if len(paths) < 2:
        usage(ctx)
        return 1
    pairs = _into(ctx, paths[:-1], paths[-1])
    if pairs is None:
        return 1
    status = 0
    for shown, src, dst in pairs:
        if not ctx.rootfs.lexists(src):
            ctx.error(f"can't stat '{shown}': No such file or directory")
            status = 1
            continue
        try:
            if not _copy(ctx, src, dst, shown, opts):
                status = 1
        except OSError as err:
            ctx.error(f"can't create '{paths[-1]}': {err.strerror}")
            status = 1
    return status


@applet("mv")
def mv(ctx: AppletContext, argv: list[str]) -> int:
    opts, paths = _flags(argv, "finvT")
    if len(paths) < 2:
        usage(ctx)
        return 1
    pairs = _into(ctx, paths[:-1], paths[-1])
    if pairs is None:
        return 1
    status = 0
    for shown, src, dst in pairs:
        try:
            if not ctx.rootfs.lexists(src):
                raise FileNotFoundError(2, "No such file or directory")
            if ctx.rootfs.isdir(dst) and not ctx.rootfs.isdir(src):
                raise IsADirectoryError(21, "Is a directory")
            ctx.rootfs.rename(src, dst)
        except OSError as err:
            if err.errno != errno.EXDEV:
                ctx.error(f"can't rename '{shown}': {err.strerror}")
                status = 1
                continue
            # busybox mv: across devices (overlayfs refuses to rename a lower directory
            # without redirect_dir) copy as `cp -a`, then remove the source
            try:
                copied = _copy(ctx, src, dst, shown, {"a"})
            except OSError as err2:
                ctx.error(f"can't create '{dst}': {err2.strerror}")
                copied = False
            if not copied or not _remove_tree(ctx, src, shown, force=True):
                status = 1
    return status


@applet("ln")
def ln(ctx: AppletContext, argv: list[str]) -> int:
    opts, paths = _flags(argv, "sfnvT")
    if not paths:
        usage(ctx)
        return 1
    if len(paths) == 1:
        paths.append(posixpath.basename(paths[0].rstrip("/")))
    targets, dest = paths[:-1], paths[-1]
    full_dest = ctx.path(dest)
    status = 0
    for t in targets:
        link = full_dest
        shown = dest
        if ctx.rootfs.isdir(full_dest) and not ("n" in opts and ctx.rootfs.islink(full_dest)):
            link = posixpath.join(full_dest, posixpath.basename(t.rstrip("/")))
            shown = posixpath.join(dest, posixpath.basename(t.rstrip("/")))
        try:
            if ctx.rootfs.lexists(link):
                if "f" not in opts:
                    ctx.error(f"{shown}: File exists")
                    status = 1
                    continue
                ctx.rootfs.remove(link)
            if "s" in opts:
                ctx.rootfs.symlink(t, link)
            else:
                ctx.rootfs.link(ctx.path(t), link)
        except OSError as err:
            ctx.error(f"{shown if 's' in opts else t}: {err.strerror}")
            status = 1
    return status


_FTYPE = {
    S.S_IFREG: "regular file",
    S.S_IFDIR: "directory",
    S.S_IFLNK: "symbolic link",
    S.S_IFIFO: "fifo",
    S.S_IFSOCK: "socket",
    S.S_IFCHR: "character special file",
    S.S_IFBLK: "block special file",
}


@applet("stat")
def stat(ctx: AppletContext, argv: list[str]) -> int:
    """stat -c FORMAT (%n %s %a %A %F %u %g %U %G %Y %h %i) and -L."""
    args = argv[1:]
    fmt = None
    follow = False
    paths = []
    while args:
        a = args.pop(0)
        if a == "-c" and args:
            fmt = args.pop(0)
        elif a == "-L":
            follow = True
        else:
            paths.append(a)
    if not paths:
        usage(ctx)
        return 1
    users = _names(ctx, "/etc/passwd")
    groups = _names(ctx, "/etc/group")
    status = 0
    for p in paths:
        full = ctx.path(p)
        try:
            st = ctx.rootfs.stat(full) if follow else ctx.rootfs.lstat(full)
        except OSError as err:
            ctx.error(f"can't stat '{p}': {err.strerror}")
            status = 1
            continue
        values = {
            "n": p,
            "s": str(st.st_size),
            "a": f"{S.S_IMODE(st.st_mode):o}",
            "A": _mode_string(st.st_mode),
            "F": _FTYPE.get(S.S_IFMT(st.st_mode), "unknown"),
            "u": str(st.st_uid),
            "g": str(st.st_gid),
            "U": users.get(st.st_uid, "UNKNOWN"),
            "G": groups.get(st.st_gid, "UNKNOWN"),
            "Y": str(int(st.st_mtime)),
            "h": str(platform.nlink(st)),
            "i": str(st.st_ino),
            "b": str(st.st_blocks),
            "%": "%",
        }
        if fmt is None:
            text = (
                f"  File: '{p}'\n  Size: {st.st_size}\t{values['F']}\n"
                f"Access: ({values['a']:0>4}/{values['A']})"
                f"  Uid: ({st.st_uid})  Gid: ({st.st_gid})\n"
            )
        else:
            out, i = [], 0
            while i < len(fmt):
                if fmt[i] == "%" and i + 1 < len(fmt):
                    out.append(values.get(fmt[i + 1], "?"))
                    i += 2
                else:
                    out.append(fmt[i])
                    i += 1
            text = "".join(out) + "\n"
        ctx.out(text)
    return status


@applet("find")
def find(ctx: AppletContext, argv: list[str]) -> int:
    """find [PATH...] with -name -iname -type -maxdepth -mindepth -path, combined by AND."""
    args = argv[1:]
    paths = []
    while args and not args[0].startswith("-"):
        paths.append(args.pop(0))
    tests: list[tuple[str, str]] = []
    maxdepth, mindepth = None, 0
    while args:
        a = args.pop(0)
        if a in ("-name", "-iname", "-type", "-path") and args:
            tests.append((a, args.pop(0)))
        elif a == "-maxdepth" and args:
            maxdepth = int(args.pop(0))
        elif a == "-mindepth" and args:
            mindepth = int(args.pop(0))
        elif a == "-print":
            pass
        else:
            ctx.error(f"unrecognized: {a}")
            return 1
    fs = ctx.rootfs
    status = 0
    out = []

    def match(shown: str, full: str) -> bool:
        for kind, val in tests:
            name = posixpath.basename(shown.rstrip("/")) or shown
            if kind == "-name" and not fnmatch.fnmatchcase(name, val):
                return False
            if kind == "-iname" and not fnmatch.fnmatchcase(name.lower(), val.lower()):
                return False
            if kind == "-path" and not fnmatch.fnmatchcase(shown, val):
                return False
            if kind == "-type":
                mode = fs.lstat(full).st_mode
                t = (
                    "d"
                    if S.S_ISDIR(mode)
                    else "l"
                    if S.S_ISLNK(mode)
                    else "f"
                    if S.S_ISREG(mode)
                    else "?"
                )
                if t != val:
                    return False
        return True

    def visit(shown: str, full: str, depth: int) -> None:
        if depth >= mindepth and match(shown, full):
            out.append(shown)
        if fs.isdir(full) and not fs.islink(full) and (maxdepth is None or depth < maxdepth):
            for name in fs.listdir(full):
                visit(posixpath.join(shown, name), posixpath.join(full, name), depth + 1)

    for p in paths or ["."]:
        full = ctx.path(p)
        try:
            fs.lstat(full)
        except OSError as e:
            ctx.error(f"{p}: {e.strerror}")
            status = 1
            continue
        visit(p, full, 0)
    if out:
        ctx.out("\n".join(out) + "\n")
    return status


@applet("du")
def du(ctx: AppletContext, argv: list[str]) -> int:
    """du [-s] [-k] [-h]: sizes in 1K blocks, as allocated (st_blocks)."""
    opts, paths = _flags(argv, "skhacm")
    fs = ctx.rootfs
    status = 0

    def size(full: str, shown: str, out: list[str]) -> int:
        st = fs.lstat(full)
        total = st.st_blocks // 2
        if S.S_ISDIR(st.st_mode):
            for name in fs.listdir(full):
                total += size(posixpath.join(full, name), posixpath.join(shown, name), out)
            if "s" not in opts:
                out.append(f"{total}\t{shown}")
        return total

    for p in paths or ["."]:
        full = ctx.path(p)
        try:
            fs.lstat(full)
        except OSError as e:
            ctx.error(f"{p}: {e.strerror}")
            status = 1
            continue
        lines: list[str] = []
        total = size(full, p, lines)
        if "s" in opts or not fs.isdir(full):
            lines.append(f"{total}\t{p}")
        ctx.out("\n".join(lines) + "\n")
    return status
