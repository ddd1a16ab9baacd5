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
from collections.abc import Mapping
from typing import Any, BinaryIO

from dockerlayers.errors import APIError
from dockerlayers.filters import Args, InvalidFilter, match_labels, until_from_prune_filters
from dockerlayers.image import jsonenc
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
        # moby: daemon/images/image_inspect.go (commit -m is the last history entry's)
        "Comment": img.comment or (img.history[-1].comment if img.history else ""),
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


#: moby: daemon/images/image_prune.go imagesAcceptedFilters
IMAGES_PRUNE_ACCEPTED_FILTERS = ("dangling", "label", "label!", "until")


def prune_images(
    svc: ImageService, filters: Args | Mapping[str, Any] | None = None, *, now: float
) -> dict[str, Any]:
    """`docker image prune [-a] [--filter ...]`: dangling images (with `dangling=false`,
    every image) that no container uses, matching `label`, not `label!`, created before
    `until`. A tagged image goes only with `-a`; an image in use is skipped (its delete
    conflicts); the space reclaimed is the diff size of each layer deleted.

    moby: daemon/images/image_prune.go ImagesPrune
    """
    args = Args.of(filters)
    args.validate(IMAGES_PRUNE_ACCEPTED_FILTERS)
    dangling_only = True
    if args.contains("dangling"):
        if args.exact_match("dangling", "false") or args.exact_match("dangling", "0"):
            dangling_only = False
        elif not args.exact_match("dangling", "true") and not args.exact_match("dangling", "1"):
            raise InvalidFilter("dangling", args.get("dangling"))
    until = until_from_prune_filters(args, now)
    own = getattr(svc, "prune_records", None)
    if own is not None:  # the containerd store prunes its records (moby 29: image_prune.go)
        return own(args, dangling_only, until)
    store = svc.image_store
    candidates = store.heads() if dangling_only else store.map()
    diff_sizes = {chain: layer.diff_size() for chain, layer in svc.layer_store.map().items()}
    top: list[str] = []
    for id, img in sorted(candidates.items()):
        if not svc.references(id) and store.children(id):
            continue  # an intermediate image: it goes with its child
        if until is not None and jsonenc.parse_rfc3339(img.created) / 1e9 > until:
            continue
        if not match_labels(args, dict(img.run_config().labels or {})):
            continue
        top.append(id)
    deleted: list[dict[str, str]] = []
    #: the containerd store counts the content blobs deleted (moby 29: image_prune.go)
    content_before = getattr(svc, "content_reclaimed", None)
    for id in top:
        refs = svc.references(id)
        items: list[dict[str, str]] = []
        if refs:
            if dangling_only and any(r.tag for r in refs):
                continue
            for ref in refs:
                try:
                    items.extend(remove_image(svc, familiar_string(ref), prune=True))
                except APIError:
                    continue
        else:
            try:
                items.extend(remove_image(svc, id.removeprefix("sha256:"), prune=True))
            except APIError:
                continue
        deleted.extend(items)
    reclaimed = sum(diff_sizes.get(d["Deleted"], 0) for d in deleted if "Deleted" in d)
    if content_before is not None:
        reclaimed = svc.content_reclaimed - content_before
    return {"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed}


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


def pull(svc: ImageService, ref: str) -> str:
    """`docker pull REF` of the built-in base (`base`, `base:latest`), made locally: the
    image's ID. Any other image comes from its registry (dockerlayers/distribution).

    moby: daemon/images/image_pull.go PullImage
    """
    from dockerlayers import baseimage
    from dockerlayers.image.refname import familiar_name, parse_normalized_named

    named = parse_normalized_named(ref)
    if not named.digest and f"{familiar_name(named)}:{named.tag or 'latest'}" == (
        baseimage.BASE_REFERENCE
    ):
        return base_image(svc)
    from dockerlayers.distribution import service

    return service.pull(svc, ref)[0]
