"""`client.api`: docker-py's low-level APIClient, on the daemon directly.

docker-py's models call an HTTP client (`docker.APIClient`); here the same methods, with
docker-py 7.1's signatures, argument handling, client-side errors and return shapes (the
Engine API's JSON as dicts, streams as generators), call the daemon. The models call these
as docker-py's models call `client.api`. Split as docker-py splits it: one mixin a module.

docker-py: docker/api/client.py (APIClient), docker/api/*.py
"""

from __future__ import annotations

from dockerlayers.client.api.build import BuildApiMixin
from dockerlayers.client.api.client import (
    API_VERSION,
    APIBase,
    ProxyConfig,
    check_resource,
    load_proxy_config,
)
from dockerlayers.client.api.container import ContainerApiMixin
from dockerlayers.client.api.daemon import DaemonApiMixin
from dockerlayers.client.api.exec_api import ExecApiMixin
from dockerlayers.client.api.image import ImageApiMixin
from dockerlayers.client.api.volume import VolumeApiMixin


class APIClient(
    BuildApiMixin,
    ContainerApiMixin,
    DaemonApiMixin,
    ExecApiMixin,
    ImageApiMixin,
    VolumeApiMixin,
    APIBase,
):
    """The low-level calls (docker-py's names) on a DockerClient's daemon."""


__all__ = [
    "API_VERSION",
    "APIClient",
    "ProxyConfig",
    "check_resource",
    "load_proxy_config",
]
