"""The model's root laid out like /var/lib/docker, with what an action created, changed or
removed marked (`+`, `~`, `-`) and each ID-named folder said in words (whose layer it is).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from dockerlayers.viz._model import (
    container_name,
    daemon_of,
    image_label,
    image_ro_layers,
    short,
    shorten_path,
)
from dockerlayers.viz.filemap import human_size
from dockerlayers.viz.snapshot import (
    CHANGED,
    CREATED,
    REMOVED,
    Snapshot,
    diff_snapshots,
    is_internal,
    take_snapshot,
    whiteout_note,
)


@dataclass(frozen=True)
class TreeLine:
    depth: int
    path: str
    name: str
    is_dir: bool
    mark: str = ""
    note: str = ""


@dataclass
class DiskTree:
    """The lines of the tree, in display order (the model behind `plot_disk_tree`)."""

    driver: str
    lines: list[TreeLine]

    def marked(self, mark: str | None = None) -> list[str]:
        return [ln.path for ln in self.lines if ln.mark and (mark is None or ln.mark == mark)]

    def line(self, path: str) -> TreeLine:
        for ln in self.lines:
            if ln.path == path:
                return ln
        raise KeyError(path)

    def to_text(self) -> str:
        out = []
        for ln in self.lines:
            mark = ln.mark or " "
            note = f"  # {ln.note}" if ln.note else ""
            out.append(f"{mark} {'  ' * ln.depth}{ln.name}{'/' if ln.is_dir else ''}{note}")
        return "\n".join(out)

    def to_html(self) -> str:
        colors = {CREATED: "#1a7f37", CHANGED: "#b35900", REMOVED: "#cf222e"}
        rows = []
        for ln in self.lines:
            text = html.escape(
                f"{ln.mark or ' '} {'  ' * ln.depth}{ln.name}{'/' if ln.is_dir else ''}"
            )
            if ln.mark:
                deco = "line-through" if ln.mark == REMOVED else "none"
                text = f'<b style="color:{colors[ln.mark]};text-decoration:{deco}">{text}</b>'
            if ln.note:
                text += f'<span style="color:#6e7781">  # {html.escape(ln.note)}</span>'
            rows.append(text)
        return '<pre style="font-size:11px;line-height:1.25;margin:0">' + "\n".join(rows) + "</pre>"


def _notes(daemon: Any) -> dict[str, str]:
    """Words for ID-named entries: driver id / container id / chain id / image id -> note."""
    notes: dict[str, str] = {}
    names = {cid: container_name(c) for cid, c in daemon.containers.items()}
    for cid, name in names.items():
        notes[cid] = f"container {name}"
    for cid, m in daemon.layer_store.mounts.items():
        who = names.get(cid, short(cid))
        notes[m.mount_id] = f"RW layer of {who} (mount-id)"
        if m.init_id:
            notes[m.init_id] = f"init layer of {who}"
    if getattr(daemon, "storage", "graphdriver") == "containerd":
        _containerd_notes(daemon, names, notes)
    for summary in daemon.image_service.images(all=True):
        label = image_label(daemon, summary.id)
        if getattr(daemon, "storage", "graphdriver") == "containerd":
            continue  # the image is its record's target (above); its config a blob
        notes.setdefault(summary.id.split(":", 1)[-1], f"image {label}")
        try:
            layers = image_ro_layers(daemon, summary.id)
        except Exception:
            continue
        for i, layer in enumerate(layers):
            note = f"layer L{i} of {label}"
            notes.setdefault(layer.cache_id, note + " (cache-id)")
            notes.setdefault(layer.chain_id.split(":", 1)[-1], note + " (chain-id)")
    return notes


def _containerd_notes(daemon: Any, names: dict[str, str], notes: dict[str, str]) -> None:
    """The containerd store's entries: each `snapshots/<N>` (by its path: whose layer, init
    or RW snapshot it is) and each blob (a manifest, a config, a layer of which image)."""
    import os

    store = daemon.layer_store
    svc, sn = store.images, store.images.sn
    home = os.path.relpath(sn.backend.root, daemon.root)
    labels: dict[str, str] = {}
    for rec in svc.list():
        cfg = ""
        try:
            manifest = svc.manifest(rec)
            cfg = manifest["config"]["digest"]
        except Exception:
            manifest = {"layers": []}
        label = image_label(daemon, cfg) if cfg else short(rec.digest)
        notes.setdefault(rec.digest[7:], f"image {label} (its manifest: the image ID)")
        if cfg:
            notes.setdefault(cfg[7:], f"config of {label}")
        try:
            chains = svc.chain_ids(rec)
        except Exception:
            chains = []
        for i, lyr in enumerate(manifest.get("layers", [])):
            notes.setdefault(lyr["digest"][7:], f"layer L{i} of {label} (compressed blob)")
            if i < len(chains):
                labels.setdefault(chains[i], f"layer L{i} of {label}")
    for info in sn.walk("moby"):
        key = info.name
        try:
            n = sn.snapshot_id("moby", key)
        except Exception:
            continue
        if key.endswith("-init"):
            note = f"init snapshot of {names.get(key[:-5], short(key[:-5]))}"
        elif key in labels:
            note = f"{labels[key]} (snapshot {key[:19]})"
        elif key.startswith("sha256:"):
            note = f"layer snapshot {key[:19]}"
        elif key.startswith("extract-"):
            note = "a layer being unpacked"
        else:
            note = f"RW snapshot of {names.get(key, short(key))}"
        notes[f"{home}/snapshots/{n}"] = note


def disk_tree(
    client: Any,
    since: Snapshot | None = None,
    *,
    now: Snapshot | None = None,
    prefix: str = "",
    max_children: int = 8,
    show_internal: bool = False,
) -> DiskTree:
    """The root as a tree; entries created/changed/removed since snapshot `since` marked.

    Image-layer folders are one line each (their entry count and bytes); a folder lists at
    most `max_children` unmarked children (marked ones always show). `prefix`: a subtree.
    """
    daemon = daemon_of(client)
    now = now or take_snapshot(daemon)
    marks: dict[str, str] = {}
    entries = dict(now.entries)
    if since is not None:
        for ch in diff_snapshots(since, now):
            marks[ch.path] = ch.mark
            if ch.mark == REMOVED:
                entries[ch.path] = ch.state
    if not show_internal:
        entries = {p: e for p, e in entries.items() if not is_internal(p)}
    if prefix:
        prefix = prefix.strip("/")
        entries = {p: e for p, e in entries.items() if p == prefix or p.startswith(prefix + "/")}
    children: dict[str, list[str]] = {}
    for p in entries:
        parent = p.rsplit("/", 1)[0] if "/" in p else ""
        children.setdefault(parent, []).append(p)
    # a folder holding a mark shows the way to it
    marked_below: set[str] = set()
    for p in marks:
        while "/" in p:
            p = p.rsplit("/", 1)[0]
            marked_below.add(p)
    notes = _notes(daemon)
    lines: list[TreeLine] = []

    def note_for(path: str, name: str, state: Any) -> str:
        bits = []
        key = name.removesuffix("-init") if name.endswith("-init") and name not in notes else name
        if path.rstrip("/") in notes:
            bits.append(notes[path.rstrip("/")])
        elif name in notes:
            bits.append(notes[name])
        elif key in notes:
            bits.append(notes[key])
        if state.kind == "t":
            bits.append(f"{state.files} entries, {human_size(state.size)}")
        elif state.kind == "l" and state.text:
            bits.append("-> " + shorten_path(state.text))
        elif state.kind == "f" and state.text and len(state.text) <= 80:
            bits.append(shorten_path(state.text))
        wh = whiteout_note(path, state.kind)
        if wh is not None:
            bits.append(wh)
        return "; ".join(bits)

    def walk(parent: str, depth: int) -> None:
        kids = sorted(children.get(parent, []))
        shown = 0
        hidden = 0
        for p in kids:
            important = p in marks or p in marked_below
            if shown >= max_children and not important:
                hidden += 1
                continue
            shown += 1
            state = entries[p]
            name = p.rsplit("/", 1)[-1]
            is_dir = state.kind in ("d", "t")
            lines.append(
                TreeLine(
                    depth, p, shorten_path(name), is_dir, marks.get(p, ""), note_for(p, name, state)
                )
            )
            if state.kind == "d":
                walk(p, depth + 1)
        if hidden:
            lines.append(TreeLine(depth, parent + "/…", f"… {hidden} more", False))

    start = prefix.rsplit("/", 1)[0] if prefix and "/" in prefix else ""
    if prefix:
        state = entries.get(prefix)
        if state is not None:
            lines.append(
                TreeLine(
                    0,
                    prefix,
                    shorten_path(prefix),
                    state.kind in ("d", "t"),
                    marks.get(prefix, ""),
                    "",
                )
            )
            walk(prefix, 1)
    else:
        walk(start, 0)
    return DiskTree(now.driver, lines)


def plot_disk_tree(tree: DiskTree, max_lines: int = 120) -> Any:
    """The tree as a figure (marks coloured). Returns a matplotlib Figure."""
    from dockerlayers.viz._figure import new_figure

    lines = tree.lines[:max_lines]
    text_lines = tree.to_text().split("\n")[:max_lines]
    width = 0.3 + 0.07 * max((len(t) for t in text_lines), default=10)
    height = 0.4 + 0.17 * max(len(lines), 1)
    fig = new_figure(width, height)
    colors = {CREATED: "#1a7f37", CHANGED: "#b35900", REMOVED: "#cf222e", "": "black"}
    for mark, color in colors.items():
        block = "\n".join(t if ln.mark == mark else "" for t, ln in zip(text_lines, lines))
        if block.strip():
            fig.text(
                0.01,
                1 - 0.2 / height,
                block,
                va="top",
                ha="left",
                family="monospace",
                fontsize=8,
                color=color,
                linespacing=0.17 * fig.dpi / (8 / 72 * fig.dpi * 1.1667),
            )
    return fig
