"""Progress messages shaped as the Engine API streams them (docker-py yields these dicts).

moby: pkg/progress, pkg/jsonmessage JSONProgress.String
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from dockerlayers.image.units import human_size

Progress = Callable[[dict[str, Any]], None]


def short(dgst: str) -> str:
    """The 12-character ID a layer's progress lines carry. moby: stringid.TruncateID"""
    return dgst.partition(":")[2][:12]


def bar(current: int, total: int) -> str:
    """`[====>     ]  1.2MB/3.4MB`. moby: pkg/jsonmessage JSONProgress.String (width 110)"""
    if total <= 0:
        return f"{human_size(current):>8}"
    pct = min(50, int(current * 100 / total) // 2)
    box = "[" + "=" * pct + (">" if pct < 50 else "") + " " * (50 - pct - 1 if pct < 50 else 0)
    return f"{box}] {human_size(current):>8}/{human_size(total)}"


class Emitter:
    """Sends messages to a callback (or nowhere), one at a time: layers download on
    several threads, and the callback (a CLI display, a widget) need not be thread-safe."""

    def __init__(self, callback: Progress | None) -> None:
        self.callback = callback
        self._lock = threading.Lock()

    def message(self, status: str, id: str = "") -> None:
        msg: dict[str, Any] = {"status": status}
        if id:
            msg["id"] = id
        self._send(msg)

    def update(self, id: str, status: str, current: int | None = None, total: int = 0) -> None:
        detail: dict[str, Any] = {}
        msg: dict[str, Any] = {"status": status, "progressDetail": detail, "id": id}
        if current is not None:
            detail["current"] = current
            if total:
                detail["total"] = total
            msg["progress"] = bar(current, total)
        self._send(msg)

    def aux(self, data: dict[str, Any]) -> None:
        self._send({"progressDetail": {}, "aux": data})

    def _send(self, msg: dict[str, Any]) -> None:
        if self.callback is not None:
            with self._lock:
                self.callback(msg)
