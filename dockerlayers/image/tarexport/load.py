"""`docker load`: Docker archives (manifest.json, or the older manifest-less layout),
Docker 25+ archives, and OCI image layouts (folders or tars, gzip or plain layers).

Everything is checked before the store is touched (JSON shape and size, every blob's
size and digest, every layer's DiffID), then layers are registered, images created and
tags set inside a transaction: on any error every layer registered, image created and
tag moved is undone, so the store is left exactly as it was.

moby: image/tarexport/load.go
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from dockerlayers.archive import LayerTarError
from dockerlayers.digest import create_chain_id_from_parent, from_bytes, is_digest
from dockerlayers.image import oci, v1
from dockerlayers.image.errors import ImageError, InvalidReference, LoadError
from dockerlayers.image.image import Image, new_from_json
from dockerlayers.image.refname import Reference, familiar_string, parse_normalized_named
from dockerlayers.image.rootfs import RootFS
from dockerlayers.image.tarexport.source import Source, decompress_stream, open_source
from dockerlayers.image.tarexport.tarexport import (
    LEGACY_CONFIG_FILE,
    LEGACY_LAYER_FILE,
    LEGACY_REPOSITORIES_FILE,
    MANIFEST_FILE,
    TarExporter,
)
from dockerlayers.layer import Layer, LayerError

HOST_OS = "linux"
_BLOB_PATH = re.compile(r"^(?:\./)?blobs/sha256/([a-f0-9]{64})\Z")
_HEX_JSON = re.compile(r"^(?:\./)?([a-f0-9]{64})\.json\Z")


@dataclass
class _Plan:
    """One image to load: config bytes, where each layer's tar is, the tags."""

    config: bytes
    image: Image
    layers: list[tuple[str, str]]  # (path in source, expected DiffID)
    tags: list[Reference] = field(default_factory=list)
    parent_index: int | None = None  # manifest "Parent", as an index into the plans


class _Transaction:
    """What a load changed, to undo on error."""

    def __init__(self, ex: TarExporter) -> None:
        self.ex = ex
        self.handles: list[Layer] = []
        self.created: list[str] = []
        self.tags: list[tuple[Reference, str | None]] = []
        self.parents: list[tuple[str, str]] = []  # (image, previous parent)

    def release_handles(self) -> None:
        while self.handles:
            self.ex.layer_store.release(self.handles.pop())

    def rollback(self) -> None:
        rs, store = self.ex.reference_store, self.ex.image_store
        for ref, previous in reversed(self.tags):
            if previous is None:
                rs.delete(ref)
            else:
                rs.add_tag(ref, previous, force=True)
        for id, previous in reversed(self.parents):
            if id in store:
                if previous:
                    store.set_parent(id, previous)
                else:
                    store.fs.delete_metadata(id, "parent")
        for id in reversed(self.created):
            store.delete(id)
        self.release_handles()


def load(ex: TarExporter, data: BinaryIO | bytes | str) -> list[str]:
    """moby: image/tarexport/load.go Load"""
    with open_source(data, ex.tmp_dir) as src:
        if src.lexists(MANIFEST_FILE):
            plans = _plan_manifest(ex, src)
        elif src.lexists(oci.IMAGE_INDEX_FILE):
            plans = _plan_oci(ex, src)
        else:
            return _legacy_load(ex, src)
        return _apply(ex, src, plans)


# -- planning: read and verify everything, change nothing ------------------------------------
def _str_list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise LoadError(f"invalid manifest, {what} must be a list of strings")
    return value


def _parse_config(config: bytes) -> Image:
    try:
        img = new_from_json(config)
    except ValueError as e:
        raise LoadError(str(e)) from None
    if img.os and img.os != HOST_OS:  # moby: checkCompatibleOS
        raise LoadError(f"cannot load {img.os} image on {HOST_OS}")
    non_empty = sum(1 for h in img.history if not h.empty_layer)
    if non_empty > len(img.rootfs.diff_ids):
        raise LoadError("too many non-empty layers in History section")
    return img


