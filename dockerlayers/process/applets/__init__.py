"""busybox-style applets: Python functions acting on a container through its RootFS.

An applet is `fn(ctx: AppletContext, argv) -> int | Block | Exec`; the machine picks it by
the name the program was called by.
"""

from __future__ import annotations

from . import (  # noqa: F401 - register the applets
    binary,
    coreutils,
    files,
    ps,
    sed,
    shellutils,
    system,
    test,
    text,
)
from .context import AppletContext, Block, Exec
from .registry import APPLETS, SHELLS, applet

#: Every name a busybox binary answers to here (the shells included).
APPLET_NAMES = frozenset(APPLETS) | SHELLS

__all__ = ["APPLETS", "APPLET_NAMES", "SHELLS", "AppletContext", "Block", "Exec", "applet"]
