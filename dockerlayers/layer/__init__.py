"""The layer store: image layers by ChainID, container RW layers by name.

moby: layer/
"""

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