def _parse_tag(repo_tag: str) -> Reference:
    try:
        ref = parse_normalized_named(repo_tag)
    except InvalidReference as e:
        raise LoadError(str(e)) from None
    if not ref.tag or ref.digest:
        raise LoadError(f'invalid tag "{repo_tag}"')
    return ref


def _verify_named_blob(src: Source, path: str) -> None:
    """A file named `blobs/sha256/<hex>` (or `<hex>.json`) must hash to its name."""
    m = _BLOB_PATH.match(path) or _HEX_JSON.match(path)
    if m:
        oci.verify_blob(src, path, "sha256:" + m.group(1))


def _plan_manifest(ex: TarExporter, src: Source) -> list[_Plan]:
    """moby: image/tarexport/load.go Load (the manifest.json path)"""
    manifest = src.read_json(MANIFEST_FILE)
    if manifest is None:
        raise LoadError("invalid manifest, manifest cannot be null (but can be [])")
    if not isinstance(manifest, list):
        raise LoadError("invalid manifest, expected a list")
    plans: list[_Plan] = []
    configs: dict[str, int] = {}
    parents: list[str] = []
    for item in manifest:
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise LoadError("invalid manifest, each entry needs a Config path")
        _verify_named_blob(src, item["Config"])
        config = src.read(item["Config"])
        img = _parse_config(config)
        layer_paths = _str_list(item.get("Layers"), "Layers")
        if len(layer_paths) != len(img.rootfs.diff_ids):
            raise LoadError(
                "invalid manifest, layers length mismatch: expected "
                f"{len(layer_paths)}, got {len(img.rootfs.diff_ids)}"
            )
        tags = [_parse_tag(t) for t in _str_list(item.get("RepoTags"), "RepoTags")]
        parent = item.get("Parent") or ""
        if not isinstance(parent, str) or (parent and not is_digest(parent)):
            raise LoadError("invalid manifest, Parent must be an image ID")
        plans.append(_Plan(config, img, list(zip(layer_paths, img.rootfs.diff_ids)), tags))
        configs[img.id] = len(plans) - 1
        parents.append(parent)
    # moby: validatedParentLinks (a parent must be another image of this archive)
    for plan, parent in zip(plans, parents):
        if parent in configs and parent != plan.image.id:
            plan.parent_index = configs[parent]
    for plan in plans:
        _verify_layers(ex, src, plan, named=True)
    return plans


def _plan_oci(ex: TarExporter, src: Source) -> list[_Plan]:
    """An OCI image layout without manifest.json: index -> manifest -> config/layers."""
    oci.check_layout(src)
    plans = []
    for found in oci.resolve_images(src):
        img = _parse_config(found.config_bytes)
        if len(found.layers) != len(img.rootfs.diff_ids):
            raise LoadError(
                "invalid manifest, layers length mismatch: expected "
                f"{len(found.layers)}, got {len(img.rootfs.diff_ids)}"
            )
        for layer in found.layers:
            oci.verify_blob(src, oci.blob_path(layer.digest), layer.digest, layer.size)
        tags = []
        name = found.annotations.get(oci.ANNOTATION_IMAGE_NAME, "")
        ref_name = found.annotations.get(oci.ANNOTATION_REF_NAME, "")
        candidate = name or (ref_name if ":" in ref_name or "/" in ref_name else "")
        if candidate:
            tags.append(_parse_tag(candidate))
        paths = [oci.blob_path(layer.digest) for layer in found.layers]
        plans.append(_Plan(found.config_bytes, img, list(zip(paths, img.rootfs.diff_ids)), tags))
    for plan in plans:
        _verify_layers(ex, src, plan, named=False)
    return plans


def _verify_layers(ex: TarExporter, src: Source, plan: _Plan, named: bool) -> None:
    """Each layer's (decompressed) tar must hash to its DiffID; layers the store already
    has are not read (moby registers only missing ones)."""
    chain = None
    for i, (path, diff) in enumerate(plan.layers):
        chain = create_chain_id_from_parent(chain, diff)
        if chain in ex.layer_store.map():
            continue
        if named:
            _verify_named_blob(src, path)
        actual = _diff_id(src, path)
        if actual != diff:
            raise LoadError(f'invalid diffID for layer {i}: expected "{diff}", got "{actual}"')


