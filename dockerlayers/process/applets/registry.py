"""The applet table: busybox picks the applet by the name it was called by."""

from __future__ import annotations

from collections.abc import Callable

from .context import AppletContext

Applet = Callable[[AppletContext, list[str]], object]
APPLETS: dict[str, Applet] = {}
#: Shells: not Python functions — the machine runs them as frames of bytecode.
SHELLS = frozenset({"sh", "ash"})
BUSYBOX_VERSION = "1.36.1"


def applet(*names: str) -> Callable[[Applet], Applet]:
    def register(fn: Applet) -> Applet:
        for n in names:
            APPLETS[n] = fn
        return fn

    return register


def usage(ctx: AppletContext, text: str) -> None:
    """busybox's short usage message, on stderr."""
    ctx.err(f"BusyBox v{BUSYBOX_VERSION} multi-call binary.\n\nUsage: {text}\n")
