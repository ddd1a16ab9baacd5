"""dockerlayers: see how Docker stores images and containers.

A faithful model of the Docker engine's storage (moby's layer store, graph drivers and
container lifecycle) in pure Python, with an API shaped like the docker SDK for Python.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


_LAZY = {
    "Container": "dockerlayers.client",
    "DockerClient": "dockerlayers.client",
    "Image": "dockerlayers.client",
    "Volume": "dockerlayers.client",
    "from_env": "dockerlayers.client",
    "ImageLoadError": "dockerlayers.errors",
    "InvalidArgument": "dockerlayers.errors",
    "NullResource": "dockerlayers.errors",
    "APIError": "dockerlayers.errors",
    "BuildError": "dockerlayers.errors",
    "ContainerError": "dockerlayers.errors",
    "DockerException": "dockerlayers.errors",
    "ImageNotFound": "dockerlayers.errors",
    "NotFound": "dockerlayers.errors",
}


def __getattr__(name: str) -> Any:
    """Load the public names on first use (PEP 562), so that `dockerlayers.cli` and other
    parts import only what they need: the command line starts faster."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dockerlayers' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
