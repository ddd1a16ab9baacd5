"""`client.images` and Image, shaped like docker-py's.

`build()` returns `(image, generator of dicts)` with the Engine API's build messages
(`{"stream": ...}`, `{"aux": {"ID": ...}}`, `{"error": ..., "errorDetail": ...}`) and raises
BuildError(reason, build_log) as docker-py does; `save()` yields tar chunks.

docker-py: docker/models/images.py, docker/api/build.py, docker/api/image.py
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from dockerlayers.client.models.resource import Collection, Model
from dockerlayers.errors import (
    APIError,
    BuildError,
    ImageLoadError,
    InvalidArgument,
    NullResource,
)

DEFAULT_DATA_CHUNK_SIZE = 1024 * 2048


class Image(Model):
    """An image; `attrs` is `docker image inspect`."""

    def __repr__(self) -> str:
        tag_str = "', '".join(self.tags)
        return f"<{type(self).__name__}: '{tag_str}'>"

    @property
    def labels(self) -> dict[str, str]:
        return (self.attrs.get("Config") or {}).get("Labels") or {}

    @property
    def short_id(self) -> str:
        """`sha256:` plus 12 hex characters, as docker-py shows it."""
        return self.id[:19] if self.id.startswith("sha256:") else self.id[:12]

    @property
    def tags(self) -> list[str]:
        return [t for t in self.attrs.get("RepoTags") or [] if t != "<none>:<none>"]

    def history(self) -> list[dict[str, Any]]:
        """`docker history` rows as the API returns them (newest first)."""
        return self.client.api.history(self.id)

    def remove(self, force: bool = False, noprune: bool = False) -> list[dict[str, str]]:
        """`docker rmi` of this image's ID."""
        return self.client.images.remove(self.id, force=force, noprune=noprune)

    def save(
        self, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE, named: bool | str = False
    ) -> Iterator[bytes]:
        """`docker save` of this image, as tar chunks. `named=True` saves it under its
        first tag, a string under that tag (it must be one of the image's)."""
        img = self.id
        if named:
            img = self.tags[0] if self.tags else img
            if isinstance(named, str):
                if named not in self.tags:
                    raise InvalidArgument(f"{named} is not a valid tag for this image")
                img = named
        return self.client.api.get_image(img, chunk_size)

    def tag(self, repository: str, tag: str | None = None, **kwargs: Any) -> bool:
        """Tag the image `repository[:tag]` (`latest` when no tag is given)."""
        return self.client.api.tag(self.id, repository, tag=tag, **kwargs)


