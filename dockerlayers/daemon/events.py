"""The daemon's event log (`docker events`), kept as JSON lines under the root.

moby: daemon/events.go, daemon/events/events.go (the message shape of the events API)
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from dockerlayers.errors import DockerException
from dockerlayers.filters import Args
from dockerlayers.process.clock import unix_nanos


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
        nanos = unix_nanos(t)
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
        filters: Args | Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Events in order, optionally between two times and matching `filters`
        (`docker events --filter`: container, image, event, type, label, volume, ...)."""
        args = Args.of(filters)
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
                if args and not include(args, ev):
                    continue
                out.append(ev)
        return out


def _strip_tag(image: str) -> str:
    """moby: daemon/events/filter.go stripTag (the familiar name, or `image` unparsed)."""
    from dockerlayers.image.refname import familiar_name, parse_normalized_named

    try:
        return familiar_name(parse_normalized_named(image))
    except DockerException:
        return image


def _fuzzy_match_name(f: Args, ev: dict[str, Any], type_: str) -> bool:
    actor = ev["Actor"]
    return f.fuzzy_match(type_, actor["ID"]) or f.fuzzy_match(
        type_, actor["Attributes"].get("name", "")
    )


def include(f: Args, ev: dict[str, Any]) -> bool:
    """Whether an event passes `docker events --filter` (no key is refused, as in 20.10).

    moby: daemon/events/filter.go Filter.Include
    """
    actor, attrs = ev["Actor"], ev["Actor"]["Attributes"]
    if f.get("event") and {"health_status", "exec_create", "exec_start"} & set(f.get("event")):
        if not f.fuzzy_match("event", ev["Action"]):
            return False
    elif not f.exact_match("event", ev["Action"]):
        return False
    if not f.exact_match("type", ev["Type"]):
        return False
    if f.contains("scope") and not f.exact_match("scope", ev.get("scope", "")):
        return False
    for type_ in ("daemon", "container", "plugin", "volume", "network", "service", "node"):
        if not _fuzzy_match_name(f, ev, type_):
            return False
    for type_ in ("secret", "config"):
        if not _fuzzy_match_name(f, ev, type_):
            return False
    name = attrs.get("name" if ev["Type"] == "image" else "image", "")
    if not (
        f.exact_match("image", actor["ID"])
        or f.exact_match("image", name)
        or f.exact_match("image", _strip_tag(actor["ID"]))
        or f.exact_match("image", _strip_tag(name))
    ):
        return False
    return not f.contains("label") or f.match_kv_list("label", attrs)
