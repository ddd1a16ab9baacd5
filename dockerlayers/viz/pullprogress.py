"""PullProgress: `docker pull` in a notebook, one progress bar per layer.

It is fed the progress dicts the Engine API streams (and docker-py's
`client.api.pull(..., stream=True, decode=True)` yields; the model's
`dockerlayers.distribution` emits the same): `Pulling fs layer`, `Waiting`,
`Downloading` (with `progressDetail` current/total), `Verifying Checksum`,
`Download complete`, `Extracting`, `Pull complete`, `Already exists`, then `Digest: ...`
and `Status: ...`. Nothing is printed while it runs (nbval stays strict); `text()` gives
what the docker CLI shows once the pull is over.

    bars = PullProgress()
    display(bars)
    image = bars.pull(client, "nginx:alpine")
    print(bars.text())
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from dockerlayers.image.units import human_size
from dockerlayers.viz.lab import Panel, _pre

#: bar colours by state (ipywidgets' bar_style names)
_STYLE = {
    "Pulling fs layer": "",
    "Waiting": "",
    "Downloading": "info",
    "Verifying Checksum": "info",
    "Download complete": "info",
    "Extracting": "warning",
    "Pull complete": "success",
    "Already exists": "success",
}
_DONE = ("Pull complete", "Already exists")


@dataclass
class LayerRow:
    """One layer's line: its short ID, last status and byte counts, and its widgets."""

    id: str
    status: str
    current: int
    total: int
    bar: widgets.FloatProgress
    label: widgets.HTML

    def line(self) -> str:
        """The line the CLI leaves on screen (no bar once a layer is done)."""
        if self.status in ("Downloading", "Extracting") and self.total:
            return f"{self.id}: {self.status} {human_size(self.current)}/{human_size(self.total)}"
        return f"{self.id}: {self.status}"


class PullProgress(Panel):
    """A pull's progress: a header (`TAG: Pulling from REPO`), one bar per layer, the
    digest and status lines, and the error if the pull failed.

    `feed(msg)` takes one progress dict; `pull(client, ref)` runs a pull through the
    client's Engine API stream and feeds every dict to the bars."""

    def __init__(self) -> None:
        c: dict[str, widgets.Widget] = {}
        c["header"] = widgets.HTML()
        c["layers"] = widgets.VBox()
        c["status"] = widgets.HTML()
        c["error"] = widgets.HTML()
        self.controls = c
        self.rows: dict[str, LayerRow] = {}
        self.header: list[str] = []
        self.footer: list[str] = []
        self.error: str = ""
        self.messages = 0
        super().__init__([c["header"], c["layers"], c["status"], c["error"]])

    # -- feeding ---------------------------------------------------------------------------
    def feed(self, msg: dict[str, Any]) -> None:
        """One Engine API progress message (a decoded JSON line)."""
        self.messages += 1
        if "error" in msg or "errorDetail" in msg:
            self.error = (msg.get("errorDetail") or {}).get("message") or str(msg.get("error"))
            self._show_error(self.error)
            return
        if "aux" in msg:
            return
        status = str(msg.get("status", ""))
        id = str(msg.get("id", ""))
        if "progressDetail" not in msg:  # a plain line: header or footer
            line = f"{id}: {status}" if id else status
            if self.rows:
                self.footer.append(line)
                self.controls["status"].value = _pre("\n".join(self.footer))
            else:
                self.header.append(line)
                self.controls["header"].value = _pre("\n".join(self.header))
            return
        row = self.rows.get(id) or self._add_row(id)
        detail = msg.get("progressDetail") or {}
        row.status = status
        if "current" in detail:
            row.current = int(detail["current"])
            row.total = int(detail.get("total") or 0)
        elif status not in ("Downloading", "Extracting"):
            row.current = row.total = 0
        self._draw(row)

    def _add_row(self, id: str) -> LayerRow:
        bar = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="300px")
        )
        label = widgets.HTML()
        row = LayerRow(id, "", 0, 0, bar, label)
        self.rows[id] = row
        name = widgets.HTML(f"<code>{html.escape(id)}</code>")
        self.controls["layers"].children = (
            *self.controls["layers"].children,
            widgets.HBox([name, bar, label]),
        )
        return row

    def _draw(self, row: LayerRow) -> None:
        if row.status in _DONE:
            row.bar.value = 1.0
        elif row.status in ("Downloading", "Extracting") and row.total:
            row.bar.value = min(1.0, row.current / row.total)
        elif row.status in ("Verifying Checksum", "Download complete"):
            row.bar.value = 1.0
        else:
            row.bar.value = 0.0
        row.bar.bar_style = _STYLE.get(row.status, "")
        text = row.status
        if row.status in ("Downloading", "Extracting") and row.total:
            text += f" {human_size(row.current)}/{human_size(row.total)}"
        row.label.value = html.escape(text)

    # -- running ---------------------------------------------------------------------------
    def pull(self, client: Any, ref: str, **kwargs: Any) -> Any:
        """Pull `ref` through `client.api.pull(..., stream=True, decode=True)`, feeding
        the bars; returns `client.images.get(ref)`. A failed pull shows its error here
        and raises it (as `docker pull` exits 1)."""
        from dockerlayers.errors import APIError

        for msg in client.api.pull(ref, stream=True, decode=True, **kwargs):
            self.feed(msg)
        if self.error:
            raise APIError(self.error)
        return client.images.get(ref)

    # -- reading ---------------------------------------------------------------------------
    def statuses(self) -> dict[str, str]:
        """Each layer's last status, in the order the layers appeared."""
        return {id: row.status for id, row in self.rows.items()}

    def text(self) -> str:
        """What `docker pull` leaves on a terminal: header, one line per layer, footer."""
        lines = [*self.header, *(row.line() for row in self.rows.values()), *self.footer]
        if self.error:
            lines.append(self.error)
        return "\n".join(lines)
