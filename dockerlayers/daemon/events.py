"""The daemon's event log (`docker events`), kept as JSON lines under the root.

moby: daemon/events.go, daemon/events/events.go (the message shape of the events API)
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from typing import Any


class EventsLog:
    """Append-only log of events; each is the dict the events API sends."""

    def __init__(self, path: str, now: Callable[[], float]) -> None:
        self.path = path
        self.now = now
        self._lock = threading.Lock()
        self._listeners: list[Callable[[dict[str, Any]], None]] = []

    def log(
        self,
        type_: str,
        action: str,
        actor_id: str,
        attributes: dict[str, str] | None = None,
        at: float | None = None,
    ) -> dict[str, Any]:
        """Record one event (time from the daemon's clock unless `at` is given)."""
        t = self.now() if at is None else at
        nanos = int(round(t * 1e9))
        attrs = dict(attributes or {})
        event: dict[str, Any] = {
            "status": action,
            "id": actor_id,
            "from": attrs.get("image", ""),
            "Type": type_,
            "Action": action,
            "Actor": {"ID": actor_id, "Attributes": attrs},
            "scope": "local",
            "time": nanos // 1_000_000_000,
            "timeNano": nanos,
        }
        if type_ != "container":
            del event["status"], event["id"], event["from"]
        with self._lock:
            with open(self.path, "a") as f:
                f.write(json.dumps(event, sort_keys=True) + "\n")
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)
        return event

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call `listener` for every new event; returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def cancel() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return cancel

    def list(
        self,
        since: float | None = None,
        until: float | None = None,
        filters: dict[str, list[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Events in order, optionally between two times and matching `filters`
        (container, event, type, image — like `docker events --filter`)."""
        if not os.path.exists(self.path):
            return []
        out = []
        with open(self.path) as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                t = ev["timeNano"] / 1e9
                if since is not None and t < since:
                    continue
                if until is not None and t > until:
                    continue
                if filters and not _matches(ev, filters):
                    continue
                out.append(ev)
        return out


def _matches(ev: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    attrs = ev["Actor"]["Attributes"]
    for key, values in filters.items():
        if key == "container":
            ok = any(
                v in (ev["Actor"]["ID"], attrs.get("name")) or ev["Actor"]["ID"].startswith(v)
                for v in values
            )
        elif key == "event":
            ok = ev["Action"].split(":")[0] in values
        elif key == "type":
            ok = ev["Type"] in values
        elif key == "image":
            ok = attrs.get("image") in values
        else:
            ok = True
        if not ok:
            return False
    return True
