"""containerd's error kinds, with the texts its errors end in.

containerd wraps a cause with `%w` around one of a few sentinel errors; the message a
client sees ends in the sentinel's text ("snapshot k: already exists"). Each class here is
one sentinel; `str(e)` is the whole message.

containerd: errdefs/errors.go (ErrNotFound, ErrAlreadyExists, ErrFailedPrecondition, ...)
"""

from __future__ import annotations


class ContainerdError(Exception):
    """An error ending in one of containerd's sentinel texts."""

    sentinel = "unknown"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class NotFound(ContainerdError):
    sentinel = "not found"


class AlreadyExists(ContainerdError):
    sentinel = "already exists"


class FailedPrecondition(ContainerdError):
    sentinel = "failed precondition"


class InvalidArgument(ContainerdError):
    sentinel = "invalid argument"


def wrap(cls: type[ContainerdError], message: str) -> ContainerdError:
    """fmt.Errorf("<message>: %w", errdefs.ErrX)"""
    return cls(f"{message}: {cls.sentinel}")
