"""The daemon's registry entry points (pull, push, login) on an ImageService, and the
Engine API-shaped progress streams docker-py's `images.pull/push` yield.

moby: daemon/images/image_pull.go, daemon/images/image_push.go, daemon/auth.go
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

from dockerlayers.distribution import pull as _pull
from dockerlayers.distribution import push as _push
from dockerlayers.distribution import registry
from dockerlayers.distribution.progress import Progress
from dockerlayers.distribution.registry import RegistryConfig, RegistryError, Session


def pull(
    svc: Any,
    ref: str,
    platform: str | None = None,
    all_tags: bool = False,
    progress: Progress | None = None,
    config: RegistryConfig | None = None,
    credentials: tuple[str, str] | None = None,
) -> list[str]:
    """`docker pull`: the image IDs pulled. moby: daemon/images/image_pull.go PullImage"""
    return _pull.pull(svc, ref, platform, all_tags, progress, config, credentials)


def push(
    svc: Any,
    ref: str,
    progress: Progress | None = None,
    config: RegistryConfig | None = None,
    credentials: tuple[str, str] | None = None,
) -> str:
    """`docker push`: the manifest digest. moby: daemon/images/image_push.go PushImage"""
    return _push.push(svc, ref, progress, config, credentials)


def login(
    server: str | None,
    username: str,
    password: str,
    config: RegistryConfig | None = None,
) -> str:
    """Check the credentials against the registry (`GET /v2/`), then store them in
    `config.json`; returns `Login Succeeded`.

    moby: daemon/auth.go AuthenticateToRegistry, registry/auth.go loginV2
    """
    domain = authenticate(server, username, password, config)
    registry.store_credentials(domain, username, password)
    return "Login Succeeded"


def authenticate(
    server: str | None, username: str, password: str, config: RegistryConfig | None = None
) -> str:
    """Check the credentials against the registry (`GET /v2/`, token auth answered); the
    registry's domain. What the Engine API's `/auth` does: nothing is stored (docker-py
    keeps the credentials in memory, the CLI writes them to `config.json`).

    moby: daemon/auth.go AuthenticateToRegistry, registry/auth.go loginV2
    """
    domain = _domain(server)
    s = Session(config or RegistryConfig(), domain, (username, password))
    r = s.request("GET", "/v2/")
    if r.status_code != 200:
        url = s.base + "/v2/"
        raise RegistryError(
            f'Get "{url}": {registry.error_text(r)}'
            if r.status_code != 401
            else "login attempt to " + url + " failed with status: 401 Unauthorized"
        )
    return domain


def logout(server: str | None) -> str:
    """Remove stored credentials (the 20.10 CLI says `Removing` even when there were
    none). moby (cli): cli/command/registry/logout.go"""
    domain = _domain(server)
    shown = registry.auth_key(domain)
    registry.store_credentials(domain, None, None)
    return f"Removing login credentials for {shown}"


def _domain(server: str | None) -> str:
    if not server or server.rstrip("/") in (registry.INDEX_SERVER.rstrip("/"), "docker.io"):
        return registry.DEFAULT_DOMAIN
    return server.split("://", 1)[-1].rstrip("/")


def stream(func: Any, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Run a pull/push in a thread, yielding its progress dicts as they come and, on
    failure, the Engine API's `{"errorDetail": {"message": ...}, "error": ...}`.

    Wire docker-py's `images.pull(..., stream=True, decode=True)` as
    `stream(service.pull, svc, ref, ...)`.
    """
    q: queue.Queue[Any] = queue.Queue()
    done = object()

    def run() -> None:
        try:
            func(*args, progress=q.put, **kwargs)
        except Exception as e:  # reported in the stream, as the Engine API does
            q.put({"errorDetail": {"message": str(e)}, "error": str(e)})
        q.put(done)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    while (item := q.get()) is not done:
        yield item
    t.join()


def stream_text(func: Any, *args: Any, **kwargs: Any) -> Iterator[bytes]:
    """The same stream as the Engine API's bytes (docker-py with `decode=False`)."""
    for msg in stream(func, *args, **kwargs):
        yield json.dumps(msg, separators=(",", ":")).encode() + b"\r\n"


def sdk_pull(
    svc: Any,
    repository: str,
    tag: str | None = None,
    all_tags: bool = False,
    platform: str | None = None,
    config: RegistryConfig | None = None,
    progress: Progress | None = None,
    credentials: tuple[str, str] | None = None,
) -> list[str]:
    """docker-py's `images.pull(repository, tag=None, all_tags=False, platform=None)`:
    `latest` unless a tag, a digest or `all_tags` is given; the image IDs pulled (the SDK
    returns `Image(ids[0])`, or every image with `all_tags`).

    moby (docker-py): docker/models/images.py ImageCollection.pull
    """
    ref = repository
    if tag:
        ref += ("@" if tag.startswith("sha256:") else ":") + tag
    elif not all_tags and "@" not in repository:
        from dockerlayers.image.refname import parse_normalized_named

        ref = str(parse_normalized_named(repository).tag_name_only())
    return pull(svc, ref, platform, all_tags, progress, config, credentials)


def sdk_push(
    svc: Any,
    repository: str,
    tag: str | None = None,
    stream: bool = False,
    decode: bool = False,
    config: RegistryConfig | None = None,
    credentials: tuple[str, str] | None = None,
) -> Any:
    """docker-py's `images.push(repository, tag=None, stream=False, decode=False)`: the
    whole Engine API output as text, or with `stream` a generator of its lines (dicts
    with `decode`). Errors come inside the output, as the Engine API sends them.

    moby (docker-py): docker/api/image.py ImageApiMixin.push
    """
    ref = f"{repository}:{tag}" if tag else repository
    if stream and decode:
        return _push_stream(svc, ref, config, credentials)
    if stream:
        return (
            json.dumps(m, separators=(",", ":")).encode() + b"\r\n"
            for m in _push_stream(svc, ref, config, credentials)
        )
    return "".join(
        json.dumps(m, separators=(",", ":")) + "\r\n"
        for m in _push_stream(svc, ref, config, credentials)
    )


def _push_stream(
    svc: Any, ref: str, config: RegistryConfig | None, credentials: tuple[str, str] | None
) -> Iterator[dict[str, Any]]:
    return stream(push, svc, ref, config=config, credentials=credentials)
