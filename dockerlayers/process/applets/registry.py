"""The applet table: busybox picks the applet by the name it was called by."""

from __future__ import annotations

from collections.abc import Callable

from .context import AppletContext

Applet = Callable[[AppletContext, list[str]], object]
APPLETS: dict[str, Applet] = {}
#: Shells: not Python functions — the machine runs them as frames of bytecode.
SHELLS = frozenset({"sh", "ash"})
#: The busybox of the real engine's base:1 image: Debian 12's busybox-static.
BUSYBOX_VERSION = "1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)"
BANNER = f"BusyBox v{BUSYBOX_VERSION} multi-call binary."


def applet(*names: str) -> Callable[[Applet], Applet]:
    def register(fn: Applet) -> Applet:
        for n in names:
            APPLETS[n] = fn
        return fn

    return register


def usage(ctx: AppletContext, name: str | None = None) -> None:
    """busybox's bb_show_usage on stderr: the banner, then the applet's usage text (as
    that busybox prints it: usage_text.py) — for `name`, or the applet being run."""
    from .usage_text import USAGE

    ctx.err(f"{BANNER}\n\n{USAGE[name or ctx.name]}\n")
