"""The image verbs the daemon answers: image inspect, import, load, save, rmi, image prune,
the commit of a container's RW layer into an image, and the built-in base image.

Each takes the image service (and, for commit, the layer store); the daemon holds its lock
around them and tells them what they need of the containers (which images are in use) as
plain values, so this floor never imports the daemon.

moby: daemon/images/ (image_inspect.go, image_import.go, image_exporter.go,
image_delete.go, image_prune.go, image_commit.go)
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any, BinaryIO

from dockerlayers.errors import APIError
from dockerlayers.image.image import ContainerConfig, new_child_image
from dockerlayers.image.refname import familiar_string
from dockerlayers.image.service import ImageService
from dockerlayers.layer import LayerStore


def image_inspect(svc: ImageService, ref: str, driver_name: str) -> dict[str, Any]:
    """`docker image inspect`.

    moby: daemon/images/image_inspect.go (20.10 field set)
    """
    img = svc.get_image(ref)
    layer = svc.image_store.get_layer(img.id)
    size = layer.size() if layer is not None else 0
    meta = layer.metadata() if layer is not None else None
    tags, digests = [], []
    for r in svc.references(img.id):
        (digests if r.digest else tags).append(familiar_string(r))
    data = json.loads(img.raw_json or img.marshal())
    return {
        "Id": img.id,
        "RepoTags": tags,
        "RepoDigests": digests,
        "Parent": img.parent or "",
        "Comment": img.comment,
        "Created": img.created,
        "Container": img.container,
        "ContainerConfig": data.get("container_config") or {},
        "DockerVersion": img.docker_version,
        "Author": img.author,
        "Config": data.get("config"),
        "Architecture": img.architecture,
        "Os": img.os,
        "Size": size,
        "VirtualSize": size,
        "GraphDriver": {"Data": meta, "Name": driver_name},
        "RootFS": {
            "Type": "layers",
            "Layers": list(img.rootfs.diff_ids) if img.rootfs else [],
        },
        "Metadata": {
            "LastTagTime": svc.image_store.get_last_updated(img.id) or "0001-01-01T00:00:00Z"
        },
    }


def base_image(svc: ImageService) -> str:
    """The built-in base image's ID, importing it on first use (same ID every time).

    Made like `docker import` of a busybox rootfs with CMD ["sh"], dated 2024-01-01.
    """
    from dockerlayers import baseimage
    from dockerlayers.image.errors import ImageNotFound
    from dockerlayers.image.importer import import_image as _import
    from dockerlayers.image.jsonenc import format_rfc3339_nano

    try:
        return svc.get_image(baseimage.BASE_REFERENCE).id
    except ImageNotFound:
        pass
    return _import(
        svc.image_store,
        svc.reference_store,
        baseimage.rootfs_tar(),
        created=format_rfc3339_nano(baseimage.BASE_EPOCH * 1_000_000_000),
        repository=baseimage.BASE_REPOSITORY,
        tag=baseimage.BASE_TAG,
        changes=['CMD ["sh"]', "ENV " + baseimage.CONFIG["Env"][0]],
    )


def import_image(
    svc: ImageService,
    tar: BinaryIO | bytes | str,
    repository: str | None = None,
    tag: str | None = None,
    changes: list[str] | None = None,
    message: str | None = None,
) -> str:
    """`docker import`: one layer, DiffID = sha256 of the tar exactly as given.

    moby: daemon/images/image_import.go ImportImage
    """
    return svc.import_image(
        tar, repository or "", tag or "", message=message or "", changes=changes or ()
    )


def load(svc: ImageService, data: BinaryIO | bytes | str) -> tuple[list[str], list[str]]:
    """`docker load`: (the IDs of the images loaded, the lines docker prints).

    moby: daemon/images/image_exporter.go LoadImage
    """
    before = set(svc.image_store.map())
    lines = svc.load(data)
    loaded = [i for i in svc.image_store.map() if i not in before]
    for line in lines:
        ref = line.split(": ", 1)[-1]
        try:
            image_id = svc.get_image(ref).id
        except APIError:
            continue
        if image_id not in loaded:
            loaded.append(image_id)
    return loaded, lines


def save(svc: ImageService, refs: list[str], format: str = "docker") -> bytes:
    """`docker save` of `refs` as tar bytes.

    moby: daemon/images/image_exporter.go ExportImage
    """
    out = io.BytesIO()
    svc.save(refs, out, format)
    return out.getvalue()


def remove_image(
    svc: ImageService, ref: str, force: bool = False, prune: bool = True
) -> list[dict[str, str]]:
    """`docker rmi`: Untagged/Deleted items, with Docker's conflict rules.

    moby: daemon/images/image_delete.go ImageDelete
    """
    items = svc.remove(ref, force=force, prune=prune)
    return [{"Untagged": i.untagged} if i.untagged else {"Deleted": i.deleted} for i in items]


def prune_images(
    svc: ImageService, used: Iterable[str], filters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`docker image prune`: dangling images no container uses (`used`: their image IDs).

    moby: daemon/images/image_prune.go ImagesPrune
    """
    in_use = set(used)
    dangling = [str(v).lower() for v in (filters or {}).get("dangling", [])]
    dangling_only = not any(v in ("false", "0") for v in dangling)
    deleted: list[dict[str, str]] = []
    for summary in svc.images(all=False, dangling=True if dangling_only else None):
        if summary.id in in_use:
            continue
        tags = [t for t in summary.repo_tags if t != "<none>:<none>"]
        # `-a` (dangling=false): a tagged image goes by removing each of its references
        for ref in [*tags, summary.id] if tags else [summary.id]:
            try:
                deleted.extend(remove_image(svc, ref, prune=True))
            except APIError:
                continue
    return {"ImagesDeleted": deleted or None, "SpaceReclaimed": 0}


def commit_image(
    svc: ImageService,
    layer_store: LayerStore,
    *,
    container_id: str,
    parent_id: str,
    container_config: ContainerConfig,
    config: ContainerConfig,
    author: str = "",
    comment: str = "",
) -> str:
    """A container's RW layer (its diff against the init layer) registered on the parent
    image's top layer, and the child image made from it; returns the new image's ID.

    moby: daemon/images/image_commit.go CommitImage (exportContainerRw, NewChildImage)
    """
    parent = svc.get_image(parent_id)
    parent_chain = parent.rootfs.chain_id() if parent.rootfs is not None else None
    rw = layer_store.get_rw_layer(container_id)
    try:
        with rw.tar_stream() as tar:
            layer = layer_store.register(tar, parent_chain)
    finally:
        layer_store.release_rw_layer(rw)
    try:
        child = new_child_image(
            parent,
            diff_id=layer.diff_id,
            created=svc.now(),
            container_config=container_config,
            config=config,
            container_id=container_id,
            author=author,
            comment=comment,
        )
        return svc.create_image(child.marshal(), parent=parent.id)
    finally:
        layer_store.release(layer)
