"""Read-only accessors over the daemon that the pictures share (no model logic here).

Everything is built from the library's public pieces: the daemon's layer store, graph
driver, image service and containers, and the moby on-disk layout under the root.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

_HEX64 = re.compile(r"[0-9a-f]{64}")


def daemon_of(obj: Any) -> Any:
    """The Daemon behind a DockerClient (or the Daemon itself)."""
    return getattr(obj, "daemon", obj)


def short(id_: str | None, n: int = 12) -> str:
    """`sha256:abcd...` or a bare hex ID, cut to `n` characters."""
    if not id_:
        return ""
    return id_.split(":", 1)[-1][:n]


def shorten_path(rel: str) -> str:
    """A root-relative path with every 64-hex component cut to 12 characters + '…'."""
    return _HEX64.sub(lambda m: m.group(0)[:12] + "…", rel)


def rel(daemon: Any, path: str) -> str:
    """`path` relative to the daemon's root (never a temp path in text output)."""
    return os.path.relpath(path, daemon.root)


@dataclass(frozen=True)
class LayerInfo:
    """One layer of a container's or image's stack, bottom = index 0.

    kind: "image", "init" or "rw"; driver_id: the graph driver's folder name (cache-id,
    `<mount-id>-init` or mount-id); folder: where its own files are, relative to the root.
    """

    index: int
    kind: str
    label: str
    driver_id: str
    folder: str
    chain_id: str = ""
    diff_id: str = ""
    size: int = 0
    created_by: str = ""


def image_label(daemon: Any, image_id: str) -> str:
    """First tag of an image, else its short ID."""
    try:
        tags = daemon.image_service.repo_tags(image_id)
    except Exception:
        tags = []
    return tags[0] if tags else short(image_id)


def image_ro_layers(daemon: Any, ref: str) -> list[Any]:
    """The image's RoLayers, bottom first."""
    img = daemon.image_service.get_image(ref)
    chain = img.rootfs.chain_id() if img.rootfs is not None else None
    if not chain:
        return []
    layer = daemon.layer_store.map().get(chain)
    out = []
    while layer is not None:
        out.append(layer)
        layer = layer.parent
    return out[::-1]


def layer_commands(daemon: Any, ref: str) -> list[str]:
    """`created_by` of each non-empty history entry, bottom first (one per layer)."""
    img = daemon.image_service.get_image(ref)
    cmds = [h.created_by for h in img.history if not h.empty_layer]
    n = len(img.rootfs.diff_ids) if img.rootfs is not None else 0
    cmds = cmds[-n:] if n else []
    return [""] * (n - len(cmds)) + cmds


def layer_folder(daemon: Any, driver_id: str) -> str:
    """The folder with a driver layer's own files, relative to the root."""
    return rel(daemon, daemon.driver.layer_dir(driver_id))


def image_layer_infos(daemon: Any, ref: str) -> list[LayerInfo]:
    """LayerInfo for each image layer, bottom first."""
    layers = image_ro_layers(daemon, ref)
    cmds = layer_commands(daemon, ref)
    out = []
    for i, layer in enumerate(layers):
        out.append(
            LayerInfo(
                index=i,
                kind="image",
                label=f"L{i}",
                driver_id=layer.cache_id,
                folder=layer_folder(daemon, layer.cache_id),
                chain_id=layer.chain_id,
                diff_id=layer.diff_id,
                size=layer.diff_size(),
                created_by=cmds[i] if i < len(cmds) else "",
            )
        )
    return out


def container_layer_infos(daemon: Any, ref: str) -> list[LayerInfo]:
    """Image layers, then the init layer, then the RW layer of a container."""
    c = daemon.get_container(ref)
    out = image_layer_infos(daemon, c.image)
    rw = daemon.rw_layer(c.id)
    if rw.init_id:
        out.append(
            LayerInfo(len(out), "init", "init", rw.init_id, layer_folder(daemon, rw.init_id))
        )
    out.append(
        LayerInfo(
            len(out), "rw", "RW", rw.mount_id, layer_folder(daemon, rw.mount_id), size=rw.size()
        )
    )
    return out


def container_name(c: Any) -> str:
    return c.name.lstrip("/")
