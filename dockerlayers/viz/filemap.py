"""The file × layer map: which layer holds which path, and which copy the merged view shows.

Columns are a container's layers bottom to top (image layers, the init layer, the RW layer)
or an image's layers; rows are paths. Each cell says what that layer does to the path:

- ``added``: the layer brings the path and nothing below shows one;
- ``modified``: the layer brings a copy that shadows a lower copy (copy-up, overwrite);
- ``whiteout``: the layer deletes the path from the layers below;
- ``opaque``: the layer's folder hides everything below it (removed and made again).

The merged view shows exactly one copy of each visible path: the top one not hidden above.
Large trees collapse to folders (counts and bytes per layer) to a `depth` under a `prefix`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.viz import _content
from dockerlayers.viz._model import (
    LayerInfo,
    container_layer_infos,
    daemon_of,
    image_layer_infos,
)

ADDED, MODIFIED, WHITEOUT, OPAQUE = "added", "modified", "whiteout", "opaque"
KINDS = (ADDED, MODIFIED, WHITEOUT, OPAQUE)
_LETTER = {ADDED: "A", MODIFIED: "M", WHITEOUT: "W", OPAQUE: "O"}


@dataclass
class Cell:
    """What one layer does to one row. For a collapsed row: `counts` per kind over its paths,
    `size` their bytes, `visible` how many of them the merged view takes from this layer."""

    kind: str
    size: int = 0
    visible: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def shown(self) -> bool:
        """True if the merged view shows (some of) this layer's copies."""
        return self.visible > 0


@dataclass
class FileRow:
    """One path (or, collapsed, a folder standing for `paths` paths under it)."""

    path: str
    is_dir: bool
    cells: dict[int, Cell]
    visible_layer: int | None
    paths: int = 1
    size: int = 0
    changed: int = 0
    collapsed: bool = False

    def kind_in(self, layer: int) -> str | None:
        cell = self.cells.get(layer)
        return cell.kind if cell else None


@dataclass
class FileLayerMatrix:
    """The model behind `plot_file_layer_map`."""

    layers: list[LayerInfo]
    rows: list[FileRow]
    prefix: str = "/"
    depth: int | None = None
    total_paths: int = 0
    hidden_rows: int = 0
    highlight: frozenset[str] = frozenset()

    def row(self, path: str) -> FileRow:
        for r in self.rows:
            if r.path == path:
                return r
        raise KeyError(path)

    def layer_index(self, label: str) -> int:
        for info in self.layers:
            if info.label == label:
                return info.index
        raise KeyError(label)

    def to_text(self) -> str:
        """A fixed-width table: A/M/W/O per layer, `*` on the copy the merged view shows,
        `!` before rows the last action changed."""
        width = max([len(_row_label(r)) for r in self.rows] + [4])
        head = "  " + "PATH".ljust(width) + " " + " ".join(i.label.center(5) for i in self.layers)
        lines = [head]
        for r in self.rows:
            cells = []
            for info in self.layers:
                c = r.cells.get(info.index)
                if c is None:
                    cells.append(".".center(5))
                elif r.collapsed:
                    mix = "".join(f"{_LETTER[k]}{c.counts[k]}" for k in KINDS if c.counts.get(k))
                    cells.append((mix + ("*" if c.visible else "")).center(5))
                else:
                    cells.append((_LETTER[c.kind] + ("*" if c.visible else "")).center(5))
            mark = "! " if r.changed else "  "
            lines.append(mark + _row_label(r).ljust(width) + " " + " ".join(cells))
        if self.hidden_rows:
            lines.append(f"  … {self.hidden_rows} more rows (use prefix= or depth=)")
        return "\n".join(lines)


def _row_label(r: FileRow) -> str:
    if r.collapsed:
        return f"{r.path}/ ({r.paths} paths, {human_size(r.size)})"
    return r.path + ("/" if r.is_dir and r.path != "/" else "")


