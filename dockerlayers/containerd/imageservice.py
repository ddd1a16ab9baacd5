"""The daemon's image service in containerd mode: Docker 29's images, Docker 29's IDs.

The images and their names are containerd image records over the content store and the
snapshots (imagestore.py, snapshotlayers.py); the service's rules (tag, rmi, history,
load, build, commit) are the daemon's own, keyed inside by config digest. Everything a
client sees follows Docker 29, and every such rule is here, in one place:

* the image ID is the image's target digest (manifest or index), never the config digest:
  `docker images`, `image inspect` (`Id`, and `Parent`: the builder's/commit's parent
  label, a target digest too), `container inspect .Image`, `ps`, `system df`, `commit`'s
  and `build`'s printed IDs (`image_id`);
* a target digest or its prefix finds the image (`get_image`);
* `docker history`: IMAGE is the target digest of the image and of each parent the
  legacy builder/commit recorded, SIZE the usage of the layer's snapshot (`history`);
* `docker rmi`: `Untagged: NAME` and `Deleted: <target digest>` only (no layer lines:
  the snapshots go with containerd's synchronous GC); conflicts name the target digest;
  a container's image loses its tag with Docker 29's words (`remove`);
* image events carry the target digest as ID (untag's `name` the familiar reference);
* `docker load`: an OCI layout's blobs are kept as they are; `Loaded image: NAME:TAG`, or
  `Loaded image ID: <target digest>` (`load`); `docker pull` keeps the blobs as pulled.

moby (docker-v29.0.0): daemon/containerd/image.go (GetImage, image.ID(img.Target.Digest),
Parent from the org.mobyproject.image.parent label), image_list.go (Size = content +
unpacked), image_history.go, image_delete.go, image_events.go, image_exporter.go
(LoadImage), image_pull.go, image_commit.go / image_builder.go (createImageOCI),
daemon/create.go (ctr.ImageID = img.ID())
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from dockerlayers.image.errors import ConflictError, ImageNotFound
from dockerlayers.image.refname import (
    familiar_name,
    familiar_string,
    parse_any_reference,
    parse_normalized_named,
)
from dockerlayers.image.service import DeleteItem, HistoryItem, ImageService, ImageSummary
from dockerlayers.stringid import truncate_id

#: 20.10's words when a container's image loses its only tag (daemon/images/image_delete.go)
_REPO_REF_CONFLICT = re.compile(
    r'^conflict: unable to remove repository reference "(?P<ref>[^"]+)" \(must force\) - '
    r"(?P<rest>.*)$",
    re.S,
)


class ContainerdImageService(ImageService):
    """ImageService on containerd's records, with Docker 29's image IDs."""

    def __init__(self, *args: Any, resolve_id: Callable[[str], str | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: target digest (or a prefix of its hex) -> config digest, None if unknown
        self._resolve_id = resolve_id
        #: the daemon's event logger; ours shows the target digest as ID
        self._daemon_log = self.log_event
        self.log_event = self._log
        #: events held back while `remove` runs (it logs them itself, Docker 29's way)
        self._held: list[tuple[str, str, str]] | None = None
        #: bytes of content blobs every `remove` so far let containerd's GC delete
        self.content_reclaimed = 0

    def _new_image_store(self) -> Any:
        from dockerlayers.containerd.imagestore import ContainerdImageStore

        return ContainerdImageStore(self.layer_store, now_ns=self.now_ns)

    def _new_reference_store(self) -> Any:
        from dockerlayers.containerd.imagestore import ContainerdReferenceStore

        return ContainerdReferenceStore(self.image_store)

    @property
    def distribution_metadata(self) -> Any:
        """What a pull or push knows of blobs and diff IDs: the content store's labels."""
        from dockerlayers.containerd.imagestore import ContentDistributionMetadata

        return ContentDistributionMetadata(self.layer_store.containerd)

    # -- the image ID rule -----------------------------------------------------------------
    def image_id(self, config_id: str) -> str:
        """The image ID a client sees for the internal (config digest) ID: the target
        digest of the image's containerd record (the config digest when it has none).

        moby 29: daemon/containerd/image.go `image.ID(img.Target.Digest)`
        """
        if not config_id or not config_id.startswith("sha256:"):
            return config_id
        return self.layer_store.target_digest(config_id) or config_id

    def image_ids(self) -> dict[str, str]:
        """config digest -> Docker 29 image ID, for every image containerd has."""
        return self.layer_store.target_digests()

    def _log(self, id: str, ref: str, action: str) -> None:
        """An image event, logged with the image's target digest as its ID (and as its
        `name` where the service's event names the ID).

        moby 29: daemon/containerd/image_events.go LogImageEvent / logImageEvent
        """
        if self._held is not None:
            self._held.append((id, ref, action))
            return
        before = self.layer_store.target_digest(id) if id.startswith("sha256:") else None
        if action in ("pull", "push"):
            # moby 29: image_pull.go / image_push.go: ID the reference, name its repository
            named = parse_normalized_named(ref)
            self._emit(familiar_string(named), familiar_name(named), action)
            return
        shown = self.image_id(id) if action != "delete" else (before or id)
        self._emit(shown, shown if ref == id else ref, action)

    def get_image(self, ref_or_id: str):
        """moby 29: daemon/containerd/image.go GetImage (by name, target digest or its prefix)"""
        try:
            return super().get_image(ref_or_id)
        except ImageNotFound:
            config_id = self._resolve_id(ref_or_id)
            if config_id is None:
                raise
            return super().get_image(config_id)

    # -- history ----------------------------------------------------------------------------
    def history(self, name: str) -> list[HistoryItem]:
        """`docker history` on the containerd store: the rows the graph store walks (the
        image, then each parent the legacy builder or commit recorded), IMAGE their target
        digests; a layer's SIZE is the usage of its snapshot (by chain ID), 0 when the
        snapshot is missing.

        moby 29: daemon/containerd/image_history.go ImageHistory (s.Usage(chainID),
        h.ID = currentImg.Target.Digest, getParentsByBuilderLabel)
        """
        rows = super().history(name)
        img = self.get_image(name)
        sizes = self.layer_store.snapshot_usages(img.id)  # bottom first; rows are top first
        for row, h in zip(rows, reversed(img.history)):
            if row.id != "<missing>":
                row.id = self.image_id(row.id)
            row.size = 0 if h.empty_layer else (sizes.pop() if sizes else 0)
        return rows

    # -- rmi --------------------------------------------------------------------------------
    def remove(
        self,
        image_ref: str,
        force: bool = False,
        prune: bool = True,
        container_uses: Any = None,
    ) -> list[DeleteItem]:
        """`docker rmi` on the containerd store: the graph store's conflict rules and
        deletions, reported as Docker 29 reports them — `Untagged: NAME` and `Deleted:
        <target digest>` for each image removed (no layer lines: the snapshots go with
        containerd's synchronous GC), conflicts naming the target digest; an `untag` event
        per name (ID the target digest, `name` the familiar reference), then `delete`.

        moby 29: daemon/containerd/image_delete.go ImageDelete, imageDeleteHelper,
        deleteAll, checkImageDeleteConflict
        """
        shown = self.image_ids()
        images = set(self.image_store.map())
        by_digest = self._remove_by_digest(image_ref)
        if isinstance(by_digest, list):
            return by_digest
        image_ref = by_digest
        try:
            first = super().get_image(image_ref).id
        except ImageNotFound:
            # an image ID (target digest) or its prefix: the graph store's ID, so the
            # delete goes by ID as Docker 29's does (isImageIDPrefix)
            first = self._resolve_id(image_ref) or ""
            if first:
                image_ref = first
        soft = self._soft_delete(image_ref, first, force, container_uses)
        if soft is not None:
            return soft
        content = self.layer_store.containerd.content
        blobs = {i.digest: i.size for i in content.list("moby")}
        # moby 29: imageDeleteHelper reports one `Untagged:` per record (not for the
        # NAME@<digest> a name's record implies)
        named = {
            familiar_string(parse_normalized_named(r.name))
            for r in self.layer_store.images.list()
            if not r.name.startswith("moby-dangling@")
        }
        self._held = []
        try:
            records = super().remove(image_ref, force, prune, container_uses)
        except ConflictError as e:
            raise _conflict_29(e, shown) from None
        finally:
            self._held = None
        # image_prune.go: the space reclaimed is the size of the blobs that are gone
        left = {i.digest for i in content.list("moby")}
        self.content_reclaimed += sum(n for d, n in blobs.items() if d not in left)
        out: list[DeleteItem] = []
        deleted = [r.deleted for r in records if r.deleted in images]
        for r in records:
            if r.untagged and "@" in r.untagged and r.untagged not in named:
                continue
            if r.untagged:
                owner = deleted[0] if deleted else first
                out.append(r)
                self._emit(shown.get(owner, owner), r.untagged, "untag")
            elif r.deleted in images:
                deleted.pop(0)
                id = shown.get(r.deleted, r.deleted)
                out.append(DeleteItem(deleted=id))
                self._emit(id, id, "delete")
        if (
            first
            and first != image_ref
            and first in self.image_store.images
            and self.image_store.children(first)
            and not [r for r in self.references(first) if r.tag]
            and not any(item.deleted for item in out)
        ):
            # moby 29: deleteAll reports the image deleted once its last name went, though
            # it stays, dangling, for its children (imageDeleteHelper)
            id = shown.get(first, first)
            out.append(DeleteItem(deleted=id))
            self._emit(id, id, "delete")
        return out

    def _remove_by_digest(self, image_ref: str) -> str | list[DeleteItem]:
        """`docker rmi NAME@<digest>` where no record has that name: the records of NAME
        whose target is the digest stand for it. Some of the image's records: those are
        untagged (the list returned); all of them: the image goes, as by its ID (the
        ID returned to remove). Any other reference is returned as it is.

        moby 29: image_delete.go ImageDelete (resolveAllReferences, getSameReferences,
        untagReferences)
        """
        try:
            ref = parse_any_reference(image_ref)
        except Exception:
            return image_ref
        if not ref.name or not ref.digest or ref.tag:
            return image_ref
        records = self.layer_store.images.list()
        if any(r.name == str(ref) for r in records):
            return image_ref
        every = [r for r in records if r.digest == ref.digest]
        same = [
            r
            for r in every
            if not r.name.startswith("moby-dangling@")
            and parse_normalized_named(r.name).name == ref.name
        ]
        if not same:
            raise ImageNotFound(f"No such image: {familiar_string(ref)}")
        config = self.image_store.fs.config_of_target(ref.digest)
        if len(same) == len(every):
            return config
        out = []
        for r in same:
            named = parse_normalized_named(r.name)
            self.reference_store.delete(named)
            out.append(DeleteItem(untagged=familiar_string(named)))
            self._emit(ref.digest, familiar_string(named), "untag")
        return out

    def _soft_delete(
        self, image_ref: str, id: str, force: bool, container_uses: Any
    ) -> list[DeleteItem] | None:
        """`docker rmi -f NAME` of an image a container uses, NAME its only name: Docker
        29 keeps the image, dangling (`moby-dangling@<digest>`), and reports the untag
        only. None when that is not the case.

        moby 29: image_delete.go ImageDelete (softImageDelete)
        """
        if not force or not id or id == image_ref:
            return None
        try:
            named = parse_normalized_named(image_ref)
        except Exception:
            return None
        refs = self.references(id)
        if [familiar_string(r) for r in refs if r.tag] != [familiar_string(named.tag_name_only())]:
            return None
        uses = container_uses if container_uses is not None else self.container_uses
        if not uses(id):
            return None
        for r in refs:
            try:
                self.reference_store.delete(r)
            except ImageNotFound:  # NAME@<digest>, gone with the name it came from
                pass
        shown = familiar_string(named.tag_name_only())
        self._emit(self.image_id(id), shown, "untag")
        return [DeleteItem(untagged=shown)]

    # -- image prune ------------------------------------------------------------------------
    def prune_records(self, args: Any, dangling_only: bool, until: float | None) -> dict:
        """`docker image prune [-a]` on the containerd store: every dangling record (with
        `-a` every record) that matches the filters, except the last record of an image a
        container uses, is deleted with a synchronous GC; `Untagged:` per record (a
        dangling one's name is its digest), `Deleted:` per manifest or index the GC took,
        and the space is the size of every blob it took.

        moby 29: daemon/containerd/image_prune.go (pruneUnused, pruneAll, imageFamiliarName)
        """
        from collections import Counter

        from dockerlayers.containerd.images import DANGLING_PREFIX, INDEX_TYPES, MANIFEST_TYPES
        from dockerlayers.filters import match_labels
        from dockerlayers.image import jsonenc

        svc = self.layer_store.images
        content = self.layer_store.containerd.content
        config_of = {r.name: cfg for cfg, recs in svc.by_config().items() for r in recs}
        records = svc.list()
        refs = Counter(r.digest for r in records)
        chosen = {}
        for rec in records:
            cfg = config_of.get(rec.name)
            if cfg is None or (dangling_only and not rec.name.startswith(DANGLING_PREFIX)):
                continue
            created = jsonenc.parse_rfc3339(rec.created_at) / 1e9 if rec.created_at else None
            if until is not None and created is not None and created >= until:
                continue
            labels = dict(self.image_store.get(cfg).run_config().labels or {})
            if match_labels(args, labels):
                chosen[rec.name] = rec
        used = {config_of[n] for n in chosen if self.container_uses(config_of[n])}
        for name in sorted(chosen):  # the last record of an image a container uses stays
            rec = chosen[name]
            if refs[rec.digest] > 1:
                refs[rec.digest] -= 1
            elif config_of[name] in used:
                del chosen[name]
        report: list[dict[str, str]] = []
        reclaimed = 0
        for name in sorted(chosen):
            rec, cfg = chosen[name], config_of[name]
            blobs = self._present_children(rec)
            svc.delete(name, synchronous=False)
            if cfg in self.image_store.images and not svc.records_of(cfg):
                self.image_store.delete(cfg)  # the image is gone (its layer released, GC)
            else:
                self.layer_store.containerd.garbage_collect()
            shown = (
                rec.digest
                if name.startswith(DANGLING_PREFIX)
                else familiar_string(parse_normalized_named(name))
            )
            self._emit(rec.digest, shown, "untag")
            report.append({"Untagged": shown})
            deleted = False
            for digest, size, media_type in blobs:
                try:
                    content.info("moby", digest)
                except Exception:
                    if media_type in MANIFEST_TYPES or media_type in INDEX_TYPES:
                        deleted = True
                        report.append({"Deleted": digest})
                    reclaimed += size
            if deleted:
                self._emit(rec.digest, shown, "delete")
        self.reference_store._reload()
        self.content_reclaimed += reclaimed
        return {"ImagesDeleted": report or None, "SpaceReclaimed": reclaimed}

    def _present_children(self, rec: Any) -> list[tuple[str, int, str]]:
        """(digest, size, media type) of the record's target and every blob it reaches
        that the content store has. moby 29: image_prune.go walkPresentChildren"""
        svc = self.layer_store.images
        out = [(rec.digest, rec.size, rec.media_type)]
        doc = svc.read_json(rec.digest)
        manifests = [doc]
        if "manifests" in doc:
            manifests = []
            for m in doc["manifests"]:
                if self.layer_store.containerd.local.exists(m["digest"]):
                    out.append((m["digest"], m.get("size", 0), m.get("mediaType", "")))
                    manifests.append(svc.read_json(m["digest"]))
        for m in manifests:
            for d in [m["config"], *m.get("layers", [])]:
                if self.layer_store.containerd.local.exists(d["digest"]):
                    out.append((d["digest"], d.get("size", 0), d.get("mediaType", "")))
        return out

    def _emit(self, id: str, name: str, action: str) -> None:
        if self._daemon_log is not None:
            self._daemon_log(id, name, action)

    def save(self, names, out, format: str = "docker", *, gzip_layers: bool = False) -> None:
        """`docker save` on the containerd store: Docker 29 writes its OCI layout (with
        manifest.json) from the content store, blobs as stored. The explicit formats go
        through the service's exporter.

        moby: daemon/containerd/image_exporter.go ExportImage
        """
        wanted = [names] if isinstance(names, str) else list(names)
        if format in ("docker", "docker-25") and self.layer_store.export(wanted, out):
            for name in wanted:  # moby 29: image_exporter.go (the `save` event per image)
                id = self.image_id(self.get_image(name).id)
                self._emit(id, id, "save")
            return
        super().save(names, out, format, gzip_layers=gzip_layers)

    def stored_manifest(self, config_id: str) -> tuple[bytes, str, Any] | None:
        """What `docker push` sends on the containerd store: the image's target when it is
        a manifest (bytes, media type, and a reader of its blobs); None for an index (the
        platform manifest is pushed as the 20.10 way builds it).

        moby 29: daemon/containerd/image_push.go
        """
        from dockerlayers.containerd.images import MANIFEST_TYPES, NAMESPACE

        rec = self.image_store.fs.record_of(config_id)
        if rec is None or rec.media_type not in MANIFEST_TYPES:
            return None
        content = self.layer_store.containerd.content
        raw = content.read(NAMESPACE, rec.digest)
        return raw, rec.media_type, lambda d: content.read(NAMESPACE, d)

    def load(self, data: Any) -> list[str]:
        """`docker load` on the containerd store: an OCI-layout archive (Docker 25+'s save,
        or `oci`) is imported as it is — blobs as in the archive, the image ID its target
        digest; 20.10's layout has its layers stored as registered (gzip). Under a lease
        until the records hold what it wrote.

        moby: daemon/containerd/image_exporter.go LoadImage (containerd's Import)
        """
        if isinstance(data, str):
            with open(data, "rb") as f:
                raw = f.read()
        elif isinstance(data, (bytes, bytearray)):
            raw = bytes(data)
        else:
            raw = data.read()
        ls = self.layer_store
        with ls.work_lease() as lease:
            images = ls.import_archive(raw, lease)
            # the names the archive gives point at its manifests; where the same config
            # has another target here already, the name moves (moby 29's LoadImage)
            fs = self.image_store.fs
            fs.preferred.update({config: target for config, target, _ in images})
            try:
                with ls.driver.external_blobs() if images else contextlib.nullcontext():
                    lines = super().load(io.BytesIO(raw))
                for config, target, name in images:
                    if name and config in self.image_store.images:
                        fs.preferred[config] = target
                        self.reference_store._retarget(parse_normalized_named(name), config)
            finally:
                fs.preferred.clear()
        # moby 29: image_exporter.go LoadImage (`Loaded image ID: <target digest>`)
        prefix = "Loaded image ID: "
        return [
            prefix + self.image_id(line[len(prefix) :]) if line.startswith(prefix) else line
            for line in lines
        ]

    @contextmanager
    def pull_lease(self) -> Iterator[str]:
        """moby 29: image_pull.go (the pull's work under a lease)"""
        with self.layer_store.work_lease() as lease:
            self._pull_lease = lease
            try:
                yield lease
            finally:
                self._pull_lease = ""
                self.image_store.fs.preferred.clear()

    _pull_lease = ""

    def store_pulled(
        self,
        top: tuple[bytes, str],
        manifest: tuple[bytes, str],
        config: bytes,
        blobs: dict[str, bytes],
        fetch: Any,
    ) -> None:
        """The pulled manifest (and list) and blobs into the content store, as pulled
        (`fetch` gets what is neither downloaded nor there); the names the pull gives then
        point at its target, so the image ID is the registry's digest.

        moby 29: daemon/containerd/image_pull.go (containerd's Pull)
        """
        import json as _json

        diff_ids = list(_json.loads(config).get("rootfs", {}).get("diff_ids") or [])
        target = self.layer_store.store_pulled(
            self._pull_lease, top, manifest, diff_ids, blobs, fetch
        )
        self.image_store.fs.preferred[_json.loads(manifest[0])["config"]["digest"]] = target


