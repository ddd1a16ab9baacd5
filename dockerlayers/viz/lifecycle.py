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

#: (from, to, the commands (or event) that do it) — moby's transitions.
TRANSITIONS: tuple[tuple[str, str, str], ...] = (
    ("created", "running", "start"),
    ("running", "paused", "pause"),
    ("paused", "running", "unpause"),
    ("running", "exited", "stop / kill / die"),
    ("paused", "exited", "stop / kill"),
    ("running", "restarting", "die + policy"),
    ("restarting", "running", "start (policy)"),
    ("restarting", "exited", "stop"),
    ("exited", "running", "start / restart"),
    ("running", "running", "restart"),
    ("created", "removing", "rm"),
    ("exited", "removing", "rm"),
    ("running", "removing", "rm -f"),
    ("removing", "dead", "rm failed"),
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


#: where along an edge (0: its start, 1: its end) its label goes, if not the middle
_LABEL_T = {
    ("running", "restarting"): 0.27,
    ("restarting", "running"): 0.25,
    ("paused", "exited"): 0.25,
    ("exited", "removing"): 0.6,
}


def plot_lifecycle(source: Any, container: str | None = None) -> Any:
    """Draw the state machine (`source`: a Lifecycle, or a client and a container)."""
    from matplotlib.patches import FancyArrowPatch

    from dockerlayers.viz._figure import new_figure

    lc = source if isinstance(source, Lifecycle) else lifecycle(source, container or "")
    width, height = 7.6, 4.4
    box = (0.02, 0.02, 0.96, 0.84)
    fig = new_figure(width, height)
    ax = fig.add_axes(box)
    xlim, ylim = (-0.75, 3.15), (-0.45, 2.45)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.axis("off")
    # inches per data unit, to place a label on the middle of a curved (arc3) edge
    sx = width * box[2] / (xlim[1] - xlim[0])
    sy = height * box[3] / (ylim[1] - ylim[0])
    taken = {(f, t) for f, t, _ in lc.path}
    rad = 0.15
    for f, to, label in TRANSITIONS:
        on = (f, to) in taken
        if f == to:
            x, y = _POS[f]
            ax.text(x + 0.02, y + 0.3, f"↻ {label}", fontsize=7, ha="left", va="center",
                    color="#d62728" if on else "#636363")  # fmt: skip
            continue
        (x1, y1), (x2, y2) = _POS[f], _POS[to]
        dx, dy = (x2 - x1) * sx, (y2 - y1) * sy
        # a point of the quadratic Bézier (arc3's control point: `rad` x the chord, turned),
        # pushed 0.12 in further out so the two edges of a pair keep their labels apart;
        # edges that cross the middle are labelled nearer one end
        t = _LABEL_T.get((f, to), 0.5)
        n = (dx * dx + dy * dy) ** 0.5 or 1.0
        cx = (x1 + x2) / 2 + rad * dy / sx
        cy = (y1 + y2) / 2 - rad * dx / sy
        mx = (1 - t) ** 2 * x1 + 2 * (1 - t) * t * cx + t * t * x2 + 0.12 * dy / n / sx
        my = (1 - t) ** 2 * y1 + 2 * (1 - t) * t * cy + t * t * y2 - 0.12 * dx / n / sy
        ax.text(
            mx,
            my,
            label,
            fontsize=7,
            # beside a vertical edge, the label reads away from it
            ha="center" if abs(dx) > 0.3 else ("left" if dy > 0 else "right"),
            va="center",
            color="#d62728" if on else "#525252",
            fontweight="bold" if on else "normal",
            bbox=dict(boxstyle="round,pad=0.12", facecolor="white", edgecolor="none", alpha=0.85),
            zorder=5,
        )
        ax.add_patch(
            FancyArrowPatch(
                _POS[f],
                _POS[to],
                arrowstyle="-|>",
                mutation_scale=12,
                shrinkA=18,
                shrinkB=18,
                connectionstyle=f"arc3,rad={rad}",
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
    ax.annotate(
        "create",
        xy=(_POS["created"][0] - 0.3, _POS["created"][1]),
        xytext=(xlim[0] + 0.02, _POS["created"][1] + 0.35),
        fontsize=7,
        color="#525252",
        arrowprops=dict(arrowstyle="-|>", color="#bbbbbb", linewidth=0.8),
    )
    ax.text(
        (_POS["removing"][0] + _POS["removed"][0]) / 2,
        _POS["removed"][1] + 0.1,
        "destroy",
        fontsize=7,
        ha="center",
        color="#525252",
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
    fig.text(0.01, 0.925, steps, va="top", fontsize=8)
    return fig
