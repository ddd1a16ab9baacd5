"""The layer store: image layers by ChainID, container RW layers by name.

moby: layer/
"""

from typing import TYPE_CHECKING

from dockerlayers._lazy import lazy_exports

if TYPE_CHECKING:
    from dockerlayers.layer.errors import (
        LayerDoesNotExist,
        LayerError,
        LayerNotRetained,
        MaxDepthExceeded,
        MountDoesNotExist,
        MountNameConflict,
        VerificationError,
    )
    from dockerlayers.layer.mounted import MountedLayer, RWLayer
    from dockerlayers.layer.ro import EMPTY_LAYER, Layer, Metadata, RoLayer
    from dockerlayers.layer.store import MAX_LAYER_DEPTH, LayerStore

__getattr__ = lazy_exports(
    __name__,
    {
        "LayerDoesNotExist": "dockerlayers.layer.errors",
        "LayerError": "dockerlayers.layer.errors",
        "LayerNotRetained": "dockerlayers.layer.errors",
        "MaxDepthExceeded": "dockerlayers.layer.errors",
        "MountDoesNotExist": "dockerlayers.layer.errors",
        "MountNameConflict": "dockerlayers.layer.errors",
        "VerificationError": "dockerlayers.layer.errors",
        "MountedLayer": "dockerlayers.layer.mounted",
        "RWLayer": "dockerlayers.layer.mounted",
        "EMPTY_LAYER": "dockerlayers.layer.ro",
        "Layer": "dockerlayers.layer.ro",
        "Metadata": "dockerlayers.layer.ro",
        "RoLayer": "dockerlayers.layer.ro",
        "MAX_LAYER_DEPTH": "dockerlayers.layer.store",
        "LayerStore": "dockerlayers.layer.store",
    },
)

__all__ = [
    "EMPTY_LAYER",
    "MAX_LAYER_DEPTH",
    "Layer",
    "LayerDoesNotExist",
    "LayerError",
    "LayerNotRetained",
    "LayerStore",
    "MaxDepthExceeded",
    "Metadata",
    "MountDoesNotExist",
    "MountNameConflict",
    "MountedLayer",
    "RWLayer",
    "RoLayer",
    "VerificationError",
]
