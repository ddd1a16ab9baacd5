"""Errors, shaped like the docker SDK's (`docker.errors`), carrying the daemon's own words.

`str(error)` is exactly the message dockerd would send; `status_code` the HTTP status its
API would answer with (404 not found, 409 conflict, 400 invalid parameter, 500 system).

moby: errdefs/ (the kinds), docker-py: docker/errors.py (the names)
"""

from __future__ import annotations

#: What a pull answers here: the model has no registry, like a daemon without network
#: (dockerd 20.10 on this machine adds ` on <resolver>:53` after the host name).
PULL_ERROR = (
    'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host'
)


class DockerException(Exception):
    """Base of every error this package raises on purpose."""


class APIError(DockerException):
    """The daemon refused or failed; `explanation` is its message."""

    status_code = 500

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.explanation = message
        if status_code is not None:
            self.status_code = status_code

    def __str__(self) -> str:
        return self.explanation

    def is_client_error(self) -> bool:
        return 400 <= self.status_code < 500

    def is_server_error(self) -> bool:
        return self.status_code >= 500


class NotFound(APIError):
    status_code = 404


class ImageNotFound(NotFound):
    pass


class Conflict(APIError):
    status_code = 409


class InvalidParameter(APIError):
    status_code = 400


class NotModified(APIError):
    """HTTP 304: the request changed nothing (start of a running container, ...)."""

    status_code = 304


class ContainerError(DockerException):
    """`containers.run()` without detach: the container exited non-zero."""

    def __init__(self, container, exit_status: int, command, image, stderr: bytes | None) -> None:
        self.container = container
        self.exit_status = exit_status
        self.command = command
        self.image = image
        self.stderr = stderr
        err = f": {stderr.decode(errors='replace')}" if stderr else ""
        super().__init__(
            f"Command '{command}' in image '{image}' returned non-zero exit status "
            f"{exit_status}{err}"
        )


class BuildError(DockerException):
    def __init__(self, reason: str, build_log) -> None:
        super().__init__(reason)
        self.msg = reason
        self.build_log = build_log
