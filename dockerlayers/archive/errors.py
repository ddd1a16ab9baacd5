"""Errors raised while reading, writing or applying layer tars.

moby: pkg/archive/archive.go (breakoutError), pkg/archive/diff.go UnpackLayer
"""

from __future__ import annotations


class LayerTarError(ValueError):
    """A layer tar that cannot be applied: malformed, truncated or hostile.

    Raised before anything in the destination is changed (the stream is validated
    first), or after what was changed has been undone.
    """


class BreakoutError(LayerTarError):
    """An entry would write outside the destination (moby's `breakoutError`).

    moby: pkg/archive/archive.go breakoutError
    """


class TarFormatError(LayerTarError):
    """The byte stream is not a well-formed tar archive (bad header, short data)."""


class TarSplitError(ValueError):
    """tar-split metadata and file contents do not reassemble into the original stream."""


class DuplicatePathError(LayerTarError, TarSplitError):
    """The layer tar names the same path twice, which tar-split (so moby) refuses.

    vbatts/tar-split: tar/storage/packer.go ErrDuplicatePath
    """
