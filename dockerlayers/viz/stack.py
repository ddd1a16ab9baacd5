"""The layer stack: read-only image layers shared by containers, each container with its
own init and RW layer, with sizes and the driver's real folder names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockerlayers.viz._model import (
    container_name,
    daemon_of,
    image_label,
    image_ro_layers,
    layer_commands,
    layer_folder,
    short,
    shorten_path,
)
from dockerlayers.viz.filemap import human_size


@dataclass
class StackLayer:
    """One driver layer: kind "image", "init" or "rw"."""

    kind: str
    driver_id: str
    folder: str
    size: int
    chain_id: str = ""
    depth: int = 0
    created_by: str = ""
    used_by: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


@dataclass
class ContainerStack:
    name: str
    id: str
    status: str
    image: str
    chain: list[str]
    init: StackLayer | None
    rw: StackLayer


@dataclass
class LayerStack:
    """The model behind `plot_layer_stack`: `layers` by chain ID, columns in draw order."""

    driver: str
    layers: dict[str, StackLayer]
    containers: list[ContainerStack]
    image_columns: list[tuple[str, list[str]]]

    def shared_layers(self) -> list[StackLayer]:
        return [layer for layer in self.layers.values() if len(layer.used_by) > 1]

    def to_text(self) -> str:
        out = [f"driver {self.driver}"]
        for c in self.containers:
            out.append(f"{c.name} ({c.status}) on {c.image}:")
            out.append(f"  RW    {shorten_path(c.rw.folder)}  {human_size(c.rw.size)}")
            if c.init:
                out.append(f"  init  {shorten_path(c.init.folder)}")
            for chain in reversed(c.chain):
                layer = self.layers[chain]
                shared = f"  shared by {len(layer.used_by)}" if len(layer.used_by) > 1 else ""
                out.append(
                    f"  L{layer.depth}    {shorten_path(layer.folder)}  "
                    f"{human_size(layer.size)}{shared}"
                )
        return "\n".join(out)


def layer_stack(client: Any, images: list[str] | None = None) -> LayerStack:
    """Every container's stack (and the images named in `images` with no container)."""
    daemon = daemon_of(client)
    layers: dict[str, StackLayer] = {}

    def chain_of(ref: str) -> list[str]:
        label = image_label(daemon, daemon.image_service.get_image(ref).id)
        cmds = layer_commands(daemon, ref)
        chain = []
        for i, ro in enumerate(image_ro_layers(daemon, ref)):
            sl = layers.get(ro.chain_id)
            if sl is None:
                sl = layers[ro.chain_id] = StackLayer(
                    "image",
                    ro.cache_id,
                    layer_folder(daemon, ro.cache_id),
                    ro.diff_size(),
                    ro.chain_id,
                    i,
                    cmds[i] if i < len(cmds) else "",
                )
            if label not in sl.images:
                sl.images.append(label)
            chain.append(ro.chain_id)
        return chain

    containers = []
    for cid, c in sorted(daemon.containers.items(), key=lambda kv: (kv[1].created, kv[0])):
        rw = daemon.rw_layer(cid)
        name = container_name(c)
        chain = chain_of(c.image)
        for ch in chain:
            layers[ch].used_by.append(name)
        init = None
        if rw.init_id:
            init = StackLayer(
                "init", rw.init_id, layer_folder(daemon, rw.init_id), 0, used_by=[name]
            )
        containers.append(
            ContainerStack(
                name,
                cid,
                c.state.state_string(),
                image_label(daemon, c.image),
                chain,
                init,
                StackLayer(
                    "rw", rw.mount_id, layer_folder(daemon, rw.mount_id), rw.size(), used_by=[name]
                ),
            )
        )
    image_columns = []
    for ref in images or []:
        img = daemon.image_service.get_image(ref)
        image_columns.append((image_label(daemon, img.id), chain_of(ref)))
    containers.sort(key=lambda c: (c.chain, c.name))
    return LayerStack(daemon.driver.name, layers, containers, image_columns)


def plot_layer_stack(source: Any) -> Any:
    """Draw the stack (`source`: a LayerStack or a client). Returns a matplotlib Figure."""
    from matplotlib.patches import Rectangle

    from dockerlayers.viz._figure import new_figure

    st = source if isinstance(source, LayerStack) else layer_stack(source)
    columns: list[tuple[str, list[str], ContainerStack | None]] = [
        (c.name, c.chain, c) for c in st.containers
    ] + [(label, chain, None) for label, chain in st.image_columns]
    n = max(len(columns), 1)
    depth = max([len(ch) for _, ch, _ in columns] + [1]) + 2
    col_w = 3.2
    title_h = 0.55  # inches kept free above the drawing for the title
    width, height = max(1.0 + col_w * n, 5.5), 1.4 + 0.8 * depth + title_h
    fig = new_figure(width, height)
    ax = fig.add_axes((0.01, 0.02, 0.98, 1 - 0.02 - title_h / height))
    ax.set_xlim(0, n)
    ax.set_ylim(0, depth + 0.9)
    ax.axis("off")
    colors = {"image": "#c6dbef", "init": "#e5e5e5", "rw": "#fdd0a2"}
    drawn: set[str] = set()
    for _, chain, _ in columns:
        for y, ch in enumerate(chain):
            if ch in drawn:
                continue
            drawn.add(ch)
            xs = [i for i, (_, c2, _) in enumerate(columns) if ch in c2]
            x0, x1 = min(xs), max(xs) + 1
            layer = st.layers[ch]
            ax.add_patch(
                Rectangle(
                    (x0 + 0.04, y + 0.06),
                    x1 - x0 - 0.08,
                    0.88,
                    facecolor=colors["image"],
                    edgecolor="#3182bd",
                )
            )
            shared = f"  shared by {len(layer.used_by)}" if len(layer.used_by) > 1 else ""
            cmd = layer.created_by.replace("/bin/sh -c ", "")
            if len(cmd) > 40:  # cut like `docker history` does: the box is narrow
                cmd = cmd[:39] + "…"
            ax.text(
                (x0 + x1) / 2,
                y + 0.5,
                f"L{y} {short(ch, 12)} {human_size(layer.size)}{shared}\n"
                f"{shorten_path(layer.folder)}\n{cmd}",
                ha="center",
                va="center",
                fontsize=8,
            )
    for x, (label, chain, c) in enumerate(columns):
        top = len(chain)
        if c is not None:
            for k, layer in enumerate([c.init, c.rw]):
                if layer is None:
                    continue
                y = top + k
                ax.add_patch(
                    Rectangle(
                        (x + 0.04, y + 0.06),
                        0.92,
                        0.88,
                        facecolor=colors[layer.kind],
                        edgecolor="#636363",
                    )
                )
                title = (
                    "init layer" if layer.kind == "init" else f"RW layer {human_size(layer.size)}"
                )
                ax.text(
                    x + 0.5,
                    y + 0.5,
                    f"{title}\n{shorten_path(layer.folder)}",
                    ha="center",
                    va="center",
                    fontsize=8,
                )
            ax.text(
                x + 0.5,
                top + 2.25,
                f"{label}\n{c.status}",
                ha="center",
                va="center",
                fontsize=9,
                fontweight="bold",
            )
        else:
            ax.text(
                x + 0.5,
                top + 0.3,
                f"image {label}",
                ha="center",
                va="center",
                fontsize=9,
                fontweight="bold",
            )
    fig.text(
        0.01,
        1 - 0.12 / height,
        f"layer stack ({st.driver}); bottom = base layer",
        va="top",
        fontsize=10,
        fontweight="bold",
    )
    return fig
