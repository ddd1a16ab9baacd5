"""Legacy (v1) image JSON: the per-layer IDs and `json` files of old `docker save`
archives, and turning them back into image configs on load.

moby: image/v1/imagev1.go
"""

from __future__ import annotations

import re
from typing import Any

from dockerlayers.digest import from_bytes
from dockerlayers.image import jsonenc
from dockerlayers.image.image import V1_KEYS, ContainerConfig, History, Image
from dockerlayers.image.rootfs import RootFS

EPOCH = "1970-01-01T00:00:00Z"
_VALID_HEX = re.compile(r"^[a-f0-9]{64}\Z")
_NO_FALLBACK_MIN_VERSION = "1.8.3"


def v1_image(img: Image | None) -> dict[str, Any]:
    """The V1Image of `img` as Go would marshal it (no `id`, no `parent`); None gives the
    placeholder lower layers get in `docker save`: only `created` = the epoch.

    moby: image/tarexport/save.go saveImage (v1Img)
    """
    if img is None:
        return {"created": EPOCH, "container_config": ContainerConfig().to_json()}
    out = img.v1_image_json()
    out.pop("id", None)
    return out


def create_id(v1: dict[str, Any], layer_id: str, parent: str = "") -> str:
    """The legacy v1 ID of a layer position: sha256 of the V1Image JSON without `id`,
    with `layer_id` (the ChainID) and `parent` (the parent's v1 ID digest) added, keys
    sorted.

    moby: image/v1/imagev1.go CreateID
    """
    config = {k: v for k, v in v1.items() if k != "id"}
    config["layer_id"] = layer_id
    if parent:
        config["parent"] = parent
    return from_bytes(jsonenc.marshal(jsonenc.sort_keys(config)))


def legacy_json(v1: dict[str, Any], v1_id: str, parent_id: str, os: str) -> bytes:
    """The `<v1 id>/json` file: the V1Image with `id`, `parent` (hex) and `os` set, in
    struct order.

    moby: image/tarexport/save.go saveLayer (json.Marshal(legacyImg))
    """
    fields = dict(v1)
    fields["id"] = v1_id
    if parent_id:
        fields["parent"] = parent_id
    if os:
        fields["os"] = os
    return jsonenc.marshal({k: fields[k] for k in V1_KEYS if k in fields})


def history_from_config(image_json: bytes, empty_layer: bool = False) -> History:
    """moby: image/v1/imagev1.go HistoryFromConfig"""
    doc = jsonenc.unmarshal(image_json, "legacy image JSON")
    if not isinstance(doc, dict):
        raise ValueError("invalid legacy image JSON")
    cc = ContainerConfig.from_json(doc.get("container_config"))
    return History(
        created=_str(doc, "created") or EPOCH,
        author=_str(doc, "author"),
        created_by=" ".join(cc.cmd or []),
        comment=_str(doc, "comment"),
        empty_layer=empty_layer,
    )


def make_config_from_v1_config(image_json: bytes, rootfs: RootFS, history: list[History]) -> bytes:
    """An image config from a legacy `json`: drop the v1 keys, add rootfs and history.

    moby: image/v1/imagev1.go MakeConfigFromV1Config
    """
    doc = jsonenc.unmarshal(image_json, "legacy image JSON")
    if not isinstance(doc, dict):
        raise ValueError("invalid legacy image JSON")
    if _version_less(_str(doc, "docker_version"), _NO_FALLBACK_MIN_VERSION):
        # very old JSON goes through the V1Image struct: unknown keys dropped, reordered
        cc = ContainerConfig.from_json(doc.get("container_config")).to_json()
        doc = {k: doc[k] for k in V1_KEYS if k in doc}
        doc["container_config"] = cc
        if doc.get("config") is not None:
            doc["config"] = ContainerConfig.from_json(doc["config"]).to_json()
        doc.setdefault("created", "0001-01-01T00:00:00Z")
    for key in ("id", "parent", "Size", "parent_id", "layer_id", "throwaway"):
        doc.pop(key, None)
    doc["rootfs"] = rootfs.to_json()
    doc["history"] = [h.to_json() for h in history]
    return jsonenc.marshal(jsonenc.sort_keys(doc))


def validate_id(id: str) -> None:
    """moby: image/v1/imagev1.go ValidateID"""
    if not _VALID_HEX.match(id):
        raise ValueError(f"image ID '{id}' is invalid ")


def _str(doc: dict[str, Any], key: str) -> str:
    v = doc.get(key)
    return v if isinstance(v, str) else ""


def _version_less(a: str, b: str) -> bool:
    """moby: pkg/version Version.LessThan (numeric dot components, non-numbers are 0)"""

    def parts(v: str) -> list[int]:
        out = []
        for p in v.split("."):
            try:
                out.append(int(p))
            except ValueError:
                out.append(0)
        return out

    pa, pb = parts(a), parts(b)
    n = max(len(pa), len(pb))
    pa += [0] * (n - len(pa))
    pb += [0] * (n - len(pb))
    return pa < pb


__all__ = [
    "EPOCH",
    "create_id",
    "history_from_config",
    "legacy_json",
    "make_config_from_v1_config",
    "v1_image",
    "validate_id",
]