def human_size(n: float) -> str:
    """Docker's units.HumanSize (decimal): 1.2kB, 3.4MB."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            if unit == "B":
                return f"{int(n)}B"
            return f"{n:.3g}{unit}"
        n /= 1000.0
    return f"{n}"


# -- the per-path model -------------------------------------------------------------------


def merge_layers(
    entries: list[_content.LayerEntries],
) -> tuple[dict[str, dict[int, Cell]], dict[str, int], dict[str, bool]]:
    """Stack layer entries bottom to top like overlayfs: per-path cells, the visible layer of
    each visible path, and whether each path is a folder."""
    cells: dict[str, dict[int, Cell]] = {}
    is_dir: dict[str, bool] = {}
    visible: dict[str, int] = {}
    kids: dict[str, set[str]] = {}

    def hide_below(p: str) -> None:
        for child in kids.pop(p, ()):
            visible.pop(child, None)
            hide_below(child)

    for i, layer in enumerate(entries):
        items = sorted(layer.items())
        for p, e in items:
            if e.kind == _content.WHITEOUT:
                cells.setdefault(p, {})[i] = Cell(WHITEOUT)
                is_dir.setdefault(p, False)
                if p in visible:
                    del visible[p]
                    kids.get(posixpath.dirname(p), set()).discard(p)
                hide_below(p)
        for p, e in items:
            if e.kind == _content.WHITEOUT:
                continue
            if e.opaque:
                hide_below(p)
                kind = OPAQUE
            else:
                kind = MODIFIED if p in visible else ADDED
            if p in visible and is_dir.get(p) and e.kind != _content.DIR:
                hide_below(p)  # a file replaces a folder
            cells.setdefault(p, {})[i] = Cell(kind, e.size if e.kind != _content.DIR else 0)
            is_dir[p] = e.kind == _content.DIR
            visible[p] = i
            kids.setdefault(posixpath.dirname(p), set()).add(p)
    for p, i in visible.items():
        cells[p][i].visible = 1
    return cells, visible, is_dir


def _under(path: str, prefix: str) -> bool:
    return prefix == "/" or path == prefix or path.startswith(prefix + "/")


def _key(path: str, prefix: str, depth: int) -> str:
    rest = path[len(prefix) :].lstrip("/") if prefix != "/" else path.lstrip("/")
    parts = rest.split("/")
    if len(parts) <= depth:
        return path
    base = prefix.rstrip("/")
    return base + "/" + "/".join(parts[:depth])


def build_matrix(
    layers: list[LayerInfo],
    entries: list[_content.LayerEntries],
    *,
    prefix: str = "/",
    depth: int | None = None,
    max_rows: int | None = 60,
    highlight: set[str] | frozenset[str] | None = None,
) -> FileLayerMatrix:
    """The matrix from each layer's entries (bottom first). `depth`: folder levels under
    `prefix` kept as rows (deeper paths collapse into them); None: every path, unless
    there are more than `max_rows`, then the deepest depth that fits."""
    prefix = posixpath.normpath("/" + prefix.lstrip("/"))
    cells, visible, is_dir = merge_layers(entries)
    hl = frozenset(highlight or ())
    paths = sorted(
        p for p in cells if _under(p, prefix) and p != prefix or (p == prefix and prefix != "/")
    )
    if depth is None and max_rows is not None and len(paths) > max_rows:
        # rows at depth d ~ paths no deeper than d (their folders are paths too)
        base_n = 0 if prefix == "/" else prefix.count("/")
        by_depth: dict[int, int] = {}
        for p in paths:
            k = p.count("/") - base_n
            by_depth[k] = by_depth.get(k, 0) + 1
        depth, n = 1, 0
        for d in range(1, max(by_depth) + 1):
            n += by_depth.get(d, 0)
            if d > 1 and n > max_rows:
                break
            depth = d
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(_key(p, prefix, depth) if depth else p, []).append(p)
    rows: list[FileRow] = []
    for key in sorted(groups):
        members = groups[key]
        if members == [key]:
            p = key
            size = sum(c.size for c in cells[p].values() if c.visible)
            rows.append(
                FileRow(
                    path=p,
                    is_dir=is_dir.get(p, False),
                    cells={
                        i: Cell(c.kind, c.size, c.visible, {c.kind: 1}) for i, c in cells[p].items()
                    },
                    visible_layer=visible.get(p),
                    size=size,
                    changed=int(p in hl),
                )
            )
            continue
        agg: dict[int, Cell] = {}
        size = 0
        for p in members:
            for i, c in cells[p].items():
                a = agg.setdefault(i, Cell(c.kind))
                a.counts[c.kind] = a.counts.get(c.kind, 0) + 1
                a.size += c.size
                a.visible += c.visible
                if c.visible:
                    size += c.size
        own = cells.get(key, {})
        for i, a in agg.items():
            # a folded folder is coloured as what happened to the folder itself: deleted
            # (whiteout) or replaced (opaque) only if the folder's own entry says so; files
            # deleted or changed inside it make it "modified", never a whiteout
            mine = own.get(i)
            if mine is not None and mine.kind in (WHITEOUT, OPAQUE):
                a.kind = mine.kind
            elif set(a.counts) == {ADDED}:
                a.kind = ADDED
            else:
                a.kind = MODIFIED
        rows.append(
            FileRow(
                path=key,
                is_dir=True,
                cells=agg,
                visible_layer=visible.get(key),
                paths=len(members),
                size=size,
                changed=sum(1 for p in members if p in hl),
                collapsed=True,
            )
        )
    hidden = 0
    if max_rows is not None and len(rows) > max_rows:
        hidden = len(rows) - max_rows
        rows = rows[:max_rows]
    return FileLayerMatrix(
        layers=layers,
        rows=rows,
        prefix=prefix,
        depth=depth,
        total_paths=len(paths),
        hidden_rows=hidden,
        highlight=hl,
    )


def file_layer_matrix(
    client: Any,
    container: str | None = None,
    *,
    image: str | None = None,
    prefix: str = "/",
    depth: int | None = None,
    max_rows: int | None = 60,
    highlight: set[str] | frozenset[str] | None = None,
) -> FileLayerMatrix:
    """The file × layer model of a container (image layers + init + RW) or of an image.

    `highlight`: in-container paths to mark (what the last action changed).
    """
    daemon = daemon_of(client)
    if container is not None:
        layers = container_layer_infos(daemon, container)
    elif image is not None:
        layers = image_layer_infos(daemon, image)
    else:
        raise ValueError("give a container or an image")
    entries = [
        _content.layer_entries(daemon, info, layers[k - 1] if k else None)
        for k, info in enumerate(layers)
    ]
    return build_matrix(
        layers, entries, prefix=prefix, depth=depth, max_rows=max_rows, highlight=highlight
    )


# -- the picture ----------------------------------------------------------------------------

COLORS = {
    None: "#ffffff",
    ADDED: "#7fc97f",
    MODIFIED: "#fdc086",
    WHITEOUT: "#e7298a",
    OPAQUE: "#9e7fd1",
}


def plot_file_layer_map(
    source: Any, container: str | None = None, *, legend: bool = True, **kwargs: Any
) -> Any:
    """Draw the file × layer map; `source` is a FileLayerMatrix, or a client (then the other
    arguments go to `file_layer_matrix`). `legend=False` leaves the key out (a panel shows
    it as text). Returns a matplotlib Figure."""
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from dockerlayers.viz._figure import new_figure, row_labels

    m = (
        source
        if isinstance(source, FileLayerMatrix)
        else file_layer_matrix(source, container, **kwargs)
    )
    order = [None, ADDED, MODIFIED, WHITEOUT, OPAQUE]
    n_rows, n_cols = max(len(m.rows), 1), max(len(m.layers), 1)
    grid = [[0] * n_cols for _ in range(n_rows)]
    vx, vy, cx, cy = [], [], [], []
    # only the RW layer changes after create: image layers and init are read-only
    writable = {i.index for i in m.layers if i.kind == "rw"}
    for y, r in enumerate(m.rows):
        for x, c in r.cells.items():
            grid[y][x] = order.index(c.kind)
            if c.visible:
                vx.append(x)
                vy.append(y)
            if r.changed and x in writable:
                cx.append(x)
                cy.append(y)
    labels = [_row_label(r) for r in m.rows] if n_rows <= 300 else []
    label_w = 0.3 + 0.075 * max((len(t) for t in labels), default=4)  # inches, 8pt monospace
    cols_w, legend_w = 0.95 * n_cols, 2.0 if legend else 0.1
    row_h = min(0.2, 36.0 / n_rows)  # very tall maps shrink (labels go past 300 rows)
    top_h, bottom_h = 1.1, 0.2
    width = label_w + cols_w + legend_w
    height = top_h + bottom_h + row_h * n_rows
    fig = new_figure(width, height)
    ax = fig.add_axes((label_w / width, bottom_h / height, cols_w / width, row_h * n_rows / height))
    ax.imshow(
        grid,
        cmap=ListedColormap([COLORS[k] for k in order]),
        vmin=0,
        vmax=len(order) - 1,
        aspect="auto",
        interpolation="nearest",
    )
    for x in range(1, n_cols):
        ax.axvline(x - 0.5, color="#bbbbbb", linewidth=0.6)
    scale = (row_h / 0.2) ** 2
    if n_rows <= 200:
        ax.hlines(
            [y - 0.5 for y in range(1, n_rows)], -0.5, n_cols - 0.5, color="#e5e5e5", linewidth=0.5
        )
    if cx:
        ax.scatter(
            cx,
            cy,
            marker="s",
            s=150 * scale,
            facecolors="none",
            edgecolors="#d62728",
            linewidths=1.6,
            zorder=4,
        )
    if vx:
        ax.scatter(vx, vy, marker="o", s=16 * scale, color="black", zorder=3)
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if n_rows <= 300:
        row_labels(ax, labels, [bool(r.changed) for r in m.rows], row_h)
    xtrans = ax.get_xaxis_transform()
    for info in m.layers:
        ax.text(
            info.index,
            1.005,
            _col_label(info),
            transform=xtrans,
            ha="center",
            va="bottom",
            fontsize=8,
        )
    if legend:
        handles = [Patch(color=COLORS[k], label=k) for k in KINDS]
        handles.append(
            Line2D([], [], marker="o", color="black", linestyle="", label="merged view shows")
        )
        handles.append(Patch(facecolor="none", edgecolor="#d62728", label="last action wrote (RW)"))
        fig.legend(
            handles=handles,
            loc="upper left",
            fontsize=8,
            frameon=False,
            bbox_to_anchor=((label_w + cols_w + 0.1) / width, 1 - top_h / height),
        )
    title = f"{m.total_paths} paths under {m.prefix}"
    if m.depth:
        title += f", folded to depth {m.depth}"
    if m.hidden_rows:
        title += f" (+{m.hidden_rows} rows not shown)"
    fig.text(0.01, 1 - 0.1 / height, title, fontsize=9, va="top")
    return fig


def _col_label(info: LayerInfo) -> str:
    if info.kind == "image":
        cmd = info.created_by.replace("/bin/sh -c ", "").replace("#(nop) ", "")
        cmd = cmd if len(cmd) <= 14 else cmd[:13] + "…"
        return f"{info.label}\n{human_size(info.size)}\n{cmd}"
    if info.kind == "rw":
        return f"RW\n{human_size(info.size)}"
    return "init"
