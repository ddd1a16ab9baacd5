"""Images: the image store, tags, import, docker save/load and OCI image layouts.

moby: image/, reference/, daemon/images/
"""

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
