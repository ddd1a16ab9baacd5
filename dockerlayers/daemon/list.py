"""`docker ps`: the containers, newest first, with the filters it takes.

moby: daemon/list.go Containers, daemon/list.go (filters)
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dockerlayers.container.container import Container
from dockerlayers.containerd.ids import shown_image_id
from dockerlayers.daemon.volumes import inspect_mount
from dockerlayers.errors import APIError, DockerException, InvalidParameter, NotFound
from dockerlayers.filters import Args, InvalidFilter

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


#: moby: daemon/list.go acceptedPsFilterTags
ACCEPTED_PS_FILTERS = (
    "ancestor",
    "before",
    "exited",
    "id",
    "isolation",
    "label",
    "name",
    "status",
    "health",
    "since",
    "volume",
    "network",
    "is-task",
    "publish",
    "expose",
)
#: moby: container/state.go IsValidStateString, IsValidHealthString
VALID_STATES = ("paused", "restarting", "removing", "running", "dead", "created", "exited")
VALID_HEALTH = ("starting", "healthy", "unhealthy", "none")


class ListContext:
    """What the filters fold into before the walk (moby: daemon/list.go listContext)."""

    def __init__(self, filters: Args, all: bool, limit: int) -> None:
        self.filters = filters
        self.all = all
        self.limit = limit
        self.exit_allowed: list[int] = []
        self.before: Container | None = None
        self.since: Container | None = None
        self.ancestor_filter = False
        self.images: set[str] = set()
        self.task_filter = False
        self.idx = 0


def containers(
    daemon: Daemon,
    all: bool = False,
    size: bool = False,
    filters: Args | Mapping[str, Any] | None = None,
    limit: int = -1,
) -> list[dict[str, Any]]:
    """`docker ps [-a] [-s] [--filter ...] [-n N]`: newest first; `before=` skips down to
    (and past) a container, `since=` stops at one, `-n` implies `-a`.

    moby: daemon/list.go Containers, reduceContainers, filterByNameIDMatches
    """
    with daemon.locked(check_open=False):
        args = Args.of(filters)
        args.validate(ACCEPTED_PS_FILTERS)
        ctx = fold_filter(daemon, args, all, limit)
        now = daemon.clock.now()
        items = sorted(daemon.containers.values(), key=lambda c: (c.created, c.id), reverse=True)
        out = []
        image_ids: dict[str, str | None] = {}  # each name resolved once per listing
        for c in items:
            action = include_container_in_list(c, ctx)
            if action == _STOP:
                break
            if action == _EXCLUDE:
                continue
            ctx.idx += 1
            entry = {
                "Id": c.id,
                "Names": [c.name],
                "Image": refresh_image(daemon, c, image_ids),
                "ImageID": shown_image_id(daemon, c.image),
                "Command": command_string(c),
                "Created": int(c.created),
                "Ports": [],
                "Labels": c.config.get("Labels") or {},
                "State": c.state.state_string(),
                "Status": c.state.human(now),
                "HostConfig": {"NetworkMode": c.host_config.get("NetworkMode", "default")},
                "NetworkSettings": {"Networks": {}},
                "Mounts": [inspect_mount(mp) for _, mp in sorted(c.mount_points.items())],
            }
            rw = daemon.rw_layers.get(c.id)
            if size and rw is not None:
                entry["SizeRw"] = rw.size()
                entry["SizeRootFs"] = entry["SizeRw"] + (rw.parent.size() if rw.parent else 0)
            out.append(entry)
        return out


def fold_filter(daemon: Daemon, args: Args, all: bool, limit: int) -> ListContext:
    """Check the filters' values and resolve the ones that name things.

    moby: daemon/list.go foldFilter
    """
    ctx = ListContext(filters=args, all=all, limit=limit if limit is not None else -1)
    for value in args.get("exited"):
        ctx.exit_allowed.append(_atoi(value))
    for value in args.get("status"):
        if value not in VALID_STATES:
            raise InvalidFilter("status", value)
        ctx.all = True
    if args.contains("is-task"):
        if args.exact_match("is-task", "true"):
            ctx.task_filter = True  # no container is a swarm task here
        elif not args.exact_match("is-task", "false"):
            raise InvalidFilter("is-task", args.get("is-task"))
    for value in args.get("health"):
        if value not in VALID_HEALTH:
            raise InvalidParameter(f"Unrecognised filter value for health: {value}")
    for value in args.get("before"):
        ctx.before = id_or_name_filter(daemon, value)
    for value in args.get("since"):
        ctx.since = id_or_name_filter(daemon, value)
    if args.contains("ancestor"):
        ctx.ancestor_filter = True
        for value in args.get("ancestor"):
            try:
                img = daemon.image_service.get_image(value)
            except DockerException:
                continue  # moby logs "Error while looking up for image" and goes on
            _add_with_children(daemon, img.id, ctx.images)
    for key in ("publish", "expose"):
        for value in args.get(key):
            if ":" in value:
                raise APIError(f"filter for '{key}' should not contain ':': {value}", 500)
    return ctx


def _atoi(value: str) -> int:
    """Go's strconv.Atoi, with its error as the daemon returns it."""
    if not re.fullmatch(r"[+-]?\d+", value):
        raise APIError(f'strconv.Atoi: parsing "{value}": invalid syntax', 500)
    return int(value)


def _add_with_children(daemon: Daemon, image_id: str, found: set[str]) -> None:
    """An image and every image built on it (moby: populateImageFilterByParents)."""
    stack = [image_id]
    while stack:
        i = stack.pop()
        if i in found:
            continue
        found.add(i)
        stack.extend(daemon.image_service.image_store.children(i))


