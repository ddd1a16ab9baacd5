"""The simulated process model: clock, signals, the `sh` subset, busybox-style applets, and
the resumable Process the daemon drives (see DESIGN.md, "The process model")."""

from .clock import (
    ZERO_TIME,
    Clock,
    RealClock,
    VirtualClock,
    format_rfc3339nano,
    human_duration,
    make_clock,
    parse_rfc3339nano,
)
from .process import MAX_STEPS, ExecError, Process
from .signals import parse_signal, signal_name

__all__ = [
    "MAX_STEPS",
    "ZERO_TIME",
    "Clock",
    "ExecError",
    "Process",
    "RealClock",
    "VirtualClock",
    "format_rfc3339nano",
    "human_duration",
    "make_clock",
    "parse_rfc3339nano",
    "parse_signal",
    "signal_name",
]
