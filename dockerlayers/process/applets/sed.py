"""busybox sed (1.35): scripts parsed and run as editors/sed.c does, POSIX regexes run by
Python's `re` after translation (regex.py), `-i` as a new file renamed over the old one.

Parsing follows add_cmd/parse_cmd_args (errors are busybox's words: `sed: unmatched '/'`,
`sed: unsupported command k`...), running follows process_files: one line read ahead for
`$`, ranges kept per command, `a` text flushed before the next line is read, `c` printed
at the end of its range, a last line without a newline printed without one.
"""

from __future__ import annotations

import re
import stat as st_mod

from .context import AppletContext
from .registry import applet, usage
from .sedscript import (  # noqa: F401 - the parser
    _CMD_LETTERS,
    _NO_EOL,
    _SEMI_WS,
    Cmd,
    Script,
    SedError,
    _escapes,
    _next_delim,
    _unescape,
)


def _replacement(repl: str, m: re.Match) -> str:
    """do_subst_w_backrefs: `\\N` a group, `&` the match, `\\x` x."""
    out, i = [], 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl):
            n = repl[i + 1]
            if n.isdigit():
                k = int(n)
                if k <= (m.re.groups or 0):
                    out.append(m.group(k) or "")
            else:
                out.append(n)
            i += 2
            continue
        out.append(m.group(0) if c == "&" else c)
        i += 1
    return "".join(out)


