"""The APIClient's base: its version, the daemon it talks to, the CLI's proxy settings,
and docker-py's `check_resource` (a None resource is NullResource before any call).

docker-py: docker/api/client.py, docker/utils/proxy.py, docker/utils/decorators.py
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dockerlayers.errors import InvalidVersion, NullResource

if TYPE_CHECKING:
    from dockerlayers.client import DockerClient

#: The Engine API version dockerd 20.10 speaks.
API_VERSION = "1.41"


class ProxyConfig(dict):
    """The `proxies.default` of the docker CLI's config.json, as docker-py reads it.

    docker-py: docker/utils/proxy.py ProxyConfig
    """

    @property
    def http(self) -> str | None:
        return self.get("http")

    @property
    def https(self) -> str | None:
        return self.get("https")

    @property
    def ftp(self) -> str | None:
        return self.get("ftp")

    @property
    def no_proxy(self) -> str | None:
        return self.get("no_proxy")

    @staticmethod
    def from_dict(config: dict[str, Any]) -> ProxyConfig:
        return ProxyConfig(
            http=config.get("httpProxy"),
            https=config.get("httpsProxy"),
            ftp=config.get("ftpProxy"),
            no_proxy=config.get("noProxy"),
        )

    def get_environment(self) -> dict[str, str]:
        env = {}
        if self.http:
            env["http_proxy"] = env["HTTP_PROXY"] = self.http
        if self.https:
            env["https_proxy"] = env["HTTPS_PROXY"] = self.https
        if self.ftp:
            env["ftp_proxy"] = env["FTP_PROXY"] = self.ftp
        if self.no_proxy:
            env["no_proxy"] = env["NO_PROXY"] = self.no_proxy
        return env

    def inject_proxy_environment(self, environment: Any) -> Any:
        """The environment with the proxy variables added (the user's values win)."""
        if not self:
            return environment
        proxy_env = [f"{k}={v}" for k, v in self.get_environment().items()]
        if not environment:
            return proxy_env
        if isinstance(environment, dict):
            environment = [f"{k}={v}" for k, v in environment.items()]
        return proxy_env + list(environment)


def load_proxy_config() -> ProxyConfig:
    """`proxies.default` of $DOCKER_CONFIG/config.json (~/.docker), if any."""
    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
    except (OSError, ValueError):
        return ProxyConfig()
    return ProxyConfig.from_dict(((cfg.get("proxies") or {}).get("default")) or {})


class APIBase:
    """What every mixin of APIClient shares: the client, the daemon, the API version."""

    def __init__(self, client: DockerClient) -> None:
        self._client = client
        self._version = API_VERSION
        self._proxy_configs = load_proxy_config()
        #: registry domain -> (username, password) from `login`, kept in memory as
        #: docker-py keeps them (docker/api/daemon.py login: self._auth_configs)
        self._auth: dict[str, tuple[str, str]] = {}
        #: config.json's general settings docker-py reads (`detachKeys`)
        self._general_configs: dict[str, Any] = {}

    @property
    def api_version(self) -> str:
        return self._version

    @property
    def _daemon(self):  # noqa: ANN202 - the Daemon
        return self._client.daemon

    def close(self) -> None:
        """Nothing to close: there is no connection."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"'APIClient' has no attribute {name!r}: dockerlayers models only part of "
            "docker-py's low-level API (docs/differences.md)"
        )


def version_lt(v1: str, v2: str) -> bool:
    """docker-py: docker/utils/utils.py version_lt ("1.9" < "1.10")."""
    return tuple(int(x) for x in v1.split(".")) < tuple(int(x) for x in v2.split("."))


def require_version(api: APIBase, minimum: str, text: str) -> None:
    """docker-py's InvalidVersion when the client's API version is below `minimum`."""
    if version_lt(api._version, minimum):
        raise InvalidVersion(text)


def check_resource(resource_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A dict's `Id` (or `ID`) or the ID itself as the first argument; None or empty is
    NullResource. docker-py: docker/utils/decorators.py check_resource"""

    def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapped(self: Any, resource_id: Any = None, *args: Any, **kwargs: Any) -> Any:
            if resource_id is None and kwargs.get(resource_name):
                resource_id = kwargs.pop(resource_name)
            if isinstance(resource_id, dict):
                resource_id = resource_id.get("Id", resource_id.get("ID"))
            if not resource_id:
                raise NullResource("Resource ID was not provided")
            return f(self, resource_id, *args, **kwargs)

        return wrapped

    return decorator


def json_lines(msgs: Any, decode: bool) -> Any:
    """The Engine API's JSON stream: dicts with `decode`, else each message's JSON bytes
    (one per chunk, as docker-py's `_stream_helper` yields them)."""
    if decode:
        return msgs
    return (json.dumps(m, separators=(",", ":")).encode() + b"\r\n" for m in msgs)