def present_summaries(
    summaries: list[ImageSummary], manifest_of: Callable[[str], Any]
) -> list[ImageSummary]:
    """`docker images` as Docker 29 lists them: ID = manifest digest, Size = total."""
    out = []
    for s in summaries:
        found = manifest_of(s.id)
        if found is None:
            out.append(s)
            continue
        digest, sizes = found
        out.append(replace(s, id=digest, size=sizes["total"]))
    return out


def present_inspect(
    data: dict[str, Any],
    manifest_of: Callable[[str], Any],
    parent_id: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """`docker image inspect` with Docker 29's Id, Size and Parent."""
    found = manifest_of(data["Id"])
    if found is None:
        return data
    digest, sizes = found
    data = dict(data)
    data["Id"] = digest
    data["Size"] = sizes["total"]
    data["VirtualSize"] = sizes["total"]
    if data.get("Parent") and parent_id is not None:
        # moby 29: image.go / image_inspect.go (the org.mobyproject.image.parent label,
        # which createImageOCI sets to the parent's target digest)
        data["Parent"] = parent_id(data["Parent"])
    return data


def _conflict_29(e: ConflictError, shown: dict[str, str]) -> ConflictError:
    """A delete conflict in Docker 29's words: image IDs are target digests; a container's
    image whose only tag is asked for is `unable to delete NAME:TAG (must be forced)`.

    moby 29: daemon/containerd/image_delete.go (imageDeleteConflict, ImageDelete)
    """
    msg = str(e)
    for config_id, digest in shown.items():
        msg = msg.replace(truncate_id(config_id), truncate_id(digest))
    m = _REPO_REF_CONFLICT.match(msg)
    if m:
        ref = familiar_string(parse_normalized_named(m["ref"]).tag_name_only())
        msg = f"conflict: unable to delete {ref} (must be forced) - {m['rest']}"
    out = ConflictError(msg)
    for attr in ("hard", "used"):
        if hasattr(e, attr):
            setattr(out, attr, getattr(e, attr))
    return out
