"""Linux (x86_64) signal numbers and names, parsed like Docker.

moby: pkg/signal/signal.go ParseSignal and signal_linux.go SignalMap (now moby/sys/signal):
a number (any non-zero integer) or a name, case-insensitive, with or without `SIG`.
"""

from __future__ import annotations

from collections.abc import Callable

SIGHUP = 1
SIGINT = 2
SIGQUIT = 3
SIGILL = 4
SIGTRAP = 5
SIGABRT = 6
SIGBUS = 7
SIGFPE = 8
SIGKILL = 9
SIGUSR1 = 10
SIGSEGV = 11
SIGUSR2 = 12
SIGPIPE = 13
SIGALRM = 14
SIGTERM = 15
SIGSTKFLT = 16
SIGCHLD = 17
SIGCONT = 18
SIGSTOP = 19
SIGTSTP = 20
SIGTTIN = 21
SIGTTOU = 22
SIGURG = 23
SIGXCPU = 24
SIGXFSZ = 25
SIGVTALRM = 26
SIGPROF = 27
SIGWINCH = 28
SIGIO = 29
SIGPWR = 30
SIGSYS = 31
SIGRTMIN = 34
SIGRTMAX = 64

#: moby's SignalMap for Linux (names without the `SIG` prefix), aliases included.
SIGNAL_MAP: dict[str, int] = {
    "ABRT": SIGABRT,
    "ALRM": SIGALRM,
    "BUS": SIGBUS,
    "CHLD": SIGCHLD,
    "CLD": SIGCHLD,
    "CONT": SIGCONT,
    "FPE": SIGFPE,
    "HUP": SIGHUP,
    "ILL": SIGILL,
    "INT": SIGINT,
    "IO": SIGIO,
    "IOT": SIGABRT,
    "KILL": SIGKILL,
    "PIPE": SIGPIPE,
    "POLL": SIGIO,
    "PROF": SIGPROF,
    "PWR": SIGPWR,
    "QUIT": SIGQUIT,
    "SEGV": SIGSEGV,
    "STKFLT": SIGSTKFLT,
    "STOP": SIGSTOP,
    "SYS": SIGSYS,
    "TERM": SIGTERM,
    "TRAP": SIGTRAP,
    "TSTP": SIGTSTP,
    "TTIN": SIGTTIN,
    "TTOU": SIGTTOU,
    "URG": SIGURG,
    "USR1": SIGUSR1,
    "USR2": SIGUSR2,
    "VTALRM": SIGVTALRM,
    "WINCH": SIGWINCH,
    "XCPU": SIGXCPU,
    "XFSZ": SIGXFSZ,
    "RTMIN": SIGRTMIN,
    **{f"RTMIN+{i}": SIGRTMIN + i for i in range(1, 16)},
    **{f"RTMAX-{i}": SIGRTMAX - i for i in range(1, 15)},
    "RTMAX": SIGRTMAX,
}

# canonical names (first name listed for each number, aliases skipped)
_NAMES: dict[int, str] = {}
for _name, _num in SIGNAL_MAP.items():
    if _name not in ("CLD", "IOT", "POLL"):
        _NAMES.setdefault(_num, _name)

#: Signals whose default action is to be ignored (signal(7)); all others terminate.
DEFAULT_IGNORED = frozenset({SIGCHLD, SIGCONT, SIGURG, SIGWINCH})


def parse_signal(value: str | int) -> int:
    """Docker's ParseSignal: `"SIGTERM"`, `"TERM"`, `"term"`, `"15"` or `15` → 15.

    Raises ValueError(`Invalid signal: X`) for an unknown name or 0.
    """
    if isinstance(value, bool):
        raise ValueError(f"Invalid signal: {value}")
    if isinstance(value, int):
        if value == 0:
            raise ValueError(f"Invalid signal: {value}")
        return value
    raw = str(value)
    try:
        n = int(raw.strip(), 10)
    except ValueError:
        pass
    else:
        if n == 0:
            raise ValueError(f"Invalid signal: {raw}")
        return n
    upper = raw.upper()
    if upper.startswith("SIG"):
        upper = upper[3:]
    if upper not in SIGNAL_MAP:
        raise ValueError(f"Invalid signal: {raw}")
    return SIGNAL_MAP[upper]


def signal_name(n: int) -> str:
    """`15` → `"SIGTERM"`; numbers without a name give `"SIG<n>"`."""
    name = _NAMES.get(n)
    return f"SIG{name}" if name else f"SIG{n}"


def short_name(n: int) -> str | None:
    """`15` → `"TERM"` (the shell's spelling in `trap` and `kill -l`), None if unnamed."""
    return _NAMES.get(n)


def _parse_kill_signal(spec: str) -> int | None:
    """kill's signal: a number as given (0 probes), else a name with or without SIG."""
    if spec.isdigit():
        return int(spec)
    up = spec.upper()
    if up.startswith("SIG"):
        up = up[3:]
    return SIGNAL_MAP.get(up)


def kill_command(
    write: Callable[[int, bytes], None],
    argv: list[str],
    prog: str,
    kill: Callable[[int, int], bool],
) -> int:
    """`kill [-s SIG | -SIG] PID...` and `kill -l`, shared by ash's builtin and the applet.

    `write(fd, data)` writes the messages (prefixed with `prog`), `kill(pid, sig)` sends a
    signal and says whether the pid exists.
    """
    args = argv[1:]
    sig = SIGTERM
    if args and args[0] == "-l":
        if len(args) > 1:
            for a in args[1:]:
                if a.isdigit():
                    name = short_name(int(a) & 0x7F if int(a) > 128 else int(a))
                    write(1, f"{name}\n".encode())
                else:
                    n = _parse_kill_signal(a)
                    write(1, f"{n}\n".encode())
            return 0
        for n in range(1, 32):
            name = short_name(n)
            if name:
                write(1, f"{n:2d}) {name}\n".encode())
        return 0
    if args and args[0] == "-s" and len(args) > 1:
        spec = args[1]
        args = args[2:]
        n = _parse_kill_signal(spec)
        if n is None:
            write(2, f"{prog}bad signal name '{spec}'\n".encode())
            return 1
        sig = n
    elif args and args[0].startswith("-") and len(args[0]) > 1 and args[0] != "--":
        spec = args.pop(0)[1:]
        n = _parse_kill_signal(spec)
        if n is None:
            write(2, f"{prog}bad signal name '{spec}'\n".encode())
            return 1
        sig = n
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        write(
            2,
            b"kill: usage: kill [-s sigspec | -signum | -sigspec] [pid | job]... or\n"
            b"kill -l [exitstatus]\n",
        )
        return 1
    status = 0
    for a in args:
        try:
            pid = int(a)
        except ValueError:
            write(2, f"{prog}invalid number '{a}'\n".encode())
            status = 1
            continue
        if not kill(pid, sig):
            write(2, f"{prog}can't kill pid {a}: No such process\n".encode())
            status = 1
    return status
