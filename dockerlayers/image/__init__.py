"""Images: the image store, tags, import, docker save/load and OCI image layouts.

moby: image/, reference/, daemon/images/
"""

from typing import TYPE_CHECKING

from dockerlayers._lazy import lazy_exports

if TYPE_CHECKING:
    from dockerlayers.image.errors import (
        ConflictError,
        ImageError,
        ImageNotFound,
        InvalidReference,
        LoadError,
    )
    from dockerlayers.image.image import (
        ContainerConfig,
        History,
        Image,
        new_child_image,
        new_from_json,
        new_history,
    )
    from dockerlayers.image.reference import ReferenceStore
    from dockerlayers.image.refname import (
        Reference,
        familiar_name,
        familiar_string,
        parse_any_reference,
        parse_normalized_named,
    )
    from dockerlayers.image.rootfs import RootFS
    from dockerlayers.image.service import (
        ContainerUse,
        DeleteItem,
        HistoryItem,
        ImageService,
        ImageSummary,
    )
    from dockerlayers.image.store import ImageStore

__getattr__ = lazy_exports(
    __name__,
    {
        "ConflictError": "dockerlayers.image.errors",
        "ImageError": "dockerlayers.image.errors",
        "ImageNotFound": "dockerlayers.image.errors",
        "InvalidReference": "dockerlayers.image.errors",
        "LoadError": "dockerlayers.image.errors",
        "ContainerConfig": "dockerlayers.image.image",
        "History": "dockerlayers.image.image",
        "Image": "dockerlayers.image.image",
        "new_child_image": "dockerlayers.image.image",
        "new_from_json": "dockerlayers.image.image",
        "new_history": "dockerlayers.image.image",
        "ReferenceStore": "dockerlayers.image.reference",
        "Reference": "dockerlayers.image.refname",
        "familiar_name": "dockerlayers.image.refname",
        "familiar_string": "dockerlayers.image.refname",
        "parse_any_reference": "dockerlayers.image.refname",
        "parse_normalized_named": "dockerlayers.image.refname",
        "RootFS": "dockerlayers.image.rootfs",
        "ContainerUse": "dockerlayers.image.service",
        "DeleteItem": "dockerlayers.image.service",
        "HistoryItem": "dockerlayers.image.service",
        "ImageService": "dockerlayers.image.service",
        "ImageSummary": "dockerlayers.image.service",
        "ImageStore": "dockerlayers.image.store",
    },
)

__all__ = [
    "ConflictError",
    "ContainerConfig",
    "ContainerUse",
    "DeleteItem",
    "History",
    "HistoryItem",
    "Image",
    "ImageError",
    "ImageNotFound",
    "ImageService",
    "ImageStore",
    "ImageSummary",
    "InvalidReference",
    "LoadError",
    "Reference",
    "ReferenceStore",
    "RootFS",
    "familiar_name",
    "familiar_string",
    "new_child_image",
    "new_from_json",
    "new_history",
    "parse_any_reference",
    "parse_normalized_named",
]
