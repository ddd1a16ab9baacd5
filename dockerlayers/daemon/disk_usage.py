"""`docker system df`: what images, containers and volumes hold on disk.

Images come with their container count and shared size (the size of the layers another
listed image also uses), containers with their RW size, volumes with their size and how many
containers use them, and `LayersSize`: the read-only layers that images reference.

moby: daemon/disk_usage.go SystemDiskUsage, daemon/images/images.go Images (withExtraAttrs),
daemon/images/service.go LayerDiskUsage / getLayerRefs, volume/service LocalVolumesSize
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from dockerlayers.containerd.ids import shown_image_id
from dockerlayers.daemon.volumes import _tree_size

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def _chain_ids(img: Any) -> list[str]:
    """The ChainID of every layer prefix of an image's rootfs."""
    from dockerlayers.digest import chain_id

    diff_ids = list(img.rootfs.diff_ids) if img.rootfs is not None else []
    return [chain_id(diff_ids[: i + 1]) for i in range(len(diff_ids))]


def _shown_size(daemon: Daemon, s: Any) -> int:
    """Docker 29 (containerd store): content + unpacked; else the layers' size."""
    if getattr(daemon, "storage", "graphdriver") == "containerd":
        found = daemon.layer_store.manifest_of(s.id)
        if found:
            return found[1]["total"]
    return s.size


def system_disk_usage(daemon: Daemon) -> dict[str, Any]:
    """The API's /system/df answer (types.DiskUsage)."""
    with daemon.locked(check_open=False):
        svc = daemon.image_service
        containers = daemon.list(all=True, size=True)
        layers = daemon.layer_store.map()
        images = []
        chains: dict[str, list[str]] = {}
        refs: dict[str, int] = {}
        for s in svc.images():
            img = svc.image_store.get(s.id)
            chains[s.id] = _chain_ids(img)
            for ch in chains[s.id]:
                refs[ch] = refs.get(ch, 0) + 1
            images.append(s)
        out_images = []
        for s in images:
            shared = sum(
                layers[ch].diff_size()
                for ch in chains[s.id]
                if refs.get(ch, 0) > 1 and ch in layers
            )
            n = sum(1 for c in daemon.containers.values() if c.image == s.id)
            out_images.append(
                {
                    "Containers": n,
                    "Created": s.created,
                    "Id": shown_image_id(daemon, s.id),
                    "Labels": s.labels,
                    "ParentId": s.parent_id,
                    "RepoDigests": s.repo_digests,
                    "RepoTags": s.repo_tags,
                    "SharedSize": shared,
                    "Size": _shown_size(daemon, s),
                    "VirtualSize": _shown_size(daemon, s),
                }
            )
        # getLayerRefs: layers of tagged images and of untagged ones without children
        referenced: set[str] = set()
        for id in list(svc.image_store.images):
            if not svc.references(id) and svc.image_store.children(id):
                continue
            referenced.update(_chain_ids(svc.image_store.get(id)))
        layers_size = sum(layer.diff_size() for ch, layer in layers.items() if ch in referenced)
        if getattr(daemon, "storage", "graphdriver") == "containerd":
            layers_size = daemon.layer_store.image_disk_usage()
        volumes = []
        for v in daemon.volumes.list():
            users = daemon.volume_users(v["Name"])
            size = _tree_size(v["Mountpoint"]) if os.path.isdir(v["Mountpoint"]) else 0
            volumes.append({**v, "UsageData": {"RefCount": len(users), "Size": size}})
        return {
            "LayersSize": layers_size,
            "Images": out_images,
            "Containers": containers,
            "Volumes": volumes,
            "BuildCache": [],
        }