class Runner:
    """process_files: the lines of every input through the script."""

    def __init__(self, ctx: AppletContext, script: Script, out: list[str]) -> None:
        self.ctx = ctx
        self.script = script
        self.out = out  # where output goes (stdout, or the -i file's text)
        self.last_puts = "\n"
        self.appends: list[str] = []
        self.hold = ""
        self.quit = False
        self.wfiles: dict[str, list[str]] = {}
        self.wlast: dict[str, str] = {}

    def puts(self, s: str, eol: str, wfile: str | None = None) -> None:
        """puts_maybe_newline: a newline first if the last line written there lacked one
        (to the output, or to a `w` file, each keeping its own last character)."""
        out = self.out if wfile is None else self.wfiles.setdefault(wfile, [])
        lpc = self.last_puts if wfile is None else self.wlast.get(wfile, "\n")
        if lpc != "\n":
            out.append("\n")
            lpc = "\n"
        out.append(s)
        if s:
            lpc = "x"
        if eol != _NO_EOL:
            out.append(eol)
            lpc = eol
        if wfile is None:
            self.last_puts = lpc
        else:
            self.wlast[wfile] = lpc

    def flush_append(self) -> None:
        for text in self.appends:
            self.puts(text, "\n")
        self.appends = []

    def subst(self, cmd: Cmd, line: str) -> str | None:
        rx = cmd.sub_match or self.script.previous
        if rx is None:
            raise SedError("no previous regexp")
        self.script.previous = rx
        m = rx.search(line)
        if m is None:
            return None
        out: list[str] = []
        pos = 0
        count = 0
        altered = False
        prev_empty = True
        tried_eol = False
        while m is not None:
            start, end = m.start(), m.end()
            count += 1
            if cmd.which_match and cmd.which_match != count:
                out.append(line[pos:end])
                pos = end
                if start == end and pos < len(line):
                    out.append(line[pos])
                    pos += 1
            else:
                out.append(line[pos:start])
                if prev_empty or start != pos or start != end:
                    out.append(_replacement(cmd.string or "", m))
                    altered = True
                prev_empty = start == end
                pos = end
                if prev_empty:
                    if pos >= len(line):
                        tried_eol = True
                    else:
                        out.append(line[pos])
                        pos += 1
                if cmd.which_match != 0:
                    break
            if pos >= len(line):
                if tried_eol:
                    break
                tried_eol = True
            m = rx.search(line, pos)
        out.append(line[pos:])
        return "".join(out) if altered else None

    def run(self, lines: list[tuple[str, str]], linenum: int) -> int:
        """Run the script over `lines` ((text, eol) pairs); returns the last line number."""
        script = self.script
        cmds = script.cmds
        k = 0
        while k < len(lines) and not self.quit:
            pattern, eol = lines[k]
            k += 1
            linenum += 1
            substituted = False
            last = k >= len(lines)
            i = 0
            discard = False
            while i < len(cmds):
                cmd = cmds[i]
                old = cmd.in_match
                cmd.in_match = (
                    cmd.in_match
                    or (
                        not cmd.beg_line
                        and not cmd.end_line
                        and not cmd.beg_match
                        and not cmd.end_match
                    )
                    or (
                        cmd.beg_line > 0
                        and (
                            cmd.beg_line <= linenum
                            if (cmd.end_line or cmd.end_match)
                            else cmd.beg_line == linenum
                        )
                    )
                    or (cmd.beg_match is not None and self._beg(cmd, pattern))
                    or (cmd.beg_line == -1 and last)
                )
                matched = cmd.in_match
                if matched:
                    if cmd.end_line <= -2:
                        cmd.end_line = linenum + (-cmd.end_line - 2)
                    if cmd.beg_line > 0:
                        cmd.beg_line = -2
                    if cmd.end_line:
                        done = last if cmd.end_line == -1 else cmd.end_line <= linenum
                    else:
                        done = cmd.end_match is None
                    if not done and cmd.end_match is not None and old:
                        done = cmd.end_match.search(pattern) is not None
                    cmd.in_match = not done
                if cmd.cmd == "{":
                    if matched == cmd.invert:
                        nest = 0
                        while True:
                            if cmds[i].cmd == "{":
                                nest += 1
                            if cmds[i].cmd == "}":
                                nest -= 1
                                if nest == 0:
                                    break
                            i += 1
                            if i >= len(cmds):
                                raise SedError("unterminated {")
                    i += 1
                    continue
                if matched == cmd.invert:
                    i += 1
                    continue
                if cmd.beg_match is not None:
                    script.previous = cmd.beg_match
                c = cmd.cmd
                i += 1
                if c == "=":
                    self.out.append(f"{linenum}\n")
                elif c == "P" and "\n" in pattern:
                    self.puts(pattern.split("\n", 1)[0], "\n")
                elif c in "pP":
                    self.puts(pattern, "\n")
                elif c == "D" and "\n" in pattern:
                    pattern = pattern.split("\n", 1)[1]
                    i = 0
                elif c in "dD":
                    discard = True
                    break
                elif c == "s":
                    new = self.subst(cmd, pattern)
                    if new is None:
                        continue
                    pattern = new
                    substituted = True
                    if cmd.sub_p:
                        self.puts(pattern, eol)
                    if cmd.wfile:
                        self.puts(pattern, eol, cmd.wfile)
                elif c == "a":
                    self.appends.append(cmd.string or "")
                elif c == "i":
                    self.puts(cmd.string or "", "\n")
                elif c == "c":
                    if not cmd.in_match:
                        self.puts(cmd.string or "", "\n")
                    discard = True
                    break
                elif c == "r":
                    try:
                        data = self.ctx.rootfs.read_bytes(self.ctx.path(cmd.string or ""))
                        text = data.decode("utf-8", "surrogateescape")
                        self.appends.extend(
                            text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
                        )
                    except OSError:
                        pass
                elif c == "w":
                    self.puts(pattern, eol, cmd.wfile or "")
                elif c == "n":
                    if not script.quiet:
                        self.puts(pattern, eol)
                    if last:
                        discard = True
                        break
                    self.flush_append()
                    pattern, eol = lines[k]
                    k += 1
                    last = k >= len(lines)
                    substituted = False
                    linenum += 1
                elif c == "q":
                    self.quit = True
                    break
                elif c == "N":
                    if last:
                        break
                    self.flush_append()
                    nxt, eol = lines[k]
                    k += 1
                    last = k >= len(lines)
                    pattern = pattern + "\n" + nxt
                    linenum += 1
                elif c in "tTb":
                    if c == "t":
                        if not substituted:
                            continue
                        substituted = False
                    elif c == "T" and substituted:
                        continue
                    if cmd.string is None:
                        break
                    i = self._label(cmd.string) + 1
                elif c == "y":
                    pattern = "".join(cmd.ytable.get(ch, ch) for ch in pattern)
                elif c == "g":
                    pattern = self.hold
                elif c == "G":
                    pattern = pattern + "\n" + self.hold
                    eol = "\n"
                elif c == "h":
                    self.hold = pattern
                elif c == "H":
                    self.hold = self.hold + "\n" + pattern
                elif c == "x":
                    pattern, self.hold = self.hold, pattern
                    eol = "\n"
                elif c == "l":
                    self.out.append(_visible(pattern))
            if not discard and not script.quiet:
                self.puts(pattern, eol)
            self.flush_append()
        return linenum

    def _beg(self, cmd: Cmd, pattern: str) -> bool:
        if cmd.beg_match is not None and cmd.beg_match.search(pattern):
            self.script.previous = cmd.beg_match
            return True
        return False

    def _label(self, name: str) -> int:
        for j, c in enumerate(self.script.cmds):
            if c.cmd == ":" and c.string == name:
                return j
        raise SedError(f"can't find label for jump to '{name}'")


