"""docker-py's DaemonApiMixin: login, ping, version, info, events, df.

docker-py: docker/api/daemon.py
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dockerlayers.client.api.client import APIBase
from dockerlayers.errors import NotFound


class DaemonApiMixin(APIBase):
    """The system calls of docker-py's APIClient."""

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

    def remove_network(self, net_id: str) -> None:
        """No networks exist in the model: every one is not found."""
        raise NotFound(f"network {net_id} not found")
