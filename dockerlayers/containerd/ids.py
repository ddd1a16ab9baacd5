"""Which image ID a client sees: Docker 29's rule in the containerd mode, cheap to import.

moby: daemon/containerd/image.go (image.ID(img.Target.Digest))
"""

from __future__ import annotations

from typing import Any


def shown_image_id(daemon: Any, config_id: str) -> str:
    """The image ID a client sees for the daemon's internal image ID (Docker 29: the
    manifest digest in the containerd mode; the config digest otherwise)."""
    if getattr(daemon, "storage", "graphdriver") != "containerd" or not config_id:
        return config_id
    return daemon.image_service.image_id(config_id)
