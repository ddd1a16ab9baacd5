"""The simulated process model: clock, signals, the `sh` subset, busybox-style applets, and
the resumable Process the daemon drives (see DESIGN.md, "The process model")."""

from typing import TYPE_CHECKING

from dockerlayers._lazy import lazy_exports

if TYPE_CHECKING:
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

__getattr__ = lazy_exports(
    __name__,
    {
        "ZERO_TIME": ".clock",
        "Clock": ".clock",
        "RealClock": ".clock",
        "VirtualClock": ".clock",
        "format_rfc3339nano": ".clock",
        "human_duration": ".clock",
        "make_clock": ".clock",
        "parse_rfc3339nano": ".clock",
        "MAX_STEPS": ".process",
        "ExecError": ".process",
        "Process": ".process",
        "parse_signal": ".signals",
        "signal_name": ".signals",
    },
)

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