class ImageCollection(Collection):
    """`client.images`."""

    model = Image

    @property
    def _service(self):  # noqa: ANN202
        return self._daemon.image_service

    def get(self, name: str) -> Image:
        if not name:
            raise NullResource("Resource ID was not provided")
        return self.prepare_model(self._daemon.image_inspect(name))

    def base(self) -> Image:
        """The built-in base image (busybox-like, no network needed), loaded on first use
        (the model's own; on Docker, `client.images.pull("busybox")`)."""
        return self.get(self._daemon.base_image())

    def list(
        self, name: str | None = None, all: bool = False, filters: dict[str, Any] | None = None
    ) -> list[Image]:
        """`docker images [NAME]`; filters: dangling, label, reference."""
        filters = dict(filters or {})
        if name:
            filters["reference"] = name
        rows = self._daemon.images(all=all, filters=filters)
        return [self.get(row.id) for row in rows]

    def load(self, data: bytes | str | BinaryIO) -> list[Image]:
        """`docker load` of a tar (bytes or a file object): the images loaded. What is not
        an image archive raises ImageLoadError with the daemon's words."""
        if isinstance(data, str):
            data = data.encode()
        if isinstance(data, (bytes, bytearray)):
            data = io.BytesIO(data)
        try:
            ids = self._daemon.load(data)
        except APIError as e:
            raise ImageLoadError(str(e)) from None
        return [self.get(i) for i in ids]

    def save(self, ref: str | list[str], format: str = "docker") -> bytes:
        """`docker save REF...` as bytes (the model's own; docker-py saves from Image.save)."""
        return self._daemon.save(ref if isinstance(ref, list) else [ref], format=format)

    def pull(
        self,
        repository: str,
        tag: str | None = None,
        all_tags: bool = False,
        **kwargs: Any,
    ) -> Image | list[Image]:
        """`docker pull`: the built-in `base` is made locally; any other image comes from
        its registry (dockerlayers/distribution; `registry-mirrors` and
        `insecure-registries` from `<root>/daemon.json`).

        docker-py: docker/models/images.py ImageCollection.pull
        """
        repository, image_tag = parse_repository_tag(repository)
        tag = tag or image_tag or "latest"
        sep = "@" if tag.startswith("sha256:") else ":"
        if is_base(repository, tag) and not all_tags:
            self._daemon.pull(f"{repository}{sep}{tag}")
        else:
            from dockerlayers.distribution import service

            service.sdk_pull(
                self._daemon.image_service,
                repository,
                None if all_tags else tag,
                all_tags,
                platform=kwargs.get("platform"),
                config=registry_config(self._daemon),
                credentials=self.client.api.credentials_for(repository),
            )
        if all_tags:
            return self.list(repository)
        return self.get(f"{repository}{sep}{tag}")

    def push(
        self,
        repository: str,
        tag: str | None = None,
        stream: bool = False,
        decode: bool = False,
        **kwargs: Any,
    ) -> Any:
        """`docker push` to the image's registry: the Engine API's output (a string, or
        with `stream` its lines; dicts with `decode`); errors come inside it.

        docker-py: docker/models/images.py ImageCollection.push (api/image.py push)
        """
        return self.client.api.push(repository, tag, stream=stream, decode=decode, **kwargs)

    def import_image(
        self,
        tar: bytes | str,
        repository: str | None = None,
        tag: str | None = None,
        changes: list[str] | None = None,
        message: str | None = None,
    ) -> Image:
        """`docker import` (the model's name; docker-py's APIClient.import_image)."""
        image_id = self._daemon.import_image(tar, repository, tag, changes=changes, message=message)
        return self.get(image_id)

    def build(self, **kwargs: Any) -> tuple[Image, Iterator[dict[str, Any]]]:
        """`docker build` (the legacy builder): (image, generator of the build's messages).
        The context is `path` (a folder) or `fileobj` (a Dockerfile, or a tar with
        `custom_context=True`, gzip with `encoding="gzip"`).

        docker-py: docker/models/images.py ImageCollection.build, docker/api/build.py
        """
        kwargs.setdefault("rm", True)  # the model's default (docker-py's is False)
        resp = self.client.api.build(**kwargs, decode=True)
        msgs = list(resp)
        image_id = None
        for msg in msgs:
            if "error" in msg:
                raise BuildError(msg["error"], iter(msgs))
            if "aux" in msg and "ID" in msg["aux"]:
                image_id = msg["aux"]["ID"]
        if image_id is None:
            raise BuildError(msgs[-1] if msgs else "Unknown", iter(msgs))
        return self.get(image_id), iter(msgs)

    def remove(
        self, image: str, force: bool = False, noprune: bool = False
    ) -> list[dict[str, str]]:
        """`docker rmi`: [{"Untagged": ...}, {"Deleted": ...}]."""
        return self._daemon.remove_image(image, force=force, prune=not noprune)

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """`docker image prune`: {"ImagesDeleted": [...], "SpaceReclaimed": n}."""
        return self._daemon.prune_images(filters)

    def prune_builds(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """`docker builder prune` (docker-py: ImageCollection.prune_builds -> api)."""
        return self.client.api.prune_builds(*args, **kwargs)

    def search(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """Refused: no Docker Hub to search (docker-py: ImageCollection.search -> api)."""
        return self.client.api.search(*args, **kwargs)


def build_messages(lines: list[str], image_id: str | None) -> list[dict[str, Any]]:
    """The legacy builder's lines as the Engine API streams them: a step line and its
    newline apart, `aux` with the image ID just before `Successfully built`.

    moby: builder/dockerfile/builder.go, api/server/router/build (aux: types.BuildResult)
    """
    out: list[dict[str, Any]] = []
    for line in lines:
        if image_id and line.startswith("Successfully built "):
            out.append({"aux": {"ID": image_id}})
        if line.startswith("Step "):
            out.append({"stream": line})
            out.append({"stream": "\n"})
        else:
            out.append({"stream": line + "\n"})
    return out


def parse_repository_tag(repo_name: str) -> tuple[str, str | None]:
    """docker-py: docker/utils/utils.py parse_repository_tag"""
    parts = repo_name.rsplit("@", 1)
    if len(parts) == 2:
        return parts[0], parts[1]
    parts = repo_name.rsplit(":", 1)
    if len(parts) == 2 and "/" not in parts[1]:
        return parts[0], parts[1]
    return repo_name, None


def is_base(repository: str, tag: str) -> bool:
    """The model's built-in base image (`base`, `docker.io/library/base`), made locally."""
    from dockerlayers.baseimage import BASE_REPOSITORY, BASE_TAG

    name = repository.removeprefix("docker.io/").removeprefix("library/")
    return name == BASE_REPOSITORY and tag == BASE_TAG


def registry_config(daemon: Any) -> Any:
    """The daemon's registry settings (`<root>/daemon.json`: mirrors, insecure registries)."""
    from dockerlayers.distribution.registry import RegistryConfig

    return RegistryConfig.from_daemon_json(daemon.root, **getattr(daemon, "registry_options", {}))
