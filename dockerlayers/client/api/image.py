"""docker-py's ImageApiMixin on the daemon: images, history, tag, save, load, import,
pull, push, prune, distribution inspect (search is refused: the model has no Docker Hub).

docker-py: docker/api/image.py, docker/api/distribution.py
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from typing import Any

from dockerlayers.client.api.client import APIBase, check_resource, json_lines
from dockerlayers.errors import APIError, DockerException

DEFAULT_DATA_CHUNK_SIZE = 1024 * 2048

#: what dockerd 20.10 answers offline to GET /images/search
SEARCH_ERROR = (
    'Get "https://index.docker.io/v1/search?q={term}&n={limit}": dial tcp: lookup '
    "index.docker.io: no such host"
)


def _status_text(image_id: str) -> str:
    """The Engine API's import answer: one JSON status line."""
    return json.dumps({"status": image_id}, separators=(",", ":")) + "\r\n"


class ImageApiMixin(APIBase):
    """The image calls of docker-py's APIClient."""

    def images(
        self,
        name: str | None = None,
        quiet: bool = False,
        all: bool = False,
        filters: dict[str, Any] | None = None,
    ) -> list[Any]:
        """`docker images` rows as GET /images/json answers (IDs with `quiet`)."""
        flt = dict(filters or {})
        if name:
            flt["reference"] = name
        rows = self._daemon.images(all=all, filters=flt)
        if quiet:
            return [r.id for r in rows]
        return [_summary(r) for r in rows]

    @check_resource("image")
    def inspect_image(self, image: str) -> dict[str, Any]:
        return self._daemon.image_inspect(image)

    @check_resource("image")
    def remove_image(
        self, image: str, force: bool = False, noprune: bool = False
    ) -> list[dict[str, str]]:
        """`docker rmi`: [{"Untagged": ...}, {"Deleted": ...}]."""
        return self._daemon.remove_image(image, force=force, prune=not noprune)

    @check_resource("image")
    def history(self, image: str) -> list[dict[str, Any]]:
        """`docker history` rows as GET /images/{name}/history answers (newest first)."""
        return [
            {
                "Id": h.id,
                "Created": h.created,
                "CreatedBy": h.created_by,
                "Tags": h.tags or None,
                "Size": h.size,
                "Comment": h.comment,
            }
            for h in self._daemon.image_service.history(image)
        ]

    @check_resource("image")
    def tag(self, image: str, repository: str, tag: str | None = None, force: bool = False) -> bool:
        """`POST /images/{name}/tag?repo=&tag=`: `repository` (its own tag replaced by `tag`
        when given; `latest` when neither has one). True."""
        self._daemon.image_service.tag(image, repository, tag or "")
        return True

    def get_image(
        self, image: str, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """`docker save IMAGE` as tar chunks (spooled to a temporary file, memory flat)."""
        from dockerlayers.client.models.containers import spooled_chunks

        gen, _ = spooled_chunks(lambda f: self._daemon.save([image], out=f), chunk_size)
        return gen

    def load_image(self, data: Any, quiet: bool | None = None) -> Iterator[dict[str, Any]]:
        """`docker load` of a tar (bytes or a file object): the decoded messages
        ({"stream": "Loaded image: ...\\n"}); an archive that is no image is
        {"errorDetail": ..., "error": ...}, as the API streams it.

        docker-py: docker/api/image.py load_image
        """
        if isinstance(data, str):
            data = data.encode()
        if isinstance(data, (bytes, bytearray)):
            data = io.BytesIO(data)
        elif not hasattr(data, "read"):  # chunks (get_image's generator), as requests sends them
            data = _spool(data)
        try:
            self._daemon.load(data)
        except APIError as e:
            msgs = [
                {
                    "errorDetail": {"message": str(e.explanation or e)},
                    "error": str(e.explanation or e),
                }
            ]
            return iter(msgs)
        return iter({"stream": line + "\n"} for line in self._daemon.last_load_output)

    def import_image(
        self,
        src: Any = None,
        repository: str | None = None,
        tag: str | None = None,
        image: str | None = None,
        changes: list[str] | None = None,
        stream_src: bool = False,
    ) -> str:
        """`docker import` of a tar (a path, bytes, or a file object), or with `image` a
        pull of that image: the Engine API's answer text ({"status": "sha256:..."}).
        A URL is refused, as the model has no network (the CLI's import refuses it too).

        docker-py: docker/api/image.py import_image
        """
        if not (src or image):
            raise DockerException("Must specify src or image to import from")
        if image:
            return self.pull(image)
        if isinstance(src, str) and not os.path.isfile(src):
            if src.startswith(("http://", "https://")):
                raise APIError(
                    f"importing from a URL ({src}) needs a network the model has not", 500
                )
            raise APIError(f"open {src}: no such file or directory", 500)
        if isinstance(src, str):
            with open(src, "rb") as f:
                image_id = self._daemon.import_image(f, repository, tag, changes=changes)
        else:
            image_id = self._daemon.import_image(
                src if isinstance(src, (bytes, bytearray)) else src,
                repository,
                tag,
                changes=changes,
            )
        return _status_text(image_id)

    def import_image_from_data(
        self, data: bytes, repository: str | None = None, tag: str | None = None,
        changes: list[str] | None = None,
    ) -> str:  # fmt: skip
        """`import_image` of tar bytes."""
        return _status_text(self._daemon.import_image(data, repository, tag, changes=changes))

    def import_image_from_file(
        self, filename: str, repository: str | None = None, tag: str | None = None,
        changes: list[str] | None = None,
    ) -> str:  # fmt: skip
        """`import_image` of a tar file."""
        return self.import_image(filename, repository=repository, tag=tag, changes=changes)

    def import_image_from_stream(
        self, stream: Any, repository: str | None = None, tag: str | None = None,
        changes: list[str] | None = None,
    ) -> str:  # fmt: skip
        """`import_image` of a file object (read to its end)."""
        return self.import_image(stream, repository=repository, tag=tag, changes=changes,
                                 stream_src=True)  # fmt: skip

    def import_image_from_url(
        self, url: str, repository: str | None = None, tag: str | None = None,
        changes: list[str] | None = None,
    ) -> str:  # fmt: skip
        """Refused: the model has no network (`docker import URL` is refused the same way)."""
        raise APIError(f"importing from a URL ({url}) needs a network the model has not", 500)

    def import_image_from_image(
        self, image: str, repository: str | None = None, tag: str | None = None,
        changes: list[str] | None = None,
    ) -> str:  # fmt: skip
        """The Engine API's `fromImage`: a pull of `image`."""
        return self.import_image(image=image, repository=repository, tag=tag, changes=changes)

    def prune_images(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """`docker image prune`: {"ImagesDeleted": [...], "SpaceReclaimed": n}."""
        return self._daemon.prune_images(filters)

    def search(self, term: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Refused: there is no Docker Hub to search (the error dockerd gives offline)."""
        raise APIError(SEARCH_ERROR.format(term=term, limit=limit or 25), 500)

    def pull(
        self,
        repository: str,
        tag: str | None = None,
        stream: bool = False,
        auth_config: dict[str, str] | None = None,
        decode: bool = False,
        platform: str | None = None,
        all_tags: bool = False,
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
            return json_lines(msgs, decode)
        return "".join(json.dumps(m, separators=(",", ":")) + "\r\n" for m in msgs)

    def push(
        self,
        repository: str,
        tag: str | None = None,
        stream: bool = False,
        auth_config: dict[str, str] | None = None,
        decode: bool = False,
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

    @check_resource("image")
    def inspect_distribution(
        self, image: str, auth_config: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """GET /distribution/{name}/json: the registry's descriptor of the image's manifest
        (or list) and the platforms it holds.

        moby: api/server/router/distribution/distribution_routes.go getDistributionInfo
        """
        import hashlib

        from dockerlayers.client.models.images import registry_config
        from dockerlayers.distribution import manifest as mf
        from dockerlayers.distribution.pull import _get_manifest
        from dockerlayers.distribution.registry import Session
        from dockerlayers.image.refname import parse_normalized_named

        named = parse_normalized_named(image)
        ref = named if getattr(named, "digest", None) else named.tag_name_only()
        creds = None
        if auth_config and auth_config.get("username"):
            creds = (auth_config["username"], auth_config.get("password") or "")
        s = Session(
            registry_config(self._daemon), named.domain, creds or self.credentials_for(image)
        )
        raw, mtype = _get_manifest(s, ref, ref.digest or ref.tag)
        descriptor = {
            "mediaType": mtype,
            "digest": "sha256:" + hashlib.sha256(raw).hexdigest(),
            "size": len(raw),
        }
        body = json.loads(raw)
        if mtype in mf.LISTS:
            platforms = [m.get("platform") or {} for m in body.get("manifests") or []]
        else:
            r = s.request(
                "GET",
                f"/v2/{ref.path}/blobs/{body['config']['digest']}",
                scope=f"repository:{ref.path}:pull",
            )
            cfg = r.json() if r.status_code == 200 else {}
            platforms = [
                {
                    k: v
                    for k, v in (
                        ("architecture", cfg.get("architecture", "")),
                        ("os", cfg.get("os", "")),
                        ("variant", cfg.get("variant")),
                    )
                    if v is not None
                }
            ]
        return {"Descriptor": descriptor, "Platforms": platforms}


def _spool(chunks: Any) -> Any:
    """Chunks in a temporary file (memory stays flat), read from its start."""
    import tempfile

    f = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the load
    for chunk in chunks:
        f.write(chunk)
    f.seek(0)
    return f


def _summary(r: Any) -> dict[str, Any]:
    """An ImageSummary as GET /images/json's JSON (moby: api/types/image Summary)."""
    return {
        "Containers": r.containers,
        "Created": r.created,
        "Id": r.id,
        "Labels": r.labels or None,
        "ParentId": r.parent_id,
        "RepoDigests": r.repo_digests,
        "RepoTags": r.repo_tags,
        "SharedSize": r.shared_size,
        "Size": r.size,
        "VirtualSize": r.size,
    }
