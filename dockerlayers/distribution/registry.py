"""Registry endpoints, daemon registry configuration and an authenticating HTTP session.

docker.io is served by `registry-1.docker.io` (mirrors first); a registry is insecure
(HTTPS without verification, then plain HTTP) when listed in `insecure-registries` or
when it is a loopback address (127.0.0.0/8), as dockerd decides.

moby: registry/config.go, registry/service_v2.go, registry/auth.go,
      vendor/github.com/docker/distribution/registry/client/auth
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.errors import APIError

DEFAULT_DOMAIN = "docker.io"
INDEX_HOST = "registry-1.docker.io"
INDEX_SERVER = "https://index.docker.io/v1/"


class RegistryError(APIError):
    """An error from the registry, in dockerd's words."""


class NoCredentials(RegistryError):
    """A Basic challenge with no credentials to answer it. `url`/`method`: the request.

    moby: vendor/github.com/docker/distribution/registry/client/auth ErrNoBasicAuthCredentials
    """

    def __init__(self, method: str = "", url: str = "") -> None:
        super().__init__("no basic auth credentials")
        self.method, self.url = method, url


@dataclass
class RegistryConfig:
    """moby: registry/config.go serviceConfig (registry-mirrors, insecure-registries)"""

    mirrors: list[str] = field(default_factory=list)
    insecure: list[str] = field(default_factory=list)

    @classmethod
    def from_daemon_json(cls, root: str, **overrides: Any) -> RegistryConfig:
        """`<root>/daemon.json`'s registry keys, overridden by keyword arguments."""
        data: dict[str, Any] = {}
        try:
            with open(os.path.join(root, "daemon.json")) as f:
                data = json.load(f)
        except (OSError, ValueError):
            pass
        mirrors = overrides.get("registry_mirrors") or data.get("registry-mirrors") or []
        insecure = overrides.get("insecure_registries") or data.get("insecure-registries") or []
        return cls(list(mirrors), list(insecure))

    def is_insecure(self, host: str) -> bool:
        """moby: registry/config.go isSecureIndex (false for 127.0.0.0/8 and the list)"""
        if host in self.insecure:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]")
        addrs: list[str] = []
        try:
            addrs = [str(ipaddress.ip_address(name))]
        except ValueError:
            try:
                addrs = [i[4][0] for i in socket.getaddrinfo(name, None)]
            except OSError:
                addrs = []
        nets = [ipaddress.ip_network("127.0.0.0/8")]
        for cidr in self.insecure:
            try:
                nets.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError:
                continue
        for a in addrs:
            ip = ipaddress.ip_address(a)
            if any(ip.version == n.version and ip in n for n in nets):
                return True
        return False

    def endpoints(self, domain: str) -> list[str]:
        """Base URLs to try, in order. moby: registry/service_v2.go lookupV2Endpoints"""
        if domain == DEFAULT_DOMAIN:
            out = [m.rstrip("/") for m in self.mirrors]
            return [*out, "https://" + INDEX_HOST]
        if self.is_insecure(domain):
            return ["https://" + domain, "http://" + domain]
        return ["https://" + domain]


def config_dir() -> str:
    """moby: cli/config ConfigDir (DOCKER_CONFIG, else ~/.docker)"""
    return os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def auth_key(domain: str) -> str:
    """The `auths` key of a registry (Docker Hub's is the v1 index URL)."""
    return INDEX_SERVER if domain == DEFAULT_DOMAIN else domain


def load_credentials(domain: str) -> tuple[str, str] | None:
    """(username, password) from `config.json` `auths`, if any."""
    try:
        with open(os.path.join(config_dir(), "config.json")) as f:
            auths = json.load(f).get("auths", {})
    except (OSError, ValueError):
        return None
    key = auth_key(domain)
    for k in (key, "https://" + key, "http://" + key):
        entry = auths.get(k)
        if entry and entry.get("auth"):
            user, _, pw = base64.b64decode(entry["auth"]).decode().partition(":")
            return user, pw
    return None


def store_credentials(domain: str, username: str | None, password: str | None) -> None:
    """Write (or, with no username, remove) a registry's `auths` entry in `config.json`."""
    path = os.path.join(config_dir(), "config.json")
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    auths = data.setdefault("auths", {})
    key = auth_key(domain)
    if username is None:
        auths.pop(key, None)
    else:
        auths[key] = {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent="\t")
    os.chmod(path, 0o600)


_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.partition(" ")
    return scheme.lower(), dict(_PARAM.findall(rest))