def _diff_id(src: Source, path: str) -> str:
    h = hashlib.sha256()
    try:
        with src.open(path) as raw:
            stream = decompress_stream(raw)
            while chunk := stream.read(1 << 20):
                h.update(chunk)
    except (OSError, EOFError) as e:
        raise LoadError(f"{path}: {e}") from None
    return "sha256:" + h.hexdigest()


# -- applying, inside a transaction ------------------------------------------------------------
def _apply(ex: TarExporter, src: Source, plans: list[_Plan]) -> list[str]:
    tx = _Transaction(ex)
    out: list[str] = []
    try:
        ids = []
        for plan in plans:
            rootfs = RootFS(plan.image.rootfs.type)
            for i, (path, diff) in enumerate(plan.layers):
                handle = _get_or_register(ex, src, tx, path, rootfs.chain_id() or None, diff)
                if handle.diff_id != diff:
                    raise LoadError(
                        f'invalid diffID for layer {i}: expected "{diff}", got "{handle.diff_id}"'
                    )
                rootfs.append(diff)
            id = _create(ex, tx, plan.config)
            ids.append(id)
            for ref in plan.tags:
                out.extend(_set_loaded_tag(ex, tx, ref, id))
                out.append(f"Loaded image: {familiar_string(ref)}")
            if not plan.tags:
                out.append(f"Loaded image ID: {id}")
        for plan, id in zip(plans, ids):
            if plan.parent_index is not None:
                _set_parent_id(ex, tx, id, ids[plan.parent_index])
        for id in ids:
            ex._event(id, id, "load")
    except BaseException as e:
        tx.rollback()
        if isinstance(e, (LayerTarError, LayerError, ImageError)) and not isinstance(e, LoadError):
            raise LoadError(str(e)) from e
        raise
    tx.release_handles()
    return out


def _get_or_register(
    ex: TarExporter,
    src: Source,
    tx: _Transaction,
    path: str,
    parent: str | None,
    diff_id: str | None = None,
) -> Layer:
    """The layer `diff_id` on `parent` if the store has it, else the tar at `path`
    registered (decompressed first).

    moby: image/tarexport/load.go Load (lss.Get, then loadLayer)
    """
    if diff_id is not None:
        chain = create_chain_id_from_parent(parent, diff_id)
        if chain in ex.layer_store.map():
            handle = ex.layer_store.get(chain)
            tx.handles.append(handle)
            return handle
    with src.open(path) as raw:
        try:
            handle = ex.layer_store.register(decompress_stream(raw), parent)
        except (OSError, EOFError) as e:
            raise LoadError(f"{path}: {e}") from None
    tx.handles.append(handle)
    return handle


def _create(ex: TarExporter, tx: _Transaction, config: bytes) -> str:
    """moby: image/store.go Create (remembering new images for the rollback)"""
    is_new = from_bytes(config) not in ex.image_store
    id = ex.image_store.create(config)
    if is_new:
        tx.created.append(id)
    return id


def _set_loaded_tag(ex: TarExporter, tx: _Transaction, ref: Reference, id: str) -> list[str]:
    """moby: image/tarexport/load.go setLoadedTag"""
    lines = []
    rs = ex.reference_store
    try:
        previous: str | None = rs.get(ref)
    except ImageError:
        previous = None
    if previous == id:
        return lines
    if previous is not None:
        lines.append(
            f"The image {familiar_string(ref)} already exists, renaming the old one with ID "
            f"{previous} to empty string"
        )
    rs.add_tag(ref, id, force=True)
    tx.tags.append((ref, previous))
    return lines


def _set_parent_id(ex: TarExporter, tx: _Transaction, id: str, parent_id: str) -> None:
    """moby: image/tarexport/load.go setParentID, checkValidParent"""
    store = ex.image_store
    img, parent = store.get(id), store.get(parent_id)
    valid = (not img.history and not parent.history) or (
        len(img.history) - len(parent.history) == 1
        and all(a == b for a, b in zip(parent.history, img.history))
    )
    if not valid:
        raise LoadError(f"image {parent_id} is not a valid parent for {id}")
    tx.parents.append((id, store.get_parent(id)))
    store.set_parent(id, parent_id)


