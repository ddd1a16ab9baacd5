"""ContainerLab: create, start, stop, kill, pause, restart, rm, commit and exec containers
from buttons, and see after each action its state, its events, the file × layer map, the
root on disk and "what Docker did" (the moby functions, from the files and events seen).

Plots are PNG bytes in `widgets.Image`, text is in `HTML`/`Textarea` values: nothing is
printed, so notebooks stay reproducible under nbval. Docker's refusals show in the panel;
nothing raises into the notebook.
"""

from __future__ import annotations

import html
import shlex
from datetime import datetime, timezone
from typing import Any

import ipywidgets as widgets

from dockerlayers.viz._figure import has_matplotlib, to_png, warm
from dockerlayers.viz._model import container_name, daemon_of, image_label, short
from dockerlayers.viz.disktree import disk_tree
from dockerlayers.viz.filemap import file_layer_matrix, human_size, plot_file_layer_map
from dockerlayers.viz.trace import Trace, error_text, format_event, run_traced

#: the map is laid out at MAP_DPI pixels per inch (CSS pixels) and drawn at MAP_SCALE x
MAP_DPI, MAP_SCALE = 90, 2
ACTIONS = ("create", "start", "stop", "kill", "pause", "unpause", "restart", "rm", "commit")
DEFAULT_COMMAND = "sh -c 'echo hello > /hello.txt; while true; do date >> /log.txt; sleep 5; done'"


MAP_KEY = (
    '<span style="font-size:11px">file × layer map of the selected container: '
    '<span style="background:#7fc97f">&nbsp;added&nbsp;</span> '
    '<span style="background:#fdc086">&nbsp;modified (shadows a lower copy)&nbsp;</span> '
    '<span style="background:#e7298a">&nbsp;whiteout&nbsp;</span> '
    '<span style="background:#9e7fd1">&nbsp;opaque&nbsp;</span> '
    "&#9679; the copy the merged view shows; "
    '<span style="color:#d62728">red</span>: written to the RW layer by the last action</span>'
)
#: the key of the map drawn as text, where matplotlib is missing (a JupyterLite site built
#: offline): the same matrix, one letter per file and layer
MAP_KEY_TEXT = (
    '<span style="font-size:11px">file × layer map of the selected container (as text: '
    "matplotlib is missing here): A added, M modified (shadows a lower copy), W whiteout, "
    "O opaque, * the copy the merged view shows, ! written to the RW layer by the last "
    "action</span>"
)


def format_time(t_ns: int) -> str:
    """RFC 3339 with nanoseconds, UTC, as `docker events` prints (virtual clock: stable)."""
    secs, nanos = divmod(int(t_ns), 1_000_000_000)
    stamp = datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def _pre(text: str, color: str = "black") -> str:
    style = f"font-size:11px;line-height:1.25;margin:0;color:{color}"
    return f'<pre style="{style}">{html.escape(text)}</pre>'


class Panel(widgets.VBox):
    """Base of the panels: named `controls` for the testing harness, a stable repr."""

    controls: dict[str, widgets.Widget]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def _guard(self, fn: Any) -> Any:
        def handler(*_: Any) -> None:
            try:
                fn()
            except Exception as e:  # never raise into the notebook
                self._show_error(f"{type(e).__name__}: {error_text(e)}")

        return handler

    def _show_error(self, text: str) -> None:
        box = self.controls.get("error")
        if isinstance(box, widgets.HTML):
            box.value = _pre(text, "#cf222e") if text else ""


def _rw_name(rw: Any) -> str:
    """How the RW layer is named: its mount-id (graph drivers) or its snapshot (containerd)."""
    snapshot_id = getattr(getattr(rw, "layer", None), "snapshot_id", None)
    if snapshot_id is not None:
        return f"snapshot {short(rw.mount_id)} in snapshots/{snapshot_id()}"
    return f"mount-id {short(rw.mount_id)}"


