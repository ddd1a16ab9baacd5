"""The layer store's errors, with moby's texts.

moby: layer/layer.go (ErrLayerDoesNotExist, ...)
"""

from __future__ import annotations

from dockerlayers.errors import APIError


class LayerError(Exception):
    """Base of the layer store's errors; `str()` is moby's message."""

    message = "layer error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class LayerDoesNotExist(LayerError):
    message = "layer does not exist"


class LayerNotRetained(LayerError):
    message = "layer not retained"


class MountDoesNotExist(LayerError):
    message = "mount does not exist"


class MountNameConflict(LayerError):
    message = "mount already exists with name"


class MaxDepthExceeded(LayerError):
    message = "max depth exceeded"


class VerificationError(LayerError, APIError):
    """The reassembled tar stream does not hash to the layer's DiffID (named in the text);
    the daemon's answer to `docker save` (an APIError, so the CLI prints it as one).

    moby: layer/layer.go verifiedReadCloser.Read
    """

    def __init__(self, diff_id: str) -> None:
        super().__init__(
            f"could not verify layer data for: {diff_id}. This may be because internal files "
            "in the layer store were modified. Re-pulling or rebuilding this image may resolve "
            "the issue"
        )