# -- manifest-less archives (Docker < 1.10) ---------------------------------------------------
def _legacy_load(ex: TarExporter, src: Source) -> list[str]:
    """Every top-level folder with a `json` is a v1 image; parents first.

    moby: image/tarexport/load.go legacyLoad, legacyLoadImage
    """
    docs: dict[str, dict[str, Any]] = {}
    for name in src.top_dirs():
        path = f"{name}/{LEGACY_CONFIG_FILE}"
        if not src.exists(path):
            continue
        try:
            v1.validate_id(name)
        except ValueError as e:
            raise LoadError(str(e)) from None
        doc = src.read_json(path)
        if not isinstance(doc, dict):
            raise LoadError(f"invalid legacy image JSON in {path}")
        os_ = doc.get("os") or ""
        parent = doc.get("parent") or ""
        if not isinstance(os_, str) or not isinstance(parent, str):
            raise LoadError(f"invalid legacy image JSON in {path}")
        if os_ and os_ != HOST_OS:
            raise LoadError(f"cannot load {os_} image on {HOST_OS}")
        if not src.exists(f"{name}/{LEGACY_LAYER_FILE}"):
            raise LoadError(f"missing {name}/{LEGACY_LAYER_FILE}")
        docs[name] = {"parent": parent, "json": src.read(path)}
    if not docs:
        raise LoadError("invalid archive: no manifest.json, index.json or legacy images")
    # order parents first; refuse unknown parents and cycles
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise LoadError(f"invalid legacy archive: parent cycle at {name}")
        if name not in docs:
            raise LoadError(f"invalid legacy archive: missing parent image {name}")
        state[name] = "visiting"
        parent = docs[name]["parent"]
        if parent:
            visit(parent, [*chain, name])
        state[name] = "done"
        order.append(name)

    for name in sorted(docs):
        visit(name, [])
    repos: dict[str, dict[str, str]] = {}
    if src.exists(LEGACY_REPOSITORIES_FILE):
        raw = src.read_json(LEGACY_REPOSITORIES_FILE)
        if not isinstance(raw, dict) or not all(
            isinstance(t, dict) and all(isinstance(v, str) for v in t.values())
            for t in raw.values()
        ):
            raise LoadError("invalid repositories file")
        repos = raw
    refs: list[tuple[Reference, str]] = []
    for name, tags in repos.items():
        for tag, old_id in tags.items():
            if old_id not in docs:
                raise LoadError(f"invalid target ID: {old_id}")
            try:
                refs.append((parse_normalized_named(name).with_tag(tag), old_id))
            except InvalidReference as e:
                raise LoadError(str(e)) from None

    tx = _Transaction(ex)
    loaded: dict[str, str] = {}
    out: list[str] = []
    try:
        for name in order:
            doc = docs[name]
            parent_id = loaded.get(doc["parent"], "") if doc["parent"] else ""
            rootfs, history = RootFS(), []
            if parent_id:
                parent_img = ex.image_store.get(parent_id)
                rootfs, history = parent_img.rootfs.clone(), list(parent_img.history)
            handle = _get_or_register(
                ex, src, tx, f"{name}/{LEGACY_LAYER_FILE}", rootfs.chain_id() or None
            )
            rootfs.append(handle.diff_id)
            try:
                history.append(v1.history_from_config(doc["json"]))
                config = v1.make_config_from_v1_config(doc["json"], rootfs, history)
            except ValueError as e:
                raise LoadError(str(e)) from None
            id = _create(ex, tx, config)
            if parent_id:
                tx.parents.append((id, ex.image_store.get_parent(id)))
                ex.image_store.set_parent(id, parent_id)
            loaded[name] = id
        for ref, old_id in refs:
            out.extend(_set_loaded_tag(ex, tx, ref, loaded[old_id]))
            out.append(f"Loaded image: {familiar_string(ref)}")
        if not refs:
            out.extend(f"Loaded image ID: {loaded[n]}" for n in order)
    except BaseException as e:
        tx.rollback()
        if isinstance(e, (LayerTarError, LayerError, ImageError)) and not isinstance(e, LoadError):
            raise LoadError(str(e)) from e
        raise
    tx.release_handles()
    return out
