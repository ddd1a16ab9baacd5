"""Errors of the image store, tags, import and load; `str()` is Docker's message.

Each is also the matching error of the public API (`dockerlayers.errors`), so callers of
the daemon and the client see one family of errors with HTTP-like status codes.

moby: errdefs (NotFound, Conflict, InvalidParameter), daemon/images/errors.go
"""

from __future__ import annotations

from dockerlayers import errors as api


class ImageError(api.APIError):
    """Base of the image package's errors (a server error unless a subclass says)."""


class ImageNotFound(ImageError, api.ImageNotFound):
    """`No such image: ...` (errdefs.NotFound)."""


class InvalidReference(ImageError, api.InvalidParameter, ValueError):
    """A malformed image name or tag (errdefs.InvalidParameter)."""


class ConflictError(ImageError, api.Conflict):
    """A tag or delete conflict (errdefs.Conflict)."""


class LoadError(ImageError, api.InvalidParameter, ValueError):
    """An archive or layout that cannot be loaded; nothing was changed."""


class StoreInitError(api.DockerException):
    """The daemon cannot start on this root: a store's file is unreadable. `str()` is
    dockerd's startup error (it exits; the docker CLI then cannot connect); the root is
    left as it is for the user to repair.

    moby: daemon/daemon.go NewDaemon ("Couldn't create reference store repository: ...")
    """
