"""ImageExplorer (layers, per-layer A/M/D tree, analysis, a file's content) and
DriverCompare (one scenario on vfs, aufs and overlay2), as widgets."""

from __future__ import annotations

import errno
import os
import posixpath
from typing import Any

import ipywidgets as widgets

from dockerlayers.viz import _content
from dockerlayers.viz._figure import has_matplotlib, to_png
from dockerlayers.viz._model import daemon_of, image_label, image_layer_infos
from dockerlayers.viz.analysis import analyze_image, plot_image_analysis
from dockerlayers.viz.drivers import (
    check_inputs,
    compare_drivers,
    parse_files_per_layer,
    plot_driver_comparison,
)
from dockerlayers.viz.filemap import MODIFIED, OPAQUE, WHITEOUT, human_size, merge_layers
from dockerlayers.viz.lab import Panel, _pre

_LETTER = {"added": "A", MODIFIED: "M", WHITEOUT: "D", OPAQUE: "O"}


class ImageExplorer(Panel):
    """Pick an image and a layer: the layer's files (A/M/D), the analysis, a file's bytes."""

    def __init__(self, client: Any, image: Any = None, max_files: int = 200) -> None:
        self.client = client
        self.daemon = daemon_of(client)
        self.max_files = max_files
        c: dict[str, widgets.Widget] = {}
        opts = sorted(
            (image_label(self.daemon, s.id), s.id) for s in self.daemon.image_service.images()
        )
        c["image"] = widgets.Dropdown(description="image", options=opts)
        if image is not None:
            c["image"].value = self.daemon.image_service.get_image(getattr(image, "id", image)).id
        c["layer"] = widgets.Select(
            description="layer", options=[], layout=widgets.Layout(width="95%", height="120px")
        )
        c["files"] = widgets.HTML()
        c["analysis"] = widgets.HTML()
        # hidden until there is a picture (an empty Image shows a broken-image icon)
        c["figure"] = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        c["path"] = widgets.Text(description="path", placeholder="/etc/passwd")
        c["content"] = widgets.Textarea(
            description="content", layout=widgets.Layout(width="95%", height="120px")
        )
        c["error"] = widgets.HTML()
        self.controls = c
        show = widgets.Button(description="show file")
        show.on_click(self._guard(self.show_file))
        recover = widgets.Button(description="find every copy")
        recover.on_click(self._guard(self.find_copies))
        c["image"].observe(lambda _: self._guard(self.load)(), names="value")
        c["layer"].observe(lambda _: self._guard(self.show_layer)(), names="value")
        super().__init__(
            [
                c["image"],
                c["layer"],
                c["error"],
                widgets.HBox([c["files"], c["analysis"]]),
                c["figure"],
                widgets.HBox([c["path"], show, recover]),
                c["content"],
            ]
        )
        self.load()

    def load(self) -> None:
        c = self.controls
        ref = c["image"].value
        if ref is None:
            return
        self.infos = image_layer_infos(self.daemon, ref)
        self.entries = [_content.layer_entries(self.daemon, i) for i in self.infos]
        self.cells, self.visible, _ = merge_layers(self.entries)
        self.analysis = analyze_image(self.client, ref)
        c["analysis"].value = _pre(self.analysis.to_text())
        if has_matplotlib():  # without it (JupyterLite built offline) the text above only
            c["figure"].value = to_png(plot_image_analysis(self.analysis))
            c["figure"].layout.display = None
        c["layer"].options = [
            (
                f"L{i.index} {human_size(i.size):>7}  "
                + (i.created_by[:70] or "(no command recorded)"),
                i.index,
            )
            for i in self.infos
        ]
        c["layer"].value = len(self.infos) - 1 if self.infos else None
        self.show_layer()

    def layer_lines(self, index: int) -> list[str]:
        """`A /path (size)` lines of one layer: A added, M modified, D deleted, O opaque."""
        out = []
        for p, e in sorted(self.entries[index].items()):
            kind = self.cells[p][index].kind
            size = f" ({human_size(e.size)})" if e.kind == _content.FILE else ""
            out.append(f"{_LETTER.get(kind, '?')} {p}{'/' if e.kind == _content.DIR else ''}{size}")
        return out

    def show_layer(self) -> None:
        index = self.controls["layer"].value
        if index is None:
            self.controls["files"].value = ""
            return
        lines = self.layer_lines(index)
        more = f"\n… {len(lines) - self.max_files} more" if len(lines) > self.max_files else ""
        self.controls["files"].value = _pre("\n".join(lines[: self.max_files]) + more)

    def show_file(self) -> None:
        """The selected layer's copy of `path`, else the copy the image shows."""
        c = self.controls
        path = posixpath.normpath("/" + c["path"].value.strip().lstrip("/"))
        if path.startswith("//"):
            path = path[1:]
        index = c["layer"].value
        if path == "/":
            c["content"].value = self._dir_text(path, 0)
            self._show_error("")
            return
        holder = (
            index if index is not None and path in self.entries[index] else self.visible.get(path)
        )
        if holder is None:
            hidden = self._hidden_text(path)
            c["content"].value = hidden or ""
            self._show_error("" if hidden else f"{path}: not in this image (no layer holds it)")
            return
        entry = self.entries[holder][path]
        if entry.kind == _content.WHITEOUT:
            hidden = self._hidden_text(path) or ""
            c["content"].value = f"(L{holder} deletes {path}: a whiteout, no content)\n{hidden}"
            self._show_error("")
            return
        if entry.kind == _content.DIR:
            c["content"].value = self._dir_text(path, holder)
            self._show_error("")
            return
        if entry.kind != _content.FILE:
            c["content"].value = f"(copy in L{holder})\n{path}: a {entry.kind} entry, no content"
            self._show_error("")
            return
        layer_dir = self.daemon.driver.layer_dir(self.infos[holder].driver_id)
        host = os.path.join(layer_dir, path.lstrip("/"))
        try:
            # read only inside the layer: no symlink (of the image's) leads to a host file
            if not os.path.realpath(host).startswith(os.path.realpath(layer_dir) + os.sep):
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
            fd = os.open(host, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as f:
                data = f.read(4096)
        except OSError as e:  # never show a host path or a raw OSError
            c["content"].value = ""
            self._show_error(f"{path}: cannot read the copy in L{holder} ({e.strerror})")
            return
        c["content"].value = f"(copy in L{holder})\n" + data.decode("utf-8", "replace")
        self._show_error("")

    def _dir_text(self, path: str, holder: int) -> str:
        """A directory has no content to show: list what the image shows in it."""
        prefix = path.rstrip("/") + "/"
        names = sorted(
            p[len(prefix) :] + ("/" if self.entries[h][p].kind == _content.DIR else "")
            for p, h in self.visible.items()
            if p.startswith(prefix) and "/" not in p[len(prefix) :]
        )
        head = f"{path} is a directory (in L{holder}); the image shows in it:"
        return "\n".join([head, *(names or ["(empty)"])])

    def _hidden_text(self, path: str) -> str | None:
        """Not in the merged view: where its copies are and what hides them."""
        from dockerlayers.layerhistory import find_copies

        copies = find_copies(self.daemon, self.controls["image"].value, path)
        if not copies:
            return None
        lines = [f"{path} is not in the image's merged view, but its layers keep it:"]
        for cp in copies:
            state = "visible" if cp.visible else f"hidden by {cp.hidden_by}"
            lines.append(f"  L{cp.index} {cp.kind} {human_size(cp.size)}: {state}")
        lines.append('("find copies" prints the bytes of a hidden file)')
        return "\n".join(lines)

    def find_copies(self) -> None:
        """Every layer holding `path` — hidden copies included — and the bytes of the lowest
        file copy, read from that layer's tar: what a scanner (or an attacker) does to
        recover a file a later step "deleted".

        library: dockerlayers.layerhistory.find_copies / read_copy
        """
        from dockerlayers.layerhistory import find_copies, read_copy

        c = self.controls
        path = "/" + c["path"].value.strip().lstrip("/")
        ref = c["image"].value
        copies = find_copies(self.daemon, ref, path)
        if not copies:
            c["content"].value = ""
            self._show_error(f"{path}: no layer of this image holds it")
            return
        lines = []
        for cp in copies:
            state = "visible" if cp.visible else f"hidden by {cp.hidden_by}"
            lines.append(f"L{cp.index} {cp.kind} {human_size(cp.size)}: {state}")
        files = [cp for cp in copies if cp.kind == "file"]
        if files:
            data = read_copy(self.daemon, ref, path, files[0].index)
            lines.append(f"--- bytes of the copy in L{files[0].index} (from its layer tar) ---")
            lines.append(data[:4096].decode("utf-8", "replace"))
        c["content"].value = "\n".join(lines)
        self._show_error("")


class DriverCompare(Panel):
    """Run one scenario on each driver and show disk use and create cost side by side.

    The create cost is measured on the image given ("files/layer") as it grows, layer by
    layer; `growth` adds images of that many files in one layer."""

    def __init__(
        self,
        files_per_layer: tuple[int, ...] = (40, 40, 40),
        containers: int = 2,
        growth: tuple[int, ...] | None = None,
    ) -> None:
        c: dict[str, widgets.Widget] = {}
        c["files"] = widgets.Text(
            description="files/layer", value=",".join(map(str, files_per_layer))
        )
        c["containers"] = widgets.BoundedIntText(
            description="containers", value=containers, min=1, max=20
        )
        c["busy"] = widgets.HTML()
        c["result"] = widgets.HTML()
        c["figure"] = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        c["error"] = widgets.HTML()
        self.controls = c
        self.growth = growth
        self.comparison = None
        self.run_button = widgets.Button(description="compare")
        self.run_button.on_click(self._guard(self.run))
        super().__init__(
            [
                widgets.HBox([c["files"], c["containers"], self.run_button, c["busy"]]),
                c["error"],
                c["result"],
                c["figure"],
            ]
        )

    def _clear(self) -> None:
        c = self.controls
        self.comparison = None
        c["result"].value = ""
        c["figure"].value = b""
        c["figure"].layout.display = "none"

    def run(self) -> None:
        c = self.controls
        try:
            files = parse_files_per_layer(c["files"].value)
            check_inputs(files, int(c["containers"].value))
        except ValueError as e:
            self._clear()
            self._show_error(str(e))
            return
        self._show_error("")
        self._clear()
        button = self.run_button
        button.disabled = True
        button.description = "running…"
        c["busy"].value = (
            f"<i>building the image and {int(c['containers'].value)} containers on "
            "vfs, aufs and overlay2…</i>"
        )
        try:
            self.comparison = compare_drivers(files, int(c["containers"].value), self.growth)
            c["result"].value = _pre(self.comparison.to_text())
            if has_matplotlib():  # without it (JupyterLite built offline) the text only
                c["figure"].value = to_png(plot_driver_comparison(self.comparison))
                c["figure"].layout.display = None
        finally:
            button.disabled = False
            button.description = "compare"
            c["busy"].value = ""
