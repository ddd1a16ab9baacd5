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


class Response:
    """What docker-py's `APIError.response` holds (a requests.Response): the HTTP status,
    its reason phrase and the URL. Here there is no HTTP; the fields say what the
    Engine API would have answered."""

    _REASONS = {
        304: "Not Modified",
        400: "Bad Request",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }

    def __init__(self, status_code: int, url: str = "") -> None:
        self.status_code = status_code
        self.reason = self._REASONS.get(status_code, "")
        self.url = url

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


class APIError(DockerException):
    """The daemon refused or failed; `explanation` is its message.

    docker-py's fields: `response` (status_code, reason, url), `status_code`,
    `explanation`, `is_error()`, `is_client_error()`, `is_server_error()`. `str()` is the
    daemon's message alone (the CLI prints it); docker-py prefixes `500 Server Error for
    <url>: ...` (docs/differences.md)."""

    status_code_default = 500

    def __init__(
        self,
        message: object,
        response: Response | int | None = None,
        explanation: str | None = None,
        *,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        if isinstance(response, int):  # APIError("...", 409): the status alone
            status_code, response = response, None
        if response is None:
            response = Response(status_code or type(self).status_code_default)
        self.response = response
        self.explanation = explanation if explanation is not None else str(message)

    @property
    def status_code(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    def __str__(self) -> str:
        return self.explanation

    def is_error(self) -> bool:
        return self.is_client_error() or self.is_server_error()

    def is_client_error(self) -> bool:
        return self.status_code is not None and 400 <= self.status_code < 500

    def is_server_error(self) -> bool:
        return self.status_code is not None and 500 <= self.status_code < 600


class NotFound(APIError):
    status_code_default = 404


class ImageNotFound(NotFound):
    pass


class Conflict(APIError):
    status_code_default = 409


class InvalidParameter(APIError):
    status_code_default = 400


class NotModified(APIError):
    """HTTP 304: the request changed nothing (start of a running container, ...)."""

    status_code_default = 304


class InvalidVersion(DockerException):
    pass


class InvalidRepository(DockerException):
    pass


class InvalidConfigFile(DockerException):
    pass


class InvalidArgument(DockerException):
    """A client-side refusal (docker-py: `image.save(named=...)` of a name it lacks, ...)."""


class DeprecatedMethod(DockerException):
    pass


class NullResource(DockerException, ValueError):
    """An ID or name that is empty (docker-py: `Resource ID was not provided`)."""


class StreamParseError(RuntimeError):
    def __init__(self, reason: str) -> None:
        self.msg = reason


class ImageLoadError(DockerException):
    """`images.load` of something that is not an image archive (the daemon's words)."""


class ContainerError(DockerException):
    """`containers.run()` without detach: the container exited non-zero. `stderr` is its
    stderr log (bytes), or None when the container removed itself (auto_remove) first."""

    def __init__(self, container, exit_status: int, command, image, stderr: bytes | None) -> None:
        self.container = container
        self.exit_status = exit_status
        self.command = command
        self.image = image
        self.stderr = stderr
        err = f": {stderr}" if stderr is not None else ""
        super().__init__(
            f"Command '{command}' in image '{image}' returned non-zero exit status "
            f"{exit_status}{err}"
        )


def create_unexpected_kwargs_error(name: str, kwargs: dict) -> TypeError:
    """docker-py's TypeError for keyword arguments a method does not take."""
    quoted = [f"'{k}'" for k in sorted(kwargs)]
    text = [f"{name}() "]
    text.append(
        "got an unexpected keyword argument "
        if len(quoted) == 1
        else "got unexpected keyword arguments "
    )
    text.append(", ".join(quoted))
    return TypeError("".join(text))


class BuildError(DockerException):
    def __init__(self, reason: str, build_log) -> None:
        super().__init__(reason)
        self.msg = reason
        self.build_log = build_log
