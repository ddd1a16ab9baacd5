"""docker-py's BuildApiMixin: `build` (the legacy builder's JSON stream) and `prune_builds`.

`build` prepares the context as docker-py does (a folder, a Dockerfile file object, or a
tar with `custom_context`; a Dockerfile outside the folder goes in as `.dockerfile.<hex>`),
runs the daemon's builder and returns the Engine API's messages: `{"stream": ...}`,
`{"aux": {"ID": ...}}`, and on failure `{"errorDetail": ..., "error": ...}` last (no
exception, as the API streams errors). `ImageCollection.build` reads this stream, as
docker-py's model does.

docker-py: docker/api/build.py; moby: api/server/router/build/build_routes.go
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from dockerlayers.client.api.client import APIBase, json_lines, require_version
from dockerlayers.errors import (
    PULL_ERROR,
    APIError,
    BuildError,
    DockerException,
    InvalidArgument,
    InvalidParameter,
)

#: docker-py: docker/constants.py CONTAINER_LIMITS_KEYS
CONTAINER_LIMITS_KEYS = ["memory", "memswap", "cpushares", "cpusetcpus"]

#: docker-py: docker/utils/utils.py match_tag's pattern
_TAG = re.compile(
    r"^((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9]"
    r"[a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?$"
)

#: build options the model's legacy builder cannot honour: refused, not ignored
_REFUSED = {
    "labels": "labels",
    "squash": "squash (an experimental daemon feature)",
    "cache_from": "cache_from",
}


class BuildApiMixin(APIBase):
    """The build calls of docker-py's APIClient."""

    def build(
        self,
        path: str | None = None,
        tag: str | None = None,
        quiet: bool = False,
        fileobj: Any = None,
        nocache: bool = False,
        rm: bool = False,
        timeout: int | None = None,
        custom_context: bool = False,
        encoding: str | None = None,
        pull: bool = False,
        forcerm: bool = False,
        dockerfile: str | None = None,
        container_limits: dict[str, Any] | None = None,
        decode: bool = False,
        buildargs: dict[str, str] | None = None,
        gzip: bool = False,
        shmsize: int | None = None,
        labels: dict[str, str] | None = None,
        cache_from: list[str] | None = None,
        target: str | None = None,
        network_mode: str | None = None,
        squash: bool | None = None,
        extra_hosts: dict[str, str] | list[str] | None = None,
        platform: str | None = None,
        isolation: str | None = None,
        use_config_proxy: bool = True,
    ) -> Iterator[Any]:
        """`docker build` with the legacy builder: a generator of the API's messages
        (dicts with `decode`, else JSON bytes). The model has no network, cgroups or
        isolation: `network_mode`, `extra_hosts`, `shmsize`, `container_limits`,
        `isolation` change nothing here; `labels`, `squash`, `cache_from` are refused.

        docker-py: docker/api/build.py BuildApiMixin.build
        """
        container_limits = container_limits or {}
        buildargs = dict(buildargs or {})
        if path is None and fileobj is None:
            raise TypeError("Either path or fileobj needs to be provided.")
        if gzip and encoding is not None:
            raise DockerException("Can not use custom encoding if gzip is enabled")
        if tag is not None and not _TAG.match(tag):
            raise DockerException(f"invalid tag '{tag}': invalid reference format")
        for key in container_limits:
            if key not in CONTAINER_LIMITS_KEYS:
                raise DockerException(f"invalid tag '{tag}': invalid reference format")
        if custom_context and not fileobj:
            raise TypeError("You must specify fileobj with custom_context")
        given = {"labels": labels, "squash": squash, "cache_from": cache_from}
        for name, what in _REFUSED.items():
            if given[name]:
                raise InvalidArgument(
                    f"build {what}: the model's legacy builder does not support it "
                    "(docs/differences.md)"
                )
        for name, minimum in (("target", "1.29"), ("network_mode", "1.25"), ("shmsize", "1.22")):
            if locals()[name]:
                require_version(
                    self, minimum, f"{name} was only introduced in API version {minimum}"
                )
        if extra_hosts is not None:
            require_version(self, "1.27", "extra_hosts was only introduced in API version 1.27")
        if platform is not None:
            require_version(self, "1.32", "platform was only introduced in API version 1.32")
            os_, _, arch = platform.partition("/")
            if os_ != "linux" or arch.split("/")[0] not in ("", "amd64"):
                # moby: the platform is checked before the build starts (an HTTP error)
                raise InvalidParameter(
                    f'"{platform}": unknown operating system or architecture: invalid argument'
                )
        if use_config_proxy:
            for k, v in self._proxy_configs.get_environment().items():
                buildargs.setdefault(k, v)
        if (
            fileobj is None
            and path is not None
            and path.startswith(("http://", "https://", "git://", "github.com/", "git@"))
        ):
            raise APIError(f"unable to prepare context: {PULL_ERROR}", 500)
        if fileobj is None and not os.path.isdir(path):
            raise TypeError("You must specify a directory to build in path")
        msgs = self._build_messages(
            path, fileobj, custom_context, gzip, encoding, dockerfile,
            tag=tag, buildargs=buildargs, target=target, nocache=nocache, rm=rm,
            forcerm=forcerm, quiet=quiet,
        )  # fmt: skip
        return json_lines(iter(msgs), decode)

    def _build_messages(
        self,
        path: str | None,
        fileobj: Any,
        custom_context: bool,
        gzip: bool,
        encoding: str | None,
        dockerfile: str | None,
        *,
        quiet: bool,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """Run the build now (as the request is made); its messages."""
        from dockerlayers.client.models.images import build_messages

        tmp = None
        try:
            if fileobj is not None:
                tmp = tempfile.mkdtemp(prefix="dockerlayers-build-")
                _write_context(fileobj, tmp, custom_context, gzip or encoding == "gzip")
                path = tmp
            elif dockerfile:
                abs_df = dockerfile if os.path.isabs(dockerfile) else os.path.join(path, dockerfile)
                if os.path.relpath(abs_df, path).startswith(".."):
                    # docker-py: process_dockerfile puts it in the tar as .dockerfile.<hex>
                    tmp = tempfile.mkdtemp(prefix="dockerlayers-build-")
                    shutil.copytree(path, tmp, dirs_exist_ok=True, symlinks=True)
                    dockerfile = f".dockerfile.{os.urandom(20).hex()}"
                    shutil.copyfile(abs_df, os.path.join(tmp, dockerfile))
                    path = tmp
                elif os.path.isabs(dockerfile):
                    dockerfile = os.path.relpath(abs_df, path)
            try:
                image_id, lines = self._daemon.build(
                    path, dockerfile=dockerfile or "Dockerfile", **options
                )
            except BuildError as e:
                log = [] if quiet else build_messages(list(e.build_log)[:-1], None)
                log.append(_error(e.msg))
                return log
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        if quiet:
            return [{"aux": {"ID": image_id}}, {"stream": image_id + "\n"}]
        return build_messages(lines, image_id)

    def prune_builds(
        self,
        filters: dict[str, Any] | None = None,
        keep_storage: int | None = None,
        all: bool | None = None,
    ) -> dict[str, Any]:
        """`docker builder prune`: the BuildKit cache, which the model's legacy builder never
        fills (its cache is the images themselves): {"CachesDeleted": None,
        "SpaceReclaimed": 0}, as dockerd answers with an empty cache."""
        if (filters, keep_storage, all) != (None, None, None):
            require_version(
                self,
                "1.39",
                "`filters`, `keep_storage`, and `all` args are only available for API "
                "version > 1.38",
            )
        return {"CachesDeleted": None, "SpaceReclaimed": 0}


def _error(msg: str) -> dict[str, Any]:
    """The API's error message in a build stream (errorDetail first, as moby writes it)."""
    detail: dict[str, Any] = {"message": msg}
    m = re.search(r"returned a non-zero code: (\d+)$", msg)
    if m:
        detail["code"] = int(m.group(1))
    return {"errorDetail": detail, "error": msg}


def _write_context(fileobj: Any, folder: str, custom: bool, gzipped: bool) -> None:
    """A Dockerfile (docker-py: mkbuildcontext) or a tar context, unpacked into `folder`."""
    data = fileobj.read() if hasattr(fileobj, "read") else fileobj
    if isinstance(data, str):
        data = data.encode()
    if not custom:
        with open(os.path.join(folder, "Dockerfile"), "wb") as f:
            f.write(data)
        return
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz" if gzipped else "r:*") as tf:
        tf.extractall(folder, filter="data")
