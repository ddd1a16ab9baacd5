"""dockerlayers: see how Docker stores images and containers.

A faithful model of the Docker engine's storage (moby's layer store, graph drivers and
container lifecycle) in pure Python, with an API shaped like the docker SDK for Python.
"""

from dockerlayers.client import Container, DockerClient, Image, Volume, from_env
from dockerlayers.errors import (
    APIError,
    BuildError,
    ContainerError,
    DockerException,
    ImageLoadError,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    NullResource,
)

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "BuildError",
    "Container",
    "ContainerError",
    "DockerClient",
    "DockerException",
    "Image",
    "ImageLoadError",
    "ImageNotFound",
    "InvalidArgument",
    "NotFound",
    "NullResource",
    "Volume",
    "__version__",
    "from_env",
]
