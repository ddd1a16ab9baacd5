"""Linux (x86_64) signal numbers and names, parsed like Docker.

moby: pkg/signal/signal.go ParseSignal and signal_linux.go SignalMap (now moby/sys/signal):
a number (any non-zero integer) or a name, case-insensitive, with or without `SIG`.
"""

from __future__ import annotations

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