def _visible(s: str) -> str:
    """`l`: the pattern space unambiguously, folded at 69 columns, `$` at the end."""
    esc = {"\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
    esc |= {"\t": "\\t", "\v": "\\v"}
    parts = []
    for ch in s:
        if ch in esc:
            parts.append(esc[ch])
        elif ch.isprintable() and ord(ch) < 128:
            parts.append(ch)
        else:
            parts.extend(f"\\{b:03o}" for b in ch.encode("utf-8", "surrogateescape"))
    return "".join(parts) + "$\n"


def _split_lines(text: str) -> list[tuple[str, str]]:
    """(line, eol) pairs: eol is the newline, or _NO_EOL for a last line without one."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [(p, "\n") for p in parts[:-1]]
    if parts[-1]:
        lines.append((parts[-1], _NO_EOL))
    return lines


@applet("sed")
def sed(ctx: AppletContext, argv: list[str]) -> int:
    """busybox sed: -n -e -f -i[SFX] -r/-E, and the script language of editors/sed.c."""
    args = argv[1:]
    quiet = 0
    extended = False
    in_place: str | None = None
    scripts: list[tuple[str, str]] = []  # ("e", text) | ("f", file)
    files: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            files.extend(args[i:])
            break
        if a == "--version":
            ctx.out("This is not GNU sed version 4.0\n")
            return 0
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if name in ("quiet", "silent"):
                quiet += 1
            elif name == "regexp-extended":
                extended = True
            elif name == "in-place":
                in_place = val
            elif name in ("expression", "file"):
                if not eq:
                    if i >= len(args):
                        ctx.error(f"option '--{name}' requires an argument")
                        usage(ctx)
                        return 1
                    val = args[i]
                    i += 1
                scripts.append((name[0], val))
            else:
                ctx.error(f"unrecognized option '{a}'")
                usage(ctx)
                return 1
            continue
        if not a.startswith("-") or a == "-":
            files.append(a)
            continue
        j = 1
        while j < len(a):
            o = a[j]
            j += 1
            if o == "i":
                in_place = a[j:]
                break
            if o in "rE":
                extended = True
            elif o == "n":
                quiet += 1
            elif o in "ef":
                val = a[j:]
                if not val:
                    if i >= len(args):
                        ctx.error(f"option requires an argument -- '{o}'")
                        usage(ctx)
                        return 1
                    val = args[i]
                    i += 1
                scripts.append((o, val))
                break
            else:
                ctx.error(f"invalid option -- '{o}'")
                usage(ctx)
                return 1
    script = Script(extended)
    script.quiet = quiet
    try:
        for kind, text in scripts:
            if kind == "e":
                for line in text.split("\n"):
                    script.add(line)
            else:
                try:
                    data = ctx.stdin() if text == "-" else ctx.rootfs.read_bytes(ctx.path(text))
                except OSError as e:
                    ctx.error(f"{text}: {e.strerror}")
                    return 1
                body = data.decode("utf-8", "surrogateescape")
                for line in body.split("\n")[:-1] if body.endswith("\n") else body.split("\n"):
                    script.add(line)
        if not scripts:
            if not files:
                usage(ctx)
                return 1
            for line in files.pop(0).split("\n"):
                script.add(line)
        script.add("")
        script.finish()
        return _run(ctx, script, files, in_place)
    except SedError as e:
        ctx.error(str(e))
        return 1


def _run(ctx: AppletContext, script: Script, files: list[str], in_place: str | None) -> int:
    status = 0
    if in_place is not None:
        if not files:
            ctx.error("-i requires an argument")
            return 1
        for name in files:
            path = ctx.path(name)
            try:
                st = ctx.rootfs.stat(path)
                data = ctx.rootfs.read_bytes(path)
            except OSError as e:
                ctx.error(f"{name}: {e.strerror}")
                status = 1
                continue
            out: list[str] = []
            runner = Runner(ctx, script, out)
            runner.run(_split_lines(data.decode("utf-8", "surrogateescape")), 0)
            _write_wfiles(ctx, runner)
            _replace(ctx, path, st, "".join(out), in_place)
            for c in script.cmds:  # ranges start again in the next file
                c.beg_line, c.end_line, c.in_match = c.beg_line_orig, c.end_line_orig, False
            if runner.quit:
                break
        return status
    text_parts: list[str] = []
    for name in files or ["-"]:
        if name == "-":
            text_parts.append(ctx.stdin().decode("utf-8", "surrogateescape"))
            continue
        try:
            data = ctx.rootfs.read_bytes(ctx.path(name))
        except IsADirectoryError:
            continue  # it opens, and reading it fails: busybox's getline stops quietly
        except OSError as e:
            ctx.error(f"{name}: {e.strerror}")
            status = 1
            continue
        text = data.decode("utf-8", "surrogateescape")
        if text_parts and text_parts[-1] and not text_parts[-1].endswith("\n") and text:
            # the files are one stream of lines: a last line without a newline joins
            # the stream as its own line (busybox adds the newline when it prints it)
            text_parts[-1] += "\n"
        text_parts.append(text)
    out: list[str] = []
    runner = Runner(ctx, script, out)
    runner.run(_split_lines("".join(text_parts)), 0)
    _write_wfiles(ctx, runner)
    ctx.out("".join(out))
    return status


def _write_wfiles(ctx: AppletContext, runner: Runner) -> None:
    for c in runner.script.cmds:
        if c.wfile and c.wfile not in runner.wfiles:
            runner.wfiles[c.wfile] = []
    for name, parts in runner.wfiles.items():
        try:
            with ctx.rootfs.open(ctx.path(name), "wb") as f:
                f.write("".join(parts).encode("utf-8", "surrogateescape"))
        except OSError as e:
            raise SedError(f"can't open '{name}': {e.strerror}") from None


def _replace(ctx: AppletContext, path: str, st, text: str, suffix: str) -> None:
    """-i: the output goes to a new file beside the old one (FILEXXXXXX, with the old
    one's mode and owner), renamed over it; with a suffix the old one is kept as a backup."""
    tmp = _temp_name(ctx, path)
    with ctx.rootfs.open(tmp, "wb") as f:
        f.write(text.encode("utf-8", "surrogateescape"))
    ctx.rootfs.chmod(tmp, st_mod.S_IMODE(st.st_mode))
    try:
        ctx.rootfs.chown(tmp, st.st_uid, st.st_gid)
    except OSError:
        pass
    if suffix:
        ctx.rootfs.rename(path, path + suffix)
    ctx.rootfs.rename(tmp, path)


def _temp_name(ctx: AppletContext, path: str) -> str:
    """mkstemp's FILEXXXXXX: six letters from the process's clock, free in the folder."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    n = int(ctx.now * 1_000_000) ^ ctx.pid
    while True:
        suffix = "".join(letters[(n >> (6 * k)) % len(letters)] for k in range(6))
        cand = path + suffix
        if not ctx.rootfs.exists(cand):
            return cand
        n += 1


__all__ = ["sed"]
