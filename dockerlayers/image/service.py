"""The image service the daemon owns: look-ups, `docker images`, tag, rmi, history,
import, save and load, over the image store, the tag store and the layer store.

The daemon tells the service which containers use an image through `container_uses`
(image ID -> containers, each with its ID and whether it is running), which is what
`docker rmi` needs for its conflict rules.

moby: daemon/images/ (image.go GetImage, images.go Images, image_tag.go,
image_delete.go ImageDelete, image_history.go, image_import.go, image_exporter.go)
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from dockerlayers.filters import Args, InvalidFilter, familiar_match
from dockerlayers.image import jsonenc
from dockerlayers.image.errors import ConflictError, ImageError, ImageNotFound, InvalidReference
from dockerlayers.image.image import Image
from dockerlayers.image.reference import ReferenceStore
from dockerlayers.image.refname import (
    Reference,
    familiar_name,
    familiar_string,
    is_image_id_prefix,
    parse_any_reference,
    parse_normalized_named,
)
from dockerlayers.image.rootfs import RootFS
from dockerlayers.image.store import ImageStore
from dockerlayers.image.units import human_duration, human_size
from dockerlayers.layer import LayerStore
from dockerlayers.stringid import truncate_id

if TYPE_CHECKING:
    from dockerlayers.image.tarexport import TarExporter


@dataclass(frozen=True)
class ContainerUse:
    """A container created from an image, as the daemon reports it."""

    id: str
    running: bool


ContainerUsesFunc = Callable[[str], Sequence[ContainerUse]]


@dataclass(frozen=True)
class DeleteItem:
    """One line of `docker rmi`'s report: `Untagged: <ref>` or `Deleted: <id>`.

    moby: api/types/image ImageDeleteResponseItem
    """

    untagged: str = ""
    deleted: str = ""

    def __str__(self) -> str:
        return f"Untagged: {self.untagged}" if self.untagged else f"Deleted: {self.deleted}"


@dataclass
class ImageSummary:
    """One image as `docker images` (GET /images/json) lists it.

    moby: api/types/image Summary, daemon/images/images.go newImageSummary
    """

    id: str
    parent_id: str
    repo_tags: list[str]
    repo_digests: list[str]
    created: int  # Unix seconds
    size: int
    labels: dict[str, str] = field(default_factory=dict)
    containers: int = -1
    shared_size: int = -1
    created_ns: int = 0  # the config's full `created`, which orders images

    def rows(self) -> list[tuple[str, str, str]]:
        """(REPOSITORY, TAG, IMAGE ID) per tag, `<none>` for an untagged image, as the CLI
        splits them."""
        out = []
        for repo_tag in self.repo_tags:
            if repo_tag == "<none>:<none>":
                out.append(("<none>", "<none>", truncate_id(self.id)))
                continue
            repo, _, tag = repo_tag.rpartition(":")
            out.append((repo, tag, truncate_id(self.id)))
        return out


@dataclass
class HistoryItem:
    """One row of `docker history` (newest first); `id` is `<missing>` for steps whose
    image is not in the store.

    moby: api/types/image HistoryResponseItem
    """

    id: str
    created: int  # Unix seconds
    created_by: str
    tags: list[str]
    size: int
    comment: str


class _ImageDeleteConflict(ConflictError):
    """moby: daemon/images/image_delete.go imageDeleteConflict"""

    def __init__(self, id: str, hard: bool, message: str, used: bool = False) -> None:
        self.hard, self.used = hard, used
        force = "cannot be forced" if hard else "must be forced"
        super().__init__(f"conflict: unable to delete {truncate_id(id)} ({force}) - {message}")


_CONFLICT_DEPENDENT_CHILD = 1
_CONFLICT_RUNNING_CONTAINER = 2
_CONFLICT_ACTIVE_REFERENCE = 4
_CONFLICT_STOPPED_CONTAINER = 8
_CONFLICT_HARD = _CONFLICT_DEPENDENT_CHILD | _CONFLICT_RUNNING_CONTAINER
_CONFLICT_SOFT = _CONFLICT_ACTIVE_REFERENCE | _CONFLICT_STOPPED_CONTAINER


#: moby: daemon/images/images.go acceptedImageFilterTags
ACCEPTED_IMAGE_FILTERS = ("dangling", "label", "before", "since", "reference")


class ImageService:
    """Images of one daemon root.

    `root` is the daemon root; the image store is `<root>/image/<driver>/imagedb` and the
    tags are `<root>/image/<driver>/repositories.json`. `now_ns` is the daemon clock in
    integer nanoseconds (times written into configs and metadata); `container_uses`
    answers which containers use an image (none when not given).

    moby: daemon/images/service.go ImageService
    """

    def __init__(
        self,
        root: str,
        layer_store: LayerStore,
        *,
        now_ns: Callable[[], int] | None = None,
        container_uses: ContainerUsesFunc | None = None,
        log_event: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.root = os.path.abspath(root)
        self.layer_store = layer_store
        self.now_ns = now_ns or time.time_ns
        self.container_uses: ContainerUsesFunc = container_uses or (lambda id: ())
        self.log_event = log_event
        self.image_store = self._new_image_store()
        self.reference_store = self._new_reference_store()

    def _new_image_store(self) -> ImageStore:
        """The image store: `<root>/image/<driver>/imagedb`."""
        return ImageStore(self.root, self.layer_store, now_ns=self.now_ns)

    def _new_reference_store(self) -> ReferenceStore:
        """The tag store: `<root>/image/<driver>/repositories.json`."""
        return ReferenceStore(
            os.path.join(self.root, "image", self.layer_store.driver_name(), "repositories.json")
        )

    @functools.cached_property
    def exporter(self) -> TarExporter:
        """save and load (made when first used: most commands do neither)."""
        from dockerlayers.image.tarexport import TarExporter

        return TarExporter(
            self.image_store,
            self.layer_store,
            self.reference_store,
            self.layer_store.tmp_dir,
            self.log_event,
        )

    def __repr__(self) -> str:
        return f"<ImageService {len(self.image_store)} images>"

    def _event(self, id: str, ref: str, action: str) -> None:
        if self.log_event is not None:
            self.log_event(id, ref, action)

    def now(self) -> str:
        """The daemon clock as an RFC3339Nano string (for `created` fields)."""
        return jsonenc.format_rfc3339_nano(self.now_ns())

    # -- look-ups --------------------------------------------------------------------------------
    def get_image(self, ref_or_id: str) -> Image:
        """An image by reference (`busybox`, `me/app:1`), full ID, `sha256:` ID or ID prefix:
        tag store first, then ID prefix. Unknown: `No such image: <ref>`.

        moby: daemon/images/image.go GetImage, errors.go ErrImageDoesNotExist
        """
        try:
            ref = parse_any_reference(ref_or_id)
        except InvalidReference:
            raise
        if not ref.name:
            if ref.digest in self.image_store:
                return self.image_store.get(ref.digest)
            raise ImageNotFound(f"No such image: {ref.digest}")
        try:
            id = self.reference_store.get(ref)
            if id in self.image_store:
                return self.image_store.get(id)
        except ImageNotFound:
            pass
        try:
            return self.image_store.get(self.image_store.search(ref_or_id))
        except ImageNotFound:
            pass
        shown = ref if ref.digest else ref.tag_name_only()
        raise ImageNotFound(f"No such image: {familiar_string(shown)}")

    def image_id(self, id: str) -> str:
        """The image ID clients see for the store's ID: the same (the config digest).
        The containerd mode's service answers Docker 29's (containerd/imageservice.py)."""
        return id

    def references(self, id: str) -> list[Reference]:
        return self.reference_store.references(id)

    def repo_tags(self, id: str) -> list[str]:
        return [familiar_string(r) for r in self.references(id) if r.tag]

    def size(self, id: str) -> int:
        """Size of the image's whole layer chain."""
        layer = self.image_store.get_layer(id)
        return layer.size() if layer is not None else 0

    def images(
        self,
        all: bool = False,
        dangling: bool | None = None,
        filters: Args | Mapping[str, Any] | None = None,
    ) -> list[ImageSummary]:
        """`docker images [--filter ...]`: tagged images, and untagged ones without children
        (with `all`, every image); newest first. Filters: `dangling`, `label`, `before` and
        `since` (strictly older / newer than that image), `reference` (Go path.Match globs
        on each tag; only the matching tags are listed). `dangling` is the same as
        `filters={"dangling": ...}`.

        moby: daemon/images/images.go Images
        """
        args = Args.of(filters)
        if dangling is not None:
            args.add("dangling", "true" if dangling else "false")
        args.validate(ACCEPTED_IMAGE_FILTERS)
        dangling_only = False
        if args.contains("dangling"):
            if args.exact_match("dangling", "true"):
                dangling_only = True
            elif not args.exact_match("dangling", "false"):
                raise InvalidFilter("dangling", args.get("dangling"))
        ids = list(self.image_store.heads() if dangling_only else self.image_store.images)
        before = since = None
        for value in args.get("before"):
            before = self.get_image(value)
        for value in args.get("since"):
            since = self.get_image(value)
        patterns = args.get("reference")
        out = []
        for id in ids:
            img = self.image_store.get(id)
            created_ns = jsonenc.parse_rfc3339(img.created)
            if before is not None and created_ns >= jsonenc.parse_rfc3339(before.created):
                continue
            if since is not None and created_ns <= jsonenc.parse_rfc3339(since.created):
                continue
            labels = dict(img.run_config().labels or {})
            if args.contains("label") and not args.match_kv_list("label", labels):
                continue
            tags, digests = [], []
            for ref in self.references(id):
                if patterns and not any(
                    familiar_match(p, familiar_string(ref), familiar_name(ref)) for p in patterns
                ):
                    continue
                if ref.digest:
                    digests.append(familiar_string(ref))
                if ref.tag:
                    tags.append(familiar_string(ref))
            if not tags and not digests:
                if not all and self.image_store.children(id):
                    continue
                if args.contains("dangling") and not dangling_only:
                    continue
                if patterns:
                    continue
                tags, digests = ["<none>:<none>"], ["<none>@<none>"]
            elif dangling_only and tags:
                continue
            out.append(
                ImageSummary(
                    id=id,
                    parent_id=img.parent,
                    repo_tags=tags,
                    repo_digests=digests,
                    created=created_ns // 1_000_000_000,
                    size=self.size(id),
                    labels=labels,
                    created_ns=created_ns,
                )
            )
        out.sort(key=lambda s: (s.created_ns, s.id), reverse=True)
        return out

    # -- tag ---------------------------------------------------------------------------------------
    def tag(self, image: str, repository: str, tag: str = "") -> str:
        """`POST /images/{name}/tag?repo=&tag=`: point `repository` (with `tag` in place of
        its own tag when given; `latest` when neither has one) at `image`. The API always
        forces. Returns the reference as given, familiar (`x`, `x:1`), as the tag event
        names it. `docker tag` and commit come here too.

        moby: daemon/images/image_tag.go TagImage
        """
        id = self.get_image(image).id
        ref = parse_normalized_named(repository)
        if tag:
            ref = ref.trim().with_tag(tag)
        self.reference_store.add_tag(ref, id, True)
        self.image_store.set_last_updated(id)
        name = familiar_string(ref)
        self._event(id, name, "tag")
        return name

    def tag_image(self, id: str, ref: Reference, force: bool = True) -> None:
        """Point `ref` at image `id` and stamp `lastUpdated`.

        moby: daemon/images/image_tag.go TagImageWithReference
        """
        self.reference_store.add_tag(ref, id, force)
        self.image_store.set_last_updated(id)
        self._event(id, familiar_string(ref.tag_name_only()), "tag")

    # -- commit support -------------------------------------------------------------------------
    def create_image(self, config: bytes, parent: str = "") -> str:
        """Store a new config (from `new_child_image(...).marshal()`) and link it to
        `parent`, as commit and build do. Returns the image ID.

        moby: daemon/images/image_commit.go CommitImage (imageStore.Create, SetParent)
        """
        id = self.image_store.create(config)
        if parent:
            self.image_store.set_parent(id, parent)
        self._event(id, id, "create")
        return id

    # -- rmi ---------------------------------------------------------------------------------------
    def remove(
        self,
        image_ref: str,
        force: bool = False,
        prune: bool = True,
        container_uses: ContainerUsesFunc | None = None,
    ) -> list[DeleteItem]:
        """`docker rmi`: untag, and delete the image (and, with `prune`, its now unused
        untagged parents) when nothing else refers to it; Docker's conflict rules.

        moby: daemon/images/image_delete.go ImageDelete
        """
        uses = container_uses or self.container_uses
        img = self.get_image(image_ref)
        id = img.id
        repo_refs = self.references(id)
        records: list[DeleteItem] = []
        removed_repository_ref = False
        if not is_image_id_prefix(id, image_ref):
            if not force and _is_single_reference(repo_refs):
                users = list(uses(id))
                if users:
                    raise ConflictError(
                        f'conflict: unable to remove repository reference "{image_ref}" '
                        f"(must force) - container {truncate_id(users[0].id)} is using its "
                        f"referenced image {truncate_id(id)}"
                    )
            parsed = parse_normalized_named(image_ref).tag_name_only()
            self.reference_store.delete(parsed)
            self._event(id, id, "untag")
            records.append(DeleteItem(untagged=familiar_string(parsed)))
            repo_refs = self.references(id)
            if not parsed.digest:
                same_repo_tags = [r for r in repo_refs if not r.digest and r.name == parsed.name]
                if not same_repo_tags:
                    remaining = []
                    for r in repo_refs:
                        if r.digest and r.name == parsed.name:
                            self.reference_store.delete(r)
                            records.append(DeleteItem(untagged=familiar_string(r)))
                        else:
                            remaining.append(r)
                    repo_refs = remaining
            if repo_refs:
                return records
            removed_repository_ref = True
        elif _is_single_reference(repo_refs):
            mask = _CONFLICT_HARD
            if not force:
                mask |= _CONFLICT_SOFT & ~_CONFLICT_ACTIVE_REFERENCE
            conflict = self._check_conflict(id, mask, uses)
            if conflict is not None:
                raise conflict
            for r in repo_refs:
                self.reference_store.delete(r)
                self._event(id, id, "untag")
                records.append(DeleteItem(untagged=familiar_string(r.tag_name_only())))
        self._delete_helper(id, records, force, prune, removed_repository_ref, uses)
        return records

    def _check_conflict(self, id: str, mask: int, uses: ContainerUsesFunc):
        """moby: daemon/images/image_delete.go checkImageDeleteConflict"""
        if mask & _CONFLICT_DEPENDENT_CHILD and self.image_store.children(id):
            return _ImageDeleteConflict(id, True, "image has dependent child images")
        users = (
            list(uses(id))
            if mask & (_CONFLICT_RUNNING_CONTAINER | _CONFLICT_STOPPED_CONTAINER)
            else []
        )
        if mask & _CONFLICT_RUNNING_CONTAINER:
            running = [c for c in users if c.running]
            if running:
                return _ImageDeleteConflict(
                    id,
                    True,
                    f"image is being used by running container {truncate_id(running[0].id)}",
                    used=True,
                )
        if mask & _CONFLICT_ACTIVE_REFERENCE and self.references(id):
            return _ImageDeleteConflict(id, False, "image is referenced in multiple repositories")
        if mask & _CONFLICT_STOPPED_CONTAINER:
            stopped = [c for c in users if not c.running]
            if stopped:
                return _ImageDeleteConflict(
                    id,
                    False,
                    f"image is being used by stopped container {truncate_id(stopped[0].id)}",
                    used=True,
                )
        return None

    def _is_dangling(self, id: str) -> bool:
        """moby: daemon/images/image_delete.go imageIsDangling"""
        return not self.references(id) and not self.image_store.children(id)

    def _delete_helper(
        self,
        id: str,
        records: list[DeleteItem],
        force: bool,
        prune: bool,
        quiet: bool,
        uses: ContainerUsesFunc,
    ) -> None:
        """moby: daemon/images/image_delete.go imageDeleteHelper"""
        mask = _CONFLICT_HARD if force else _CONFLICT_HARD | _CONFLICT_SOFT
        conflict = self._check_conflict(id, mask, uses)
        if conflict is not None:
            if quiet and (not self._is_dangling(id) or conflict.used):
                return
            raise conflict
        parent = self.image_store.get_parent(id)
        for r in self.references(id):
            self.reference_store.delete(r)
            self._event(id, id, "untag")
            records.append(DeleteItem(untagged=familiar_string(r)))
        removed = self.image_store.delete(id)
        self._event(id, id, "delete")
        records.append(DeleteItem(deleted=id))
        records.extend(DeleteItem(deleted=m.chain_id) for m in removed)
        if prune and parent:
            self._delete_helper(parent, records, False, True, True, uses)

    # -- history -----------------------------------------------------------------------------------
    def history(self, name: str) -> list[HistoryItem]:
        """`docker history`: one row per history entry, newest first; the rows of steps
        that are images in the store (walking the local parents) carry their IDs.

        moby: daemon/images/image_history.go ImageHistory
        """
        img = self.get_image(name)
        rows: list[HistoryItem] = []
        rootfs = RootFS((img.rootfs or RootFS()).type)
        diff_ids = img.rootfs.diff_ids if img.rootfs else []
        counter = 0
        for h in img.history:
            size = 0
            if not h.empty_layer:
                if len(diff_ids) <= counter:
                    raise ImageError("too many non-empty layers in History section")
                rootfs.append(diff_ids[counter])
                handle = self.layer_store.get(rootfs.chain_id())
                size = handle.diff_size()
                self.layer_store.release(handle)
                counter += 1
            created = jsonenc.parse_rfc3339(h.created) // 1_000_000_000
            rows.insert(0, HistoryItem("<missing>", created, h.created_by, [], size, h.comment))
        current: Image | None = img
        for row in rows:
            if current is None:
                break
            row.id = current.id
            row.tags = self.repo_tags(current.id)
            parent = current.parent
            current = self.image_store.get(parent) if parent in self.image_store else None
        return rows

    def history_table(
        self, name: str, *, no_trunc: bool = False, human: bool = True
    ) -> list[list[str]]:
        """`docker history` as the CLI prints it: a header row, then IMAGE, CREATED,
        CREATED BY, SIZE, COMMENT.

        moby: docker/cli cli/command/formatter/history.go
        """
        now = self.now_ns() / 1e9
        table = [["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]]
        for row in self.history(name):
            id = row.id if no_trunc or row.id == "<missing>" else truncate_id(row.id)
            created_by = row.created_by.replace("\t", " ")
            if not no_trunc and len(created_by) > 45:
                created_by = created_by[:44] + "…"
            if human:
                created = human_duration(now - row.created) + " ago"
                size = human_size(row.size)
            else:
                created = jsonenc.format_rfc3339_nano(row.created * 1_000_000_000)
                size = str(row.size)
            table.append([id, created, created_by, size, row.comment])
        return table

    # -- import, save, load ------------------------------------------------------------------------
    def import_image(
        self,
        tar: BinaryIO | bytes | str,
        repository: str = "",
        tag: str = "",
        *,
        message: str = "",
        changes: list[str] | tuple[str, ...] = (),
        src: str = "-",
    ) -> str:
        """`docker import`; returns the new image ID.

        moby: daemon/images/image_import.go ImportImage
        """
        from dockerlayers.image.importer import import_image  # lzma, tarfile: only here

        id = import_image(
            self.image_store,
            self.reference_store,
            tar,
            created=self.now(),
            repository=repository,
            tag=tag,
            message=message,
            changes=changes,
            src=src,
        )
        self._event(id, id, "import")
        return id

    def save(
        self,
        names: list[str] | str,
        out: BinaryIO | str,
        format: str = "docker",  # tarexport.FORMAT_DOCKER
        *,
        gzip_layers: bool = False,
    ) -> None:
        """`docker save` (see `tarexport.tarexport` for the formats).

        moby: daemon/images/image_exporter.go ExportImage
        """
        self.exporter.save(
            [names] if isinstance(names, str) else names, out, format, gzip_layers=gzip_layers
        )

    def load(self, data: BinaryIO | bytes | str) -> list[str]:
        """`docker load`; returns the lines it prints. Nothing changes on error.

        moby: daemon/images/image_exporter.go LoadImage
        """
        return self.exporter.load(data)


def _is_single_reference(refs: list[Reference]) -> bool:
    """One tag (plus digests of the same repository).

    moby: daemon/images/image_delete.go isSingleReference
    """
    if len(refs) <= 1:
        return len(refs) == 1
    single: Reference | None = None
    canonical: set[str] = set()
    for r in refs:
        if r.digest:
            canonical.add(r.name)
        elif single is None:
            single = r
        else:
            return False
    if single is None:
        single = refs[0]
    return len(canonical) == 1 and single.name in canonical
