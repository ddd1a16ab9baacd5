"""Errors raised while reading, writing or applying layer tars.

moby: pkg/archive/archive.go (breakoutError), pkg/archive/diff.go UnpackLayer
"""

from __future__ import annotations

from dockerlayers.errors import APIError


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


class ApplyLayerError(LayerTarError, APIError):
    """A layer tar that could not be applied, worded as the daemon answers: moby applies a
    layer in a re-executed child (chrootarchive) and reports `Error processing tar
    file(<how the child ended>): <its stderr>`: `exit status 1` and the applier's error,
    or the error that broke the stream fed to it (a corrupt gzip) and nothing.

    moby: pkg/chrootarchive/diff_unix.go applyLayerHandler (invokeUnpack's error)
    """

    def __init__(self, output: str, status: str = "exit status 1") -> None:
        self.output, self.status = output, status
        APIError.__init__(self, f"Error processing tar file({status}): {output}")


class StreamError(LayerTarError):
    """The input stream itself broke while it was read (a corrupt gzip): the daemon reports
    it in the place of the child's exit status (`Error processing tar file(gzip: invalid
    checksum): `), or, for a stream that just stops, as the applier's `unexpected EOF`."""

    def __init__(self, output: str, status: str = "exit status 1") -> None:
        self.output, self.status = output, status
        super().__init__(f"{status}: {output}" if output else status)


class ApplyBreakoutError(ApplyLayerError, BreakoutError):
    """ApplyLayerError for an entry that would write outside the layer."""


class ApplyFormatError(ApplyLayerError, TarFormatError):
    """ApplyLayerError for a stream that is not a well-formed tar."""


class ApplyDuplicateError(ApplyLayerError, DuplicatePathError):
    """ApplyLayerError for a path named twice."""


def apply_layer_error(e: LayerTarError) -> ApplyLayerError:
    """`e` in the daemon's words (see ApplyLayerError), still of `e`'s kind."""
    if isinstance(e, ApplyLayerError):
        return e
    if isinstance(e, StreamError):
        return ApplyLayerError(e.output, e.status)
    for kind, cls in (
        (BreakoutError, ApplyBreakoutError),
        (DuplicatePathError, ApplyDuplicateError),
        (TarFormatError, ApplyFormatError),
    ):
        if isinstance(e, kind):
            return cls(str(e))
    return ApplyLayerError(str(e))