def id_or_name_filter(daemon: Daemon, value: str) -> Container:
    """The container `before=`/`since=` names: ID or ID prefix, else its name.

    moby: daemon/list.go idOrNameFilter (the view's error is `no such container <ref>`)
    """
    if value in daemon.containers:
        return daemon.containers[value]
    hits = [cid for cid in daemon.containers if cid.startswith(value)]
    if len(hits) == 1:
        return daemon.containers[hits[0]]
    name = "/" + value.lstrip("/")
    for c in daemon.containers.values():
        if c.name == name:
            return c
    raise NotFound(f"no such container {value}")


_INCLUDE, _EXCLUDE, _STOP = 0, 1, 2


def include_container_in_list(c: Container, ctx: ListContext) -> int:
    """Include, exclude, or stop the walk here.

    moby: daemon/list.go includeContainerInList
    """
    f = ctx.filters
    if ctx.before is not None:
        if c.id == ctx.before.id:
            ctx.before = None
        return _EXCLUDE
    if ctx.since is not None and c.id == ctx.since.id:
        return _STOP
    if not c.state.running and not ctx.all and ctx.limit <= 0:
        return _EXCLUDE
    if not f.match("name", c.name) and not f.match("name", c.name.lstrip("/")):
        return _EXCLUDE
    if not f.match("id", c.id):
        return _EXCLUDE
    if ctx.task_filter:
        return _EXCLUDE
    if not f.match_kv_list("label", c.config.get("Labels") or {}):
        return _EXCLUDE
    if not f.exact_match("isolation", c.host_config.get("Isolation") or "default"):
        return _EXCLUDE
    if ctx.limit > 0 and ctx.idx == ctx.limit:
        return _STOP
    if ctx.exit_allowed and not (
        not c.state.running and c.state.started_at and c.state.exit_code in ctx.exit_allowed
    ):
        return _EXCLUDE
    if not f.match("status", c.state.state_string()):
        return _EXCLUDE
    health = (c.state.health or {}).get("Status", "none") if c.state.health else "none"
    if not f.exact_match("health", health):
        return _EXCLUDE
    if f.contains("volume"):
        keys = set()
        for mp in c.mount_points.values():
            keys.add(mp.get("Name") or mp.get("Source"))
            if mp.get("Destination"):
                keys.add(mp["Destination"])
        if not any(v in keys for v in f.get("volume")):
            return _EXCLUDE
    if ctx.ancestor_filter and c.image not in ctx.images:
        return _EXCLUDE
    if f.contains("network"):
        return _EXCLUDE  # no container is attached to a network here
    if f.get("publish") or f.get("expose"):
        return _EXCLUDE  # no ports are published here
    return _INCLUDE


def refresh_image(
    daemon: Daemon, c: Container, image_ids: dict[str, str | None] | None = None
) -> str:
    """The IMAGE a container shows: the name it was made from while that name still means
    the same image, else the image ID. `image_ids` remembers what each name resolved to
    (None: to nothing) for the rest of one listing, which holds the daemon's lock.

    moby: daemon/list.go refreshImage
    """
    image = c.config.get("Image") or c.image
    if image != c.image:
        if image_ids is None:
            image_ids = {}
        if image not in image_ids:
            if tag_points_at(daemon, image, c.image):
                image_ids[image] = c.image
            else:
                try:
                    image_ids[image] = daemon.image_service.get_image(image).id
                except DockerException:
                    image_ids[image] = None
        if image_ids[image] != c.image:
            image = c.image
    return shown_image_id(daemon, image) if image == c.image else image


def tag_points_at(daemon: Daemon, name: str, image_id: str) -> bool:
    """True when `name` is a tag that points at `image_id` and that image is in the image
    store: what `image_service.get_image(name).id == image_id` says then, answered from
    `repositories.json` and that one image's config instead of loading every image.
    False when it cannot tell that way (no image service was made yet, but another
    image, a digest, an ID prefix or anything unusual): ask the image service.

    Ours: `docker ps` asks dockerd, which holds its image store; the CLI opens the daemon
    for every command (issue 16), and most names still mean the image they were run as.
    """
    if daemon.image_service_made or daemon.storage != "graphdriver":
        return False
    from dockerlayers.image.reference import ReferenceStore
    from dockerlayers.image.refname import parse_any_reference

    image_root = os.path.join(daemon.root, "image", daemon.layer_store.driver_name())
    try:
        ref = parse_any_reference(name)
        if (
            not ref.name
            or ReferenceStore(os.path.join(image_root, "repositories.json")).get(ref) != image_id
        ):
            return False
    except (DockerException, OSError, ValueError):
        return False
    return _in_image_store(daemon, image_root, image_id)


def _in_image_store(daemon: Daemon, image_root: str, image_id: str) -> bool:
    """Whether the image store would hold `image_id`: its config verifies against the ID
    and its top layer exists (the checks of the store's restore; a config that verifies
    is the one the store accepted when it was made, so it parses).

    moby: image/store.go restore, image/fs.go Get
    """
    import json

    from dockerlayers.digest import chain_id, from_bytes

    if not image_id.startswith("sha256:"):
        return False
    path = os.path.join(image_root, "imagedb", "content", "sha256", image_id[7:])
    try:
        with open(path, "rb") as f:
            config = f.read()
        if from_bytes(config) != image_id:
            return False
        rootfs = json.loads(config)["rootfs"]
        top = "" if rootfs.get("type") == "layers+base" else chain_id(rootfs["diff_ids"] or [])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return not top or top in daemon.layer_store.layer_map


def command_string(c: Container) -> str:
    """The COMMAND column: path and args, quoted where needed."""
    parts = [c.path, *c.args]
    return " ".join(shlex.quote(p) if (" " in p or not p) else p for p in parts)
