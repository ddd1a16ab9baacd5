"""`client.api`: a small part of docker-py's low-level APIClient, on the daemon directly.

docker-py's models call an HTTP client (`docker.APIClient`); here the models call the
daemon, and `client.api` keeps the low-level calls code written for docker-py reaches for
when it cleans up or checks (remove_*, inspect_*, containers, images, volumes, pull), plus
the proxy settings `containers.create` injects (`use_config_proxy`).

docker-py: docker/api/client.py, docker/utils/proxy.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dockerlayers.errors import NotFound

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


class APIClient:
    """The low-level calls (docker-py's names) the model offers."""

    def __init__(self, client: DockerClient) -> None:
        self._client = client
        self._version = API_VERSION
        self._proxy_configs = load_proxy_config()
        #: registry domain -> (username, password) from `login`, kept in memory as
        #: docker-py keeps them (docker/api/daemon.py login: self._auth_configs)
        self._auth: dict[str, tuple[str, str]] = {}

    @property
    def api_version(self) -> str:
        return self._version

    @property
    def _daemon(self):  # noqa: ANN202
        return self._client.daemon

    def close(self) -> None:
        """Nothing to close: there is no connection."""

    def login(
        self,
        username: str,
        password: str | None = None,
        email: str | None = None,
        registry: str | None = None,
        reauth: bool = False,
        dockercfg_path: str | None = None,
    ) -> dict[str, Any]:
        """The Engine API's `/auth`: the registry checks the credentials; they are kept in
        this client for its pulls and pushes (not written to `config.json`, as docker-py).

        docker-py: docker/api/daemon.py DaemonApiMixin.login
        """
        from dockerlayers.client.models.images import registry_config
        from dockerlayers.distribution import service

        domain = service.authenticate(
            registry, username, password or "", config=registry_config(self._daemon)
        )
        self._auth[domain] = (username, password or "")
        return {"IdentityToken": "", "Status": "Login Succeeded"}

    def credentials_for(self, repository: str) -> tuple[str, str] | None:
        """What `login` gave for the registry of `repository` (None: config.json's)."""
        from dockerlayers.image.refname import parse_normalized_named

        return self._auth.get(parse_normalized_named(repository).domain)

    # containers
    def containers(
        self, all: bool = False, filters: dict[str, Any] | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        return self._daemon.list(all=all, filters=filters, limit=kw.get("limit", -1))

    def inspect_container(self, container: str) -> dict[str, Any]:
        return self._daemon.inspect(_id(container))

    def remove_container(
        self, container: Any, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        self._daemon.remove(_id(container), force=force, v=v)

    def logs(self, container: Any, **kwargs: Any) -> Any:
        return self._client.containers.get(_id(container)).logs(**kwargs)

    # images
    def images(
        self,
        name: str | None = None,
        quiet: bool = False,
        all: bool = False,
        filters: dict[str, Any] | None = None,
    ) -> list[Any]:
        imgs = self._client.images.list(name=name, all=all, filters=filters)
        return [i.id for i in imgs] if quiet else [i.attrs for i in imgs]

    def inspect_image(self, image: str) -> dict[str, Any]:
        return self._daemon.image_inspect(_id(image))

    def remove_image(
        self, image: Any, force: bool = False, noprune: bool = False
    ) -> list[dict[str, str]]:
        return self._daemon.remove_image(_id(image), force=force, prune=not noprune)

    def pull(
        self,
        repository: str,
        tag: str | None = None,
        stream: bool = False,
        decode: bool = False,
        all_tags: bool = False,
        platform: str | None = None,
        **kw: Any,
    ) -> Any:
        """The progress messages of `docker pull` (decoded dicts, JSON bytes, or a string);
        an error comes inside them, as the Engine API sends it.

        docker-py: docker/api/image.py ImageApiMixin.pull
        """
        from dockerlayers.client.models.images import (
            is_base,
            parse_repository_tag,
            registry_config,
        )
        from dockerlayers.distribution import service

        repository, image_tag = parse_repository_tag(repository)
        tag = tag or image_tag or "latest"
        if is_base(repository, tag) and not all_tags:
            image_id = self._daemon.image_service.image_id(self._daemon.pull(f"{repository}:{tag}"))
            msgs: Any = iter(
                [
                    {"status": f"Pulling from library/{repository}", "id": tag},
                    {"status": f"Digest: {image_id}"},
                    {"status": f"Status: Image is up to date for {repository}:{tag}"},
                ]
            )
        else:
            msgs = service.stream(
                service.sdk_pull,
                self._daemon.image_service,
                repository,
                None if all_tags else tag,
                all_tags,
                platform=platform,
                config=registry_config(self._daemon),
                credentials=self.credentials_for(repository),
            )
        if stream:
            if decode:
                return msgs
            return (json.dumps(m, separators=(",", ":")).encode() + b"\r\n" for m in msgs)
        return "".join(json.dumps(m, separators=(",", ":")) + "\r\n" for m in msgs)

    def push(
        self,
        repository: str,
        tag: str | None = None,
        stream: bool = False,
        decode: bool = False,
        **kw: Any,
    ) -> Any:
        """The Engine API's output of `docker push` (a string, or with `stream` its lines;
        dicts with `decode`); errors come inside it. A tag in `repository` counts when
        `tag` is not given.

        docker-py: docker/api/image.py ImageApiMixin.push
        """
        from dockerlayers.client.models.images import parse_repository_tag, registry_config
        from dockerlayers.distribution import service

        if not tag:
            repository, tag = parse_repository_tag(repository)
        return service.sdk_push(
            self._daemon.image_service,
            repository,
            tag,
            stream=stream,
            decode=decode,
            config=registry_config(self._daemon),
            credentials=self.credentials_for(repository),
        )

    # volumes and networks
    def volumes(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"Volumes": self._daemon.list_volumes(filters), "Warnings": None}

    def inspect_volume(self, name: str) -> dict[str, Any]:
        return self._daemon.volumes.inspect(name)

    def remove_volume(self, name: str, force: bool = False) -> None:
        self._daemon.volumes.remove(name, self._daemon.volume_users(name), force)

    def remove_network(self, net_id: str) -> None:
        raise NotFound(f"network {net_id} not found")

    # system
    def ping(self) -> bool:
        return self._client.ping()

    def version(self, api_version: bool = True) -> dict[str, Any]:
        return self._client.version()

    def info(self) -> dict[str, Any]:
        return self._client.info()

    def events(self, **kwargs: Any) -> Iterator[Any]:
        return self._client.events(**kwargs)

    def df(self) -> dict[str, Any]:
        return self._client.df()

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"'APIClient' has no attribute {name!r}: dockerlayers models only part of "
            "docker-py's low-level API (docs/differences.md)"
        )


def _id(resource: Any) -> str:
    """docker-py's check_resource: a dict's Id, or the string itself."""
    if isinstance(resource, dict):
        return resource.get("Id") or resource.get("ID") or resource.get("Name")
    return getattr(resource, "id", resource)
