"""Docker's container state machine, with a container's current state and the path its
events show it took.

moby: container/state.go (the states), daemon/{start,stop,kill,pause,unpause,restart,
delete,monitor}.go (the transitions)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dockerlayers.viz._model import container_name, daemon_of

STATES = ("created", "running", "paused", "restarting", "exited", "removing", "dead")

#: (from, to, what does it) — moby's transitions.
TRANSITIONS: tuple[tuple[str, str, str], ...] = (
    ("created", "running", "start"),
    ("running", "paused", "pause"),
    ("paused", "running", "unpause"),
    ("running", "exited", "stop / kill / exit"),
    ("paused", "exited", "kill / stop"),
    ("running", "restarting", "exit + restart policy"),
    ("restarting", "running", "policy restarts"),
    ("restarting", "exited", "stop"),
    ("exited", "running", "start / restart"),
    ("running", "running", "restart"),
    ("created", "removing", "rm"),
    ("exited", "removing", "rm"),
    ("running", "removing", "rm -f"),
    ("removing", "dead", "removal failed"),
    ("dead", "removing", "rm"),
)


@dataclass
class Lifecycle:
    """The model behind `plot_lifecycle`: the current state ("removed" once gone) and the
    path: (from, to, event) steps in order."""

    container: str
    current: str
    path: list[tuple[str, str, str]]

    def visited(self) -> list[str]:
        return [self.path[0][0]] + [t for _, t, _ in self.path] if self.path else [self.current]


def lifecycle(client: Any, container: str) -> Lifecycle:
    """The container's state path from its events (works after `rm` too, by full ID)."""
    daemon = daemon_of(client)
    try:
        c = daemon.get_container(container)
        cid, name, current = c.id, container_name(c), c.state.state_string()
    except Exception:
        cid, name, current = container, container[:12], "removed"
    events = [
        e for e in daemon.events.list(filters={"type": ["container"]}) if e["Actor"]["ID"] == cid
    ]
    path: list[tuple[str, str, str]] = []
    state = None
    for ev in events:
        action = ev["Action"].split(":", 1)[0]
        nxt = {
            "create": "created",
            "start": "running",
            "pause": "paused",
            "unpause": "running",
            "die": "exited",
            "destroy": "removed",
        }.get(action)
        if action == "restart":
            # a restart is stop + start; its event comes after them: name them so
            if path and path[-1][1] == "running":
                f, t, _ = path[-1]
                path[-1] = (f, t, "restart")
                if len(path) > 1 and path[-2][1] == f == "exited" and path[-2][2] == "die":
                    path[-2] = (path[-2][0], f, "restart (stop)")
            continue
        if nxt is None:
            continue
        if state is None:
            state = nxt
            continue
        if action == "destroy":
            path.append((state, "removing", "rm"))
            state = "removing"
            nxt = "removed"
        if nxt != state:
            path.append((state, nxt, action))
            state = nxt
    if current == "restarting" and path and path[-1][1] == "exited":
        f, _, a = path[-1]
        path[-1] = (f, "restarting", a + " + restart policy")
    return Lifecycle(name, current, path)


_POS = {
    "created": (0.0, 1.0),
    "running": (1.3, 1.0),
    "paused": (1.3, 2.0),
    "restarting": (2.6, 2.0),
    "exited": (2.6, 1.0),
    "removing": (1.3, 0.0),
    "dead": (2.6, 0.0),
    "removed": (0.0, 0.0),
}


def plot_lifecycle(source: Any, container: str | None = None) -> Any:
    """Draw the state machine (`source`: a Lifecycle, or a client and a container)."""
    from matplotlib.patches import FancyArrowPatch

    from dockerlayers.viz._figure import new_figure

    lc = source if isinstance(source, Lifecycle) else lifecycle(source, container or "")
    fig = new_figure(6.4, 3.6)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.86))
    ax.set_xlim(-0.5, 3.1)
    ax.set_ylim(-0.45, 2.45)
    ax.axis("off")
    taken = {(f, t) for f, t, _ in lc.path}
    for f, t, _label in TRANSITIONS:
        if f == t:
            continue
        on = (f, t) in taken
        ax.add_patch(
            FancyArrowPatch(
                _POS[f],
                _POS[t],
                arrowstyle="-|>",
                mutation_scale=12,
                shrinkA=18,
                shrinkB=18,
                connectionstyle="arc3,rad=0.15",
                color="#d62728" if on else "#bbbbbb",
                linewidth=2.0 if on else 0.8,
            )
        )
    if any(f == "removing" for f, _, _ in lc.path) or lc.current == "removed":
        ax.add_patch(
            FancyArrowPatch(
                _POS["removing"],
                _POS["removed"],
                arrowstyle="-|>",
                mutation_scale=12,
                shrinkA=18,
                shrinkB=18,
                color="#d62728",
                linewidth=2.0,
            )
        )
    for state, (x, y) in _POS.items():
        cur = state == lc.current
        ax.text(
            x,
            y,
            state,
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold" if cur else "normal",
            bbox=dict(
                boxstyle="round,pad=0.4",
                facecolor="#fdae6b" if cur else "white",
                edgecolor="#d62728" if cur else "#636363",
                linestyle="--" if state == "removed" else "-",
            ),
        )
    first = max(0, len(lc.path) - 10)  # the last ten steps, numbered from the first
    steps = "  ".join(f"{i + 1}.{a}" for i, (_, _, a) in enumerate(lc.path) if i >= first)
    if first:
        steps = "…  " + steps
    fig.text(0.01, 0.98, f"{lc.container}: {lc.current}", va="top", fontsize=10, fontweight="bold")
    fig.text(0.01, 0.91, steps, va="top", fontsize=8)
    return fig
