"""Shell builtins, run inside the shell like busybox ash runs them (no PATH lookup):
`cd exit export trap wait kill read eval . exec set shift return ...`, plus `echo printf
test [ true false` sharing the applets' code. Messages follow ash (`sh: cd: line 0: ...`).

Each takes (machine, job, frame, argv, line) and returns the status, or None when it
changed control flow itself (pushed a frame, blocked, exited).
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Callable

from .. import signals
from ..applets import APPLETS
from ..resolve import DEFAULT_PATH, abspath, shell_find
from .core import MachineCore, ShellExit
from .parser import is_name
from .programs import SELF_EXE, applet_context, find_command, run_program, start_argv
from .state import Frame, Job, Shell, copy_fds

Builtin = Callable[[MachineCore, Job, Frame, list[str], int], "int | None"]
BUILTINS: dict[str, Builtin] = {}
#: POSIX special builtins: assignments before them stay in the shell.
SPECIAL = frozenset(
    {
        ":",
        ".",
        "eval",
        "exec",
        "exit",
        "export",
        "readonly",
        "return",
        "set",
        "shift",
        "trap",
        "unset",
    }
)


def builtin(*names: str) -> Callable[[Builtin], Builtin]:
    def register(fn: Builtin) -> Builtin:
        for n in names:
            BUILTINS[n] = fn
        return fn

    return register


def _shell(m: MachineCore, frame: Frame) -> Shell:
    return m.sh(frame)


def _fail(m: MachineCore, frame: Frame, line: int, name: str, msg: str, status: int) -> int:
    m.err(frame, m.prefix(frame, line, name) + msg)
    return status


@builtin(":", "true")
def _true(m, job, frame, argv, line):
    return 0


@builtin("false")
def _false(m, job, frame, argv, line):
    return 1


@builtin("echo", "printf", "test", "[")
def _applet(m, job, frame, argv, line):
    shell = _shell(m, frame)
    ctx = applet_context(m, job, frame, "sh", m.environ(shell), shell["cwd"])  # ash's applet_name
    return int(APPLETS[argv[0]](ctx, argv))


@builtin("cd", "chdir")
def _cd(m, job, frame, argv, line):
    shell = _shell(m, frame)
    args = [a for a in argv[1:] if a not in ("-L", "-P")]
    target = args[0] if args else shell["vars"].get("HOME", "/")
    if target == "-":
        target = shell["vars"].get("OLDPWD", shell["cwd"])
        m.write(frame["fds"], 1, (target + "\n").encode())
    path = posixpath.normpath(abspath(shell["cwd"], target))
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if not m.rootfs.isdir(path):
        why = "Not a directory" if m.rootfs.lexists(path) else "No such file or directory"
        return _fail(m, frame, line, "cd", f"can't cd to {target}: {why}", 2)
    m.setvar(shell, "OLDPWD", shell["cwd"])
    shell["cwd"] = path
    m.setvar(shell, "PWD", path)
    return 0


@builtin("pwd")
def _pwd(m, job, frame, argv, line):
    m.write(frame["fds"], 1, (_shell(m, frame)["cwd"] + "\n").encode())
    return 0


def _number(m, frame, line, name, arg) -> int | None:
    try:
        n = int(arg, 10)
        if n < 0 and name != "exit":
            raise ValueError
        return n
    except ValueError:
        m.err(frame, m.prefix(frame, line, name) + f"Illegal number: {arg}")
        return None


@builtin("exit")
def _exit(m, job, frame, argv, line):
    shell = _shell(m, frame)
    status = shell["status"]
    if len(argv) > 1:
        n = _number(m, frame, line, "exit", argv[1])
        status = 2 if n is None else n & 0xFF
    m.exit_shell(job, frame, status)


@builtin("return")
def _return(m, job, frame, argv, line):
    shell = _shell(m, frame)
    status = shell["status"]
    if len(argv) > 1:
        n = _number(m, frame, line, "return", argv[1])
        status = 2 if n is None else n & 0xFF
    frames = job["frames"]
    sid = frame["shell"]
    for i in range(len(frames) - 1, -1, -1):
        f = frames[i]
        if f["shell"] != sid or f["kind"] == "shell":
            break
        if f["kind"] in ("func", "eval"):
            while len(frames) > i + 1:
                m.drop_frame(frames.pop())
            f["pc"] = len(m.code(f))
            shell["status"] = status
            return None
    m.exit_shell(job, frame, status)  # ash: `return` outside a function ends the script


def _assign_args(m, frame, argv, export: bool) -> int:
    shell = _shell(m, frame)
    args = [a for a in argv[1:] if a != "-p"]
    if not args:
        if export:
            for k in sorted(shell["exported"]):
                if k in shell["vars"]:
                    v = shell["vars"][k].replace("'", "'\"'\"'")
                    m.write(
                        frame["fds"], 1, f"export {k}='{v}'\n".encode("utf-8", "surrogateescape")
                    )
        return 0
    for a in args:
        name, eq, value = a.partition("=")
        if not is_name(name):
            m.err(frame, m.prefix(frame, None, argv[0]) + f"{name}: bad variable name")
            return 2
        if eq:
            m.setvar(shell, name, value, export=export)
        elif export and name not in shell["exported"]:
            shell["exported"].append(name)
    return 0


@builtin("export")
def _export(m, job, frame, argv, line):
    return _assign_args(m, frame, argv, export=True)


@builtin("readonly", "local")
def _local(m, job, frame, argv, line):
    return _assign_args(m, frame, argv, export=False)


@builtin("unset")
def _unset(m, job, frame, argv, line):
    shell = _shell(m, frame)
    funcs = "-f" in argv[1:]
    for name in argv[1:]:
        if name in ("-f", "-v"):
            continue
        if funcs:
            shell["funcs"].pop(name, None)
        else:
            shell["vars"].pop(name, None)
            if name in shell["exported"]:
                shell["exported"].remove(name)
    return 0


_LONG_OPTS = {"errexit": "e", "nounset": "u", "xtrace": "x"}


@builtin("set")
def _set(m, job, frame, argv, line):
    shell = _shell(m, frame)
    args = argv[1:]
    if not args:
        for k in sorted(shell["vars"]):
            v = shell["vars"][k].replace("'", "'\"'\"'")
            m.write(frame["fds"], 1, f"{k}='{v}'\n".encode("utf-8", "surrogateescape"))
        return 0
    while args:
        a = args[0]
        if a == "--":
            args.pop(0)
            shell["params"] = list(args)
            return 0
        if a in ("-o", "+o") and len(args) > 1:
            opt = _LONG_OPTS.get(args[1])
            if opt:
                shell["opts"][opt] = a == "-o"
            args = args[2:]
            continue
        if len(a) > 1 and a[0] in "-+":
            for ch in a[1:]:
                if ch in "euxaf":
                    shell["opts"][ch] = a[0] == "-"
                elif ch not in "o":
                    m.err(frame, m.prefix(frame, line, "set") + f"-{ch}: invalid option")
                    return 2
            args.pop(0)
            continue
        shell["params"] = list(args)
        return 0
    return 0


@builtin("shift")
def _shift(m, job, frame, argv, line):
    shell = _shell(m, frame)
    n = 1
    if len(argv) > 1:
        n = _number(m, frame, line, "shift", argv[1])
        if n is None:
            return 2
    if n > len(shell["params"]):
        return 1
    shell["params"] = shell["params"][n:]
    return 0


def _trap_signum(spec: str) -> int | None:
    if spec.isdigit():
        n = int(spec)
        return n if 0 <= n <= 64 else None
    up = spec.upper()
    if up == "EXIT":
        return 0
    if up.startswith("SIG"):
        up = up[3:]
    return signals.SIGNAL_MAP.get(up)


@builtin("trap")
def _trap(m, job, frame, argv, line):
    shell = _shell(m, frame)
    args = argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        for key in sorted(shell["traps"], key=int):
            name = "EXIT" if key == "0" else (signals.short_name(int(key)) or key)
            action = shell["traps"][key].replace("'", "'\"'\"'")
            m.write(
                frame["fds"], 1, f"trap -- '{action}' {name}\n".encode("utf-8", "surrogateescape")
            )
        return 0
    if len(args) == 1 or _trap_signum(args[0]) is not None and args[0].isdigit():
        action, specs = "-", args
    else:
        action, specs = args[0], args[1:]
    status = 0
    for spec in specs:
        n = _trap_signum(spec)
        if n is None:
            m.err(frame, m.prefix(frame, line, "trap") + f"{spec}: invalid signal specification")
            status = 1
            continue
        if action == "-":
            shell["traps"].pop(str(n), None)
        else:
            shell["traps"][str(n)] = action
    return status


@builtin("wait")
def _wait(m, job, frame, argv, line):
    shell = _shell(m, frame)
    jobs = {j["pid"]: j for j in m.state["jobs"][1:]}
    if len(argv) > 1:
        pids = []
        for a in argv[1:]:
            a = a.lstrip("%")
            if not a.isdigit() or int(a) not in jobs:
                return 127
            pids.append(int(a))
        one = pids[-1]
    else:
        pids = [p for p, j in jobs.items() if j["owner"] == frame["shell"] and j["status"] is None]
        one = None
    if all(jobs[p]["status"] is not None for p in pids):
        return jobs[one]["status"] if one is not None else 0
    job["block"] = {"wait": pids, "one": one}
    shell["status"] = 0
    return None


@builtin("kill")
def _kill(m, job, frame, argv, line):
    shell = _shell(m, frame)
    return signals.kill_command(
        lambda fd, d: m.write(frame["fds"], fd, d),
        argv,
        f"{shell['arg0']}: ",
        lambda pid, sig: m.kill(job, pid, sig),
    )


@builtin("read")
def _read(m, job, frame, argv, line):
    shell = _shell(m, frame)
    args = argv[1:]
    raw = False
    while args and args[0].startswith("-"):
        a = args.pop(0)
        if a == "-r":
            raw = True
        elif a == "-p" and args:
            m.write(frame["fds"], 2, args.pop(0).encode())
    names = args or ["REPLY"]
    if frame["fds"].get("0", {}).get("t") == "open":
        job["block"] = {"until": math.inf}  # an open stdin: no line ever comes
        return "blocked"
    text = m.read_line(frame["fds"])
    if text is None:
        for n in names:
            m.setvar(shell, n, "")
        return 1
    status = 0 if text.endswith("\n") else 1
    text = text[:-1] if text.endswith("\n") else text
    if not raw:
        text = text.replace("\\\n", "")
        out, i = [], 0
        while i < len(text):
            if text[i] == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
            else:
                out.append(text[i])
                i += 1
        text = "".join(out)
    ifs = shell["vars"].get("IFS", " \t\n")
    if len(names) == 1:
        m.setvar(shell, names[0], text.strip(" \t\n") if ifs.strip(" \t\n") == "" else text)
        return status
    fields = (
        text.split(None, len(names) - 1) if ifs == " \t\n" else text.split(ifs[:1], len(names) - 1)
    )
    for i, n in enumerate(names):
        m.setvar(shell, n, fields[i] if i < len(fields) else "")
    return status


def _push_eval(m: MachineCore, job: Job, frame: Frame, text: str) -> None:
    src = m.add_source(text)
    m.push_frame(job, "eval", src, 0, frame["shell"], frame["fds"])


@builtin("eval")
def _eval(m, job, frame, argv, line):
    text = " ".join(argv[1:])
    if not text.strip():
        return 0
    _push_eval(m, job, frame, text)
    return None


@builtin(".", "source")
def _dot(m, job, frame, argv, line):
    shell = _shell(m, frame)
    if len(argv) < 2:
        return 0
    name = argv[1]
    path = abspath(shell["cwd"], name)
    if "/" not in name and not m.rootfs.isfile(path):
        found, _, _ = shell_find(
            m.rootfs, name, shell["vars"].get("PATH", DEFAULT_PATH), shell["cwd"]
        )
        path = found or path
    try:
        text = m.rootfs.read_bytes(path).decode("utf-8", "surrogateescape")
    except OSError:
        m.fatal(
            job,
            frame,
            m.prefix(frame, line, ".") + f"can't open '{name}': No such file or directory",
        )
    _push_eval(m, job, frame, text)
    return None


@builtin("exec")
def _exec(m, job, frame, argv, line):
    shell = _shell(m, frame)
    if len(argv) == 1:
        return 0
    args = argv[1:]
    env = m.environ(shell)
    path, code, why = find_command(m.rootfs, args[0], env.get("PATH", DEFAULT_PATH), shell["cwd"])
    if path is None:
        m.fatal(job, frame, m.prefix(frame, line, "exec") + f"{args[0]}: {why}", code)
    frames = job["frames"]
    sid = frame["shell"]
    base = len(frames) - 1
    while base > 0 and not (frames[base]["shell"] == sid and frames[base]["kind"] == "shell"):
        base -= 1
    fds = copy_fds(frame["fds"])
    role = frames[base]["role"]
    cap = frames[base]["cap"]  # the new program writes where the shell wrote: it keeps it
    own = list(frames[base]["own"]) + list(frame["own"])
    frames[base]["cap"] = None
    for f in frames[base:]:
        f["own"] = []
        m.drop_frame(f)
    del frames[base:]
    before = len(frames)
    start_argv(m, job, args, path, env, shell["cwd"], fds)
    if len(frames) > before:
        new = frames[before]
        new["role"] = role
        new["cap"] = cap
        new["own"] = own
    frame["own"] = []
    raise ShellExit


@builtin("command")
def _command(m, job, frame, argv, line):
    shell = _shell(m, frame)
    args = argv[1:]
    if args and args[0] in ("-v", "-V"):
        verbose = args[0] == "-V"
        status = 0
        for name in args[1:]:
            if name in BUILTINS or name in shell["funcs"]:
                text = f"{name} is a shell builtin" if verbose else name
            else:
                path, _, _ = find_command(
                    m.rootfs, name, shell["vars"].get("PATH", DEFAULT_PATH), shell["cwd"]
                )
                if path is None:
                    status = 1
                    continue
                path = name if path == SELF_EXE else path  # ash: an applet is its name
                text = f"{name} is {path}" if verbose else path
            m.write(frame["fds"], 1, (text + "\n").encode())
        return status
    if not args:
        return 0
    if args[0] in BUILTINS:
        return BUILTINS[args[0]](m, job, frame, args, line)
    env = m.environ(shell)
    path, code, why = find_command(m.rootfs, args[0], env.get("PATH", DEFAULT_PATH), shell["cwd"])
    if path is None:
        m.err(frame, f"{shell['arg0']}: {args[0]}: {why}")
        return code
    rc = run_program(m, job, frame, args, path, env, shell["cwd"], in_shell=True)
    return rc if isinstance(rc, int) else None


@builtin("type")
def _type(m, job, frame, argv, line):
    shell = _shell(m, frame)
    status = 0
    for name in argv[1:]:
        if name in shell["funcs"]:
            text = f"{name} is a function"
        elif name in BUILTINS:
            text = f"{name} is a {'special ' if name in SPECIAL else ''}shell builtin"
        else:
            path, _, _ = find_command(
                m.rootfs, name, shell["vars"].get("PATH", DEFAULT_PATH), shell["cwd"]
            )
            if path is None:
                text = f"{name}: not found"
                status = 127
            else:
                text = f"{name} is {name if path == SELF_EXE else path}"
        m.write(frame["fds"], 1, (text + "\n").encode())
    return status


@builtin("umask")
def _umask(m, job, frame, argv, line):
    if len(argv) == 1:
        m.write(frame["fds"], 1, b"0022\n")
    return 0


@builtin("hash")
def _hash(m, job, frame, argv, line):
    return 0


@builtin("ulimit")
def _ulimit(m, job, frame, argv, line):
    m.write(frame["fds"], 1, b"unlimited\n")
    return 0