class Session:
    """HTTP to one registry, answering Basic and Bearer challenges.

    moby: vendor/github.com/docker/distribution/registry/client/auth/session.go
    """

    def __init__(
        self,
        config: RegistryConfig,
        domain: str,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        import requests  # lazy: the core is importable without it

        self.requests = requests
        self.http = requests.Session()
        self.domain = domain
        self.config = config
        self.credentials = credentials if credentials is not None else load_credentials(domain)
        self.base = ""
        self._auth_header: str | None = None
        self._tokens: dict[str, str] = {}

    def fork(self) -> Session:
        """A Session for another thread: the same endpoint, credentials and token, its own
        connection pool (a requests.Session is not meant to be shared across threads)."""
        other = Session.__new__(Session)
        other.__dict__.update(self.__dict__)
        other.http = self.requests.Session()
        other._tokens = dict(self._tokens)
        return other

    def _verify(self) -> bool:
        return not self.config.is_insecure(self.domain)

    def ping(self) -> None:
        """Find a working endpoint (`GET /v2/`). moby: registry/auth.go PingV2Registry"""
        last: Exception | None = None
        url = ""
        for base in self.config.endpoints(self.domain):
            url = base + "/v2/"
            try:
                r = self.http.get(url, verify=self._verify(), timeout=30)
            except self.requests.RequestException as e:
                last = e
                continue
            self.base = base
            if r.status_code == 401:
                try:
                    self._answer(r, scope="")
                except NoCredentials:
                    pass  # answered when a request needs it
            return
        raise RegistryError(f'Get "{url}": {go_dial_error(last, url)}')

    def _answer(self, r: Any, scope: str) -> None:
        scheme, params = _challenge(r.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            if not self.credentials:
                raise NoCredentials(r.request.method, r.url)
            raw = "{}:{}".format(*self.credentials).encode()
            self._auth_header = "Basic " + base64.b64encode(raw).decode()
        elif scheme == "bearer":
            q = {"service": params.get("service", "")}
            if scope or params.get("scope"):
                q["scope"] = scope or params["scope"]
            auth = self.credentials if self.credentials else None
            tr = self.http.get(
                params["realm"], params=q, auth=auth, verify=self._verify(), timeout=30
            )
            if tr.status_code == 401:
                raise RegistryError("unauthorized: authentication required")
            tr.raise_for_status()
            body = tr.json()
            token = body.get("token") or body.get("access_token") or ""
            self._auth_header = "Bearer " + token

    def request(self, method: str, path: str, scope: str = "", **kw: Any) -> Any:
        """`method` on `path` (relative to the endpoint, or absolute), re-trying once
        after answering an auth challenge."""
        if not self.base:
            self.ping()
        url = path if path.startswith("http") else self.base + path
        headers = dict(kw.pop("headers", {}))
        for attempt in range(2):
            if self._auth_header:
                headers["Authorization"] = self._auth_header
            r = self.http.request(
                method, url, headers=headers, verify=self._verify(), timeout=60, **kw
            )
            if r.status_code == 401 and attempt == 0:
                self._answer(r, scope)
                continue
            return r
        return r


def error_text(r: Any) -> str:
    """The registry's errors as dockerd words them (`manifest unknown: manifest unknown`).

    moby: vendor/github.com/docker/distribution/registry/api/errcode
    """
    try:
        errs = r.json().get("errors") or []
    except ValueError:
        errs = []
    if errs:
        parts = []
        for e in errs:
            code = str(e.get("code", "")).lower().replace("_", " ")
            msg = e.get("message", "")
            parts.append(f"{code}: {msg}" if msg else code)
        return "; ".join(parts) if len(parts) > 1 else parts[0]
    if r.status_code == 401:
        return "unauthorized: authentication required"
    if r.status_code == 429:
        return "toomanyrequests: Too Many Requests."
    return f"unexpected status code {r.status_code}"


def go_dial_error(e: Exception | None, url: str) -> str:
    """A connection failure in the words of Go's net/http client, as dockerd prints it:
    `dial tcp: lookup HOST: no such host`, `dial tcp HOST:PORT: connect: connection
    refused`, else the error as it is."""
    import urllib.parse

    text = str(e)
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if "NameResolutionError" in text or "Name or service not known" in text:
        return f"dial tcp: lookup {host}: no such host"
    if "Connection refused" in text:
        addr = host if ":" in host else f"{host}:{port}"
        return f"dial tcp {addr}: connect: connection refused"
    return text