class ContainerLab(Panel):
    """A lab bench for containers on one client (several containers at once).

    Use in a notebook as the last expression of a cell; drive it in tests with
    `dockerlayers.viz.testing.PanelRunner`. `do(verb)` runs a button's action from code.
    """

    def __init__(
        self,
        client: Any,
        image: Any = None,
        *,
        command: str = DEFAULT_COMMAND,
        map_rows: int = 30,
        show_map: bool = True,
        show_tree: bool = True,
    ) -> None:
        self.client = client
        self.daemon = daemon_of(client)
        self.map_rows = map_rows
        self.show_map = show_map
        self.map_as_text = show_map and not has_matplotlib()
        self.show_tree = show_tree
        self.history: list[Trace] = []
        self.last_trace: Trace | None = None
        self._png_key: str | None = None
        self._exec_of: str | None = None  # the container the exec output came from
        c: dict[str, widgets.Widget] = {}
        c["image"] = widgets.Dropdown(description="image", options=self._image_options())
        if image is not None:
            ref = getattr(image, "id", image)
            c["image"].value = self.daemon.image_service.get_image(ref).id
        c["name"] = widgets.Text(description="name", placeholder="(generated)")
        c["command"] = widgets.Text(
            description="command", value=command, layout=widgets.Layout(width="60%")
        )
        c["container"] = widgets.Dropdown(description="container", options=[])
        c["force"] = widgets.Checkbox(description="rm -f", value=False, indent=False)
        c["commit_as"] = widgets.Text(description="commit as", value="lab:latest")
        c["exec"] = widgets.Text(
            description="exec",
            value="sh -c 'echo changed > /hello.txt; rm /etc/os-release'",
            layout=widgets.Layout(width="60%"),
        )
        c["exec_output"] = widgets.Textarea(
            description="output", value="", layout=widgets.Layout(width="95%", height="60px")
        )
        c["seconds"] = widgets.BoundedFloatText(description="seconds", value=5, min=0, max=3600)
        c["status"] = widgets.HTML()
        c["error"] = widgets.HTML()
        c["trace"] = widgets.HTML()
        c["log"] = widgets.Textarea(
            description="events",
            placeholder="(newest first)",
            layout=widgets.Layout(width="95%", height="140px"),
        )
        # hidden while empty (an empty Image shows a broken-image icon); shown at the size
        # it is drawn (a PNG stretched to the panel's width is blurry and too tall)
        c["map"] = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        c["key"] = widgets.HTML(MAP_KEY_TEXT if self.map_as_text else MAP_KEY)
        c["tree"] = widgets.HTML()
        self.controls = c
        buttons = []
        for verb in ACTIONS:
            b = widgets.Button(description=verb, layout=widgets.Layout(width="80px"))
            b.on_click(self._guard(lambda v=verb: self.do(v)))
            buttons.append(b)
        run = widgets.Button(description="run exec")
        run.on_click(self._guard(lambda: self.do("exec")))
        clock_row: list[widgets.Widget] = []
        if self.daemon.clock.virtual:
            adv = widgets.Button(description="advance clock")
            adv.on_click(self._guard(lambda: self.do("advance")))
            clock_row = [c["seconds"], adv]
        self.buttons = {b.description: b for b in [*buttons, run]}
        if clock_row:
            self.buttons["advance clock"] = clock_row[1]
        left = widgets.VBox([c["trace"]], layout=widgets.Layout(width="50%"))
        right = widgets.VBox([c["tree"]], layout=widgets.Layout(width="50%", overflow="auto"))
        super().__init__(
            [
                widgets.HBox([c["image"], c["name"], c["container"]]),
                c["command"],
                widgets.HBox(buttons),
                widgets.HBox([c["force"], c["commit_as"]]),
                widgets.HBox([c["exec"], run]),
                c["exec_output"],
                widgets.HBox(clock_row),
                c["error"],
                c["status"],
                c["log"],
                widgets.HBox([left, right]),
                c["key"],
                c["map"],
            ]
        )
        self.refresh()
        if show_map and not self.map_as_text:
            warm()  # the first click must not pay matplotlib's start-up

    # -- state ---------------------------------------------------------------------------
    def _image_options(self) -> list[tuple[str, str]]:
        out = []
        for s in sorted(
            self.daemon.image_service.images(), key=lambda s: (image_label(self.daemon, s.id), s.id)
        ):
            out.append((image_label(self.daemon, s.id), s.id))
        return out

    @property
    def selected(self) -> str | None:
        """The full ID of the container the buttons act on."""
        return self.controls["container"].value

    def select(self, ref: str) -> None:
        self.controls["container"].value = self.daemon.get_container(ref).id

    # -- actions ---------------------------------------------------------------------------
    def do(self, verb: str) -> Trace:
        """Run one action (a button's verb, "exec" or "advance") and refresh the panel."""
        c = self.controls
        cid = self.selected
        label = container_name(self.daemon.containers[cid]) if cid in self.daemon.containers else ""
        if verb == "create":
            argv = shlex.split(c["command"].value) if c["command"].value.strip() else None
            name = c["name"].value.strip() or None

            chosen = c["image"].value

            def fn() -> Any:
                # no image yet: get `base` first, as `docker run base` pulls what it lacks
                ref = chosen if chosen is not None else self.client.images.base().id
                return self.client.containers.create(ref, argv, name=name)

            shown_name = name or "<generated>"
            shown_image = image_label(self.daemon, chosen) if chosen is not None else "base"
            action = f"docker create --name {shown_name} {shown_image}"
        elif verb == "advance":
            secs = float(c["seconds"].value)

            def fn() -> Any:
                return self.client.clock.advance(secs)

            action = f"(clock) advance {secs:g}s"
        else:
            if cid is None:
                return self._refused(verb, "no container: create one first")
            ref = cid

            def call(method: str, *args: Any, **kw: Any) -> Any:
                return getattr(self.client.containers.get(ref), method)(*args, **kw)

            if verb == "rm":
                force = bool(c["force"].value)

                def fn() -> Any:
                    return call("remove", force=force)

                action = f"docker rm {'-f ' if force else ''}{label}"
            elif verb == "commit":
                repo, _, tag = c["commit_as"].value.strip().partition(":")

                def fn() -> Any:
                    return call("commit", repo or None, tag or None)

                action = f"docker commit {label} {c['commit_as'].value.strip()}"
            elif verb == "exec":
                cmd = c["exec"].value

                def fn() -> Any:
                    return call("exec_run", shlex.split(cmd))

                action = f"docker exec {label} {cmd}"
            elif verb in ACTIONS:

                def fn() -> Any:
                    return call(verb)

                action = f"docker {verb} {label}"
            else:
                raise ValueError(f"unknown action {verb!r}")
        result, trace = run_traced(self.client, verb, action, fn)
        if verb == "create" and trace.error is None:
            self._after_create = result.id
        if verb == "exec" and trace.error is None:
            code, out = result
            c[
                "exec_output"
            ].value = f"$ {c['exec'].value}\n{out.decode('utf-8', 'replace')}(exit code {code})"
            self._exec_of = cid
        elif verb == "exec":
            c["exec_output"].value = ""  # no output of an earlier exec under this error
            self._exec_of = None
        self.last_trace = trace
        self.history.append(trace)
        self.refresh(trace)
        return trace

    def _refused(self, verb: str, message: str) -> Trace:
        trace = Trace(verb, [], message)
        self.last_trace = trace
        self.refresh(trace)
        return trace

    # -- views -----------------------------------------------------------------------------
    def refresh(self, trace: Trace | None = None) -> None:
        """Redraw everything from the daemon's current state."""
        c = self.controls
        images = self._image_options()
        keep = c["image"].value
        c["image"].options = images
        if keep in dict((v, k) for k, v in images):
            c["image"].value = keep
        opts = [
            (container_name(ct), cid)
            for cid, ct in sorted(
                self.daemon.containers.items(), key=lambda kv: (kv[1].created, kv[0])
            )
        ]
        want = getattr(self, "_after_create", None) or c["container"].value
        self._after_create = None
        c["container"].options = opts
        ids = [v for _, v in opts]
        if want in ids:
            c["container"].value = want
        elif ids:
            c["container"].value = ids[-1]
        else:
            c["container"].value = None
        self._show_error(
            f"Error response from daemon: {trace.error}" if trace and trace.error else ""
        )
        if self._exec_of is not None and (
            self._exec_of not in self.daemon.containers or self._exec_of != c["container"].value
        ):
            c["exec_output"].value = ""  # its container is gone (or another is selected)
            self._exec_of = None
        c["status"].value = self._status_html()
        c["log"].value = self._event_log()
        if trace is not None:
            c["trace"].value = "<b>What Docker did</b>" + _pre(trace.to_text())
        if self.show_tree:
            since = trace.before if trace is not None else None
            now = trace.after if trace is not None else None
            c["tree"].value = (
                "<b>On disk (relative to the root)</b>"
                + disk_tree(self.client, since, now=now).to_html()
            )
        if self.show_map:
            self._draw_map(trace)

    def status_text(self) -> str:
        """`docker ps -a -s`-like lines for every container, plus the clock."""
        rows = []
        now = self.daemon.clock.now()
        for entry in self.daemon.list(all=True, size=True):
            cid = entry["Id"]
            rw = self.daemon.rw_layer(cid)
            rows.append(
                f"{entry['Names'][0].lstrip('/'):<16} {short(cid)}  {entry['Status']:<28} "
                f"{_rw_name(rw)}  RW {human_size(entry['SizeRw'])}"
            )
        head = f"clock {format_time(int(round(now * 1e9)))}  driver {self.daemon.driver.name}"
        return "\n".join([head, *rows]) if rows else head + "\n(no containers)"

    def _status_html(self) -> str:
        return _pre(self.status_text())

    def _event_log(self, last: int = 40) -> str:
        """The newest `last` events, newest first: the box shows the latest without
        scrolling (a Textarea keeps its scroll position at the top)."""
        events = self.daemon.events.list()[-last:]
        return "\n".join(
            f"{format_time(e['timeNano'])} {format_event(e)}" for e in reversed(events)
        )

    def _draw_map(self, trace: Trace | None) -> None:
        cid = self.selected
        if cid is None:
            self._set_map(b"", 0, 0)
            if self.map_as_text:
                self.controls["key"].value = MAP_KEY_TEXT
            self._png_key = None
            return
        rw = self.daemon.rw_layer(cid)
        highlight: set[str] = set()
        if trace is not None:
            # only the RW layer is written after create (init and image layers are read-only)
            highlight |= trace.container_paths.get(rw.mount_id, set())
        m = file_layer_matrix(self.client, cid, max_rows=self.map_rows, highlight=highlight)
        self.matrix = m
        key = cid + "\n" + m.to_text() + "\n" + repr([(i.label, i.size) for i in m.layers])
        if key == self._png_key:
            return  # nothing the picture shows has changed
        if self.map_as_text:
            self.controls["key"].value = MAP_KEY_TEXT + _pre(m.to_text())
            self._png_key = key
            return
        fig = plot_file_layer_map(m, legend=False)
        w_in, h_in = fig.get_size_inches()
        png = to_png(fig, dpi=MAP_DPI * MAP_SCALE)
        self._set_map(png, round(w_in * MAP_DPI), round(h_in * MAP_DPI))
        self._png_key = key

    def _set_map(self, png: bytes, width: int, height: int) -> None:
        """Show `png` at `width` x `height` CSS pixels (drawn at MAP_SCALE times that, crisp
        on high-density screens); hide the widget while there is no picture."""
        img = self.controls["map"]
        img.value = png
        if png:
            img.width, img.height = str(width), str(height)
            img.layout.width, img.layout.height = f"{width}px", f"{height}px"
            img.layout.max_width = "100%"
            img.layout.object_fit = "contain"
            img.layout.display = None
        else:
            img.layout.display = "none"
