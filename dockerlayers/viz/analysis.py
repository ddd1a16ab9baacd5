"""Image analysis (dive's job): per-layer size and A/M/D counts, wasted bytes with the
reason, an efficiency score, the largest files, each layer's command, the base's layers.

Efficiency is the share of stored bytes the final image can still reach:
``efficiency = (total - wasted) / total`` where `total` is the sum of the sizes of every
file copy in every layer and `wasted` the sum over copies the merged view does not show
(overwritten or deleted by a later layer); each such copy counts once, however many later
layers hide it. An image with no files scores 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockerlayers.viz import _content
from dockerlayers.viz._model import daemon_of, image_label, image_layer_infos, image_ro_layers
from dockerlayers.viz.filemap import ADDED, MODIFIED, OPAQUE, WHITEOUT, human_size, merge_layers


@dataclass
class LayerStats:
    index: int
    created_by: str
    size: int
    added: int
    modified: int
    removed: int
    from_base: bool
    largest: list[tuple[str, int]] = field(default_factory=list)
    wasted: int = 0


@dataclass(frozen=True)
class Waste:
    """A copy in layer `layer` the final image cannot reach, and why."""

    path: str
    size: int
    layer: int
    reason: str


@dataclass
class ImageAnalysis:
    image: str
    layers: list[LayerStats]
    wasted: list[Waste]
    total_bytes: int
    wasted_bytes: int
    efficiency: float
    base: str | None

    def to_text(self) -> str:
        out = [
            f"image {self.image}: {len(self.layers)} layers, "
            f"{human_size(self.total_bytes)} stored, "
            f"{human_size(self.wasted_bytes)} wasted, efficiency {self.efficiency:.1%}"
            + (f", base {self.base}" if self.base else "")
        ]
        for s in self.layers:
            base = " (base)" if s.from_base else ""
            out.append(
                f"L{s.index}{base} {human_size(s.size):>7}  "
                f"A{s.added} M{s.modified} D{s.removed}  {s.created_by[:60]}"
            )
        for w in self.wasted[:10]:
            out.append(f"  wasted {human_size(w.size):>7} {w.path} in L{w.layer}: {w.reason}")
        if len(self.wasted) > 10:
            out.append(f"  … {len(self.wasted) - 10} more wasted copies")
        return "\n".join(out)


def _base_image(daemon: Any, image_id: str, chain: list[str]) -> tuple[str | None, int]:
    """The other listed image (as `docker images` lists them) whose layers are the longest
    proper prefix of `chain`."""
    best, best_n = None, 0
    for s in daemon.image_service.images():
        if s.id == image_id:
            continue
        try:
            other = [layer.chain_id for layer in image_ro_layers(daemon, s.id)]
        except Exception:
            continue
        n = len(other)
        if best_n < n < len(chain) and chain[:n] == other:
            best, best_n = image_label(daemon, s.id), n
    return best, best_n


def analyze_image(client: Any, ref: str, largest: int = 5) -> ImageAnalysis:
    """Analyse image `ref` (see the module doc for the efficiency score)."""
    daemon = daemon_of(client)
    img = daemon.image_service.get_image(ref)
    infos = image_layer_infos(daemon, img.id)
    entries = [_content.layer_entries(daemon, info) for info in infos]
    cells, visible, is_dir = merge_layers(entries)
    base, base_n = _base_image(daemon, img.id, [i.chain_id for i in infos])
    stats = []
    for info, layer in zip(infos, entries):
        files = [
            (p, e.size) for p, e in layer.items() if e.kind not in (_content.DIR, _content.WHITEOUT)
        ]
        files.sort(key=lambda t: (-t[1], t[0]))
        a = m = d = 0
        for p, _ in files:
            kind = cells[p][info.index].kind
            a += kind == ADDED
            m += kind in (MODIFIED, OPAQUE)
        d = sum(1 for e in layer.values() if e.kind == _content.WHITEOUT)
        stats.append(
            LayerStats(
                info.index,
                info.created_by,
                info.size,
                a,
                m,
                d,
                info.index < base_n,
                files[:largest],
            )
        )
    wasted: list[Waste] = []
    total = 0
    for p, by_layer in cells.items():
        if is_dir.get(p):
            continue
        for i, c in sorted(by_layer.items()):
            if c.kind == WHITEOUT:
                continue
            total += c.size
            if c.visible or c.size == 0:
                continue
            wasted.append(Waste(p, c.size, i, _reason(p, i, cells)))
    wasted.sort(key=lambda w: (-w.size, w.path, w.layer))
    for w in wasted:
        stats[w.layer].wasted += w.size
    wasted_bytes = sum(w.size for w in wasted)
    eff = 1.0 if total == 0 else (total - wasted_bytes) / total
    return ImageAnalysis(image_label(daemon, img.id), stats, wasted, total, wasted_bytes, eff, base)


def _reason(path: str, layer: int, cells: dict[str, dict[int, Any]]) -> str:
    above = [(i, c) for i, c in cells[path].items() if i > layer]
    if above:
        i, c = min(above)
        return f"deleted in L{i}" if c.kind == WHITEOUT else f"overwritten in L{i}"
    parent = path.rsplit("/", 1)[0]
    while parent:
        for i, c in sorted(cells.get(parent, {}).items()):
            if i > layer and c.kind in (WHITEOUT, OPAQUE):
                what = "deleted" if c.kind == WHITEOUT else "made opaque"
                return f"its folder {parent} {what} in L{i}"
        parent = parent.rsplit("/", 1)[0]
    return "hidden by a later layer"


def plot_image_analysis(source: Any, ref: str | None = None) -> Any:
    """Per-layer bars: bytes kept and wasted, A/M/D counts and the command; the base
    image's layers hatched. Returns a matplotlib Figure."""
    from dockerlayers.viz._figure import new_figure

    an = source if isinstance(source, ImageAnalysis) else analyze_image(source, ref or "")
    n = max(len(an.layers), 1)
    height = 1.5 + 0.42 * n
    fig = new_figure(9.0, height)
    ax = fig.add_axes((0.36, 0.5 / height, 0.6, 1 - 0.9 / height))  # inches: 0.5 below, 0.4 above
    ys = list(range(len(an.layers)))
    kept = [s.size - s.wasted for s in an.layers]
    waste = [s.wasted for s in an.layers]
    ax.barh(ys, kept, color="#6baed6", hatch=None, label="reachable")
    ax.barh(ys, waste, left=kept, color="#fb6a4a", label="wasted")
    for y, s in zip(ys, an.layers):
        if s.from_base:
            ax.barh([y], [s.size], color="none", edgecolor="#636363", hatch="//", linewidth=0)
    ax.set_yticks(ys)
    ax.set_yticklabels(
        [
            f"L{s.index} A{s.added} M{s.modified} D{s.removed}  "
            + s.created_by.replace("/bin/sh -c ", "")[:28]
            for s in an.layers
        ],
        fontsize=7,
    )
    # every bar says its size: a 35-byte secret is invisible at a linear scale beside a
    # base layer of megabytes, and it is what the picture is about
    top = max([s.size for s in an.layers] + [1])
    for y, s in zip(ys, an.layers):
        note = human_size(s.size)
        if s.wasted:
            note += " (all wasted)" if s.wasted == s.size else f", {human_size(s.wasted)} wasted"
        tiny = s.size < top * 0.02
        ax.text(
            s.size + top * 0.01,
            y,
            ("◀ " if tiny else "") + note,
            va="center",
            fontsize=7,
            color="#cb181d" if s.wasted else "#252525",
            fontweight="bold" if s.wasted else "normal",
        )
    ax.set_xlim(0, top * 1.3)
    ax.invert_yaxis()
    ax.set_xlabel("bytes (hatched: from the base image)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7, loc="lower right")
    fig.text(
        0.01,
        0.98,
        f"{an.image}: efficiency {an.efficiency:.1%}, wasted {human_size(an.wasted_bytes)} "
        f"of {human_size(an.total_bytes)}",
        va="top",
        fontsize=9,
        fontweight="bold",
    )
    return fig
