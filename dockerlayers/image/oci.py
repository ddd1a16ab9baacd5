"""OCI image layout: media types, descriptors, and walking index -> manifest -> blobs.

A layout is `oci-layout`, `index.json` and `blobs/<alg>/<hex>`; every blob is named by
the digest of its bytes. Reading checks each descriptor (digest form, size, media type)
and each blob's size and digest before anything is used.

moby: vendor github.com/opencontainers/image-spec specs-go/v1 (layout.go, index.go,
manifest.go, descriptor.go, mediatype.go); image/tarexport/save.go (what Docker writes)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.digest import is_digest
from dockerlayers.image import jsonenc
from dockerlayers.image.errors import LoadError
from dockerlayers.image.tarexport.source import Source

IMAGE_LAYOUT_FILE = "oci-layout"
IMAGE_LAYOUT_VERSION = "1.0.0"
IMAGE_INDEX_FILE = "index.json"
IMAGE_BLOBS_DIR = "blobs"

MEDIA_TYPE_IMAGE_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPE_IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_TYPE_IMAGE_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_TYPE_IMAGE_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_TYPE_IMAGE_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MEDIA_TYPE_IMAGE_LAYER_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar"
MEDIA_TYPE_IMAGE_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
MEDIA_TYPE_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_TYPE_DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_TYPE_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_TYPE_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
MEDIA_TYPE_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MEDIA_TYPE_DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

#: containerd's full-name annotation and the OCI ref name (the tag in Docker's archives)
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"

INDEX_TYPES = (MEDIA_TYPE_IMAGE_INDEX, MEDIA_TYPE_DOCKER_MANIFEST_LIST)
MANIFEST_TYPES = (MEDIA_TYPE_IMAGE_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST)
CONFIG_TYPES = (MEDIA_TYPE_IMAGE_CONFIG, MEDIA_TYPE_DOCKER_CONFIG)
LAYER_TYPES = (
    MEDIA_TYPE_IMAGE_LAYER,
    MEDIA_TYPE_IMAGE_LAYER_GZIP,
    MEDIA_TYPE_IMAGE_LAYER_NONDIST,
    MEDIA_TYPE_IMAGE_LAYER_NONDIST_GZIP,
    MEDIA_TYPE_DOCKER_LAYER,
    MEDIA_TYPE_DOCKER_LAYER_GZIP,
    MEDIA_TYPE_DOCKER_FOREIGN_LAYER,
)
MAX_INDEX_DEPTH = 4


@dataclass
class Descriptor:
    """moby: image-spec specs-go/v1/descriptor.go Descriptor"""

    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    platform: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """Go field order: mediaType, digest, size, (urls), annotations, (data), platform."""
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.annotations:
            out["annotations"] = jsonenc.sort_keys(self.annotations)
        if self.platform:
            out["platform"] = self.platform
        return out

    @classmethod
    def from_json(cls, value: Any, what: str) -> Descriptor:
        if not isinstance(value, dict):
            raise LoadError(f"invalid {what}: descriptor is not an object")
        media_type = value.get("mediaType", "")
        digest = value.get("digest")
        size = value.get("size")
        annotations = value.get("annotations") or {}
        platform = value.get("platform")
        if not isinstance(media_type, str):
            raise LoadError(f"invalid {what}: mediaType is not a string")
        if not isinstance(digest, str) or not is_digest(digest):
            raise LoadError(f"invalid {what}: unsupported or malformed digest {digest!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise LoadError(f"invalid {what}: invalid size {size!r}")
        if not isinstance(annotations, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
        ):
            raise LoadError(f"invalid {what}: annotations must map strings to strings")
        if platform is not None and not isinstance(platform, dict):
            raise LoadError(f"invalid {what}: platform is not an object")
        return cls(media_type, digest, size, dict(annotations), platform)


def blob_path(digest: str) -> str:
    """`blobs/sha256/<hex>`"""
    return f"{IMAGE_BLOBS_DIR}/sha256/{digest[7:]}"


def verify_blob(src: Source, path: str, digest: str, size: int | None = None) -> None:
    """Check that the file at `path` has `size` bytes and hashes to `digest`."""
    actual_size = src.size(path)
    if size is not None and actual_size != size:
        raise LoadError(f"blob {digest}: size mismatch: expected {size}, got {actual_size}")
    h = hashlib.sha256()
    with src.open(path) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    actual = "sha256:" + h.hexdigest()
    if actual != digest:
        raise LoadError(f"blob {path}: digest mismatch: expected {digest}, got {actual}")


def read_blob(src: Source, desc: Descriptor) -> bytes:
    """A JSON blob's bytes, checked against its descriptor."""
    path = blob_path(desc.digest)
    if not src.exists(path):
        raise LoadError(f"missing blob {desc.digest}")
    if desc.size > jsonenc.MAX_JSON_SIZE:
        raise LoadError(f"blob {desc.digest} too large ({desc.size} bytes)")
    data = src.read(path)
    if len(data) != desc.size:
        raise LoadError(f"blob {desc.digest}: size mismatch: expected {desc.size}, got {len(data)}")
    actual = "sha256:" + hashlib.sha256(data).hexdigest()
    if actual != desc.digest:
        raise LoadError(f"blob {desc.digest}: digest mismatch: got {actual}")
    return data


def _parse(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = jsonenc.unmarshal(data, what)
    except ValueError as e:
        raise LoadError(str(e)) from None
    if not isinstance(doc, dict):
        raise LoadError(f"invalid {what}: not a JSON object")
    return doc


@dataclass
class OCIImage:
    """One image found in a layout: its manifest descriptor (with the index annotations),
    config descriptor and bytes, and layer descriptors."""

    manifest: Descriptor
    config: Descriptor
    config_bytes: bytes
    layers: list[Descriptor]
    annotations: dict[str, str]


def check_layout(src: Source) -> None:
    """`oci-layout` must say imageLayoutVersion 1.x."""
    if not src.exists(IMAGE_LAYOUT_FILE):
        raise LoadError("invalid OCI layout: missing oci-layout file")
    doc = src.read_json(IMAGE_LAYOUT_FILE)
    version = doc.get("imageLayoutVersion") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith("1."):
        raise LoadError(f"invalid OCI layout: unsupported imageLayoutVersion {version!r}")


def read_index(src: Source) -> list[Descriptor]:
    """The descriptors listed in `index.json`."""
    if not src.exists(IMAGE_INDEX_FILE):
        raise LoadError("invalid OCI layout: missing index.json")
    doc = _parse(src.read(IMAGE_INDEX_FILE), IMAGE_INDEX_FILE)
    return _index_manifests(doc, IMAGE_INDEX_FILE)


def _index_manifests(doc: dict[str, Any], what: str) -> list[Descriptor]:
    if doc.get("schemaVersion") != 2:
        raise LoadError(f"invalid {what}: schemaVersion must be 2")
    media_type = doc.get("mediaType")
    if media_type is not None and media_type not in INDEX_TYPES:
        raise LoadError(f"invalid {what}: unexpected media type {media_type!r}")
    manifests = doc.get("manifests")
    if not isinstance(manifests, list):
        raise LoadError(f"invalid {what}: manifests is not a list")
    return [Descriptor.from_json(m, what) for m in manifests]


def _platform_matches(desc: Descriptor, os: str, arch: str) -> bool:
    p = desc.platform or {}
    return p.get("os") == os and p.get("architecture") == arch


def resolve_images(src: Source, os: str = "linux", arch: str = "amd64") -> list[OCIImage]:
    """Every image the index names: manifests directly, nested indexes by platform
    (`os/arch`, else their only manifest)."""
    out = []
    for desc in read_index(src):
        out.append(_resolve(src, desc, dict(desc.annotations), os, arch, 0))
    return out


def _resolve(
    src: Source, desc: Descriptor, annotations: dict[str, str], os: str, arch: str, depth: int
) -> OCIImage:
    if depth > MAX_INDEX_DEPTH:
        raise LoadError("invalid OCI layout: image indexes nested too deep")
    if desc.media_type in INDEX_TYPES:
        doc = _parse(read_blob(src, desc), f"index {desc.digest}")
        children = _index_manifests(doc, f"index {desc.digest}")
        images = [c for c in children if c.media_type in MANIFEST_TYPES]
        matching = [c for c in images if _platform_matches(c, os, arch)]
        if matching:
            chosen = matching[0]
        else:
            real = [c for c in images if (c.platform or {}).get("os") != "unknown"]
            if len(real) != 1:
                raise LoadError(f"index {desc.digest}: no manifest for platform {os}/{arch}")
            chosen = real[0]
        return _resolve(src, chosen, annotations, os, arch, depth + 1)
    if desc.media_type not in MANIFEST_TYPES:
        raise LoadError(f"unsupported media type {desc.media_type!r} for {desc.digest}")
    doc = _parse(read_blob(src, desc), f"manifest {desc.digest}")
    what = f"manifest {desc.digest}"
    if doc.get("schemaVersion") != 2:
        raise LoadError(f"invalid {what}: schemaVersion must be 2")
    media_type = doc.get("mediaType")
    if media_type is not None and media_type != desc.media_type:
        raise LoadError(f"invalid {what}: media type {media_type!r} does not match its descriptor")
    config = Descriptor.from_json(doc.get("config"), what)
    if config.media_type not in CONFIG_TYPES:
        raise LoadError(f"invalid {what}: unsupported config media type {config.media_type!r}")
    layers_doc = doc.get("layers")
    if not isinstance(layers_doc, list):
        raise LoadError(f"invalid {what}: layers is not a list")
    layers = [Descriptor.from_json(layer, what) for layer in layers_doc]
    for layer in layers:
        if layer.media_type == MEDIA_TYPE_IMAGE_LAYER_ZSTD:
            raise LoadError(f"unsupported layer compression zstd ({layer.digest})")
        if layer.media_type not in LAYER_TYPES:
            raise LoadError(f"invalid {what}: unsupported layer media type {layer.media_type!r}")
    return OCIImage(desc, config, read_blob(src, config), layers, annotations)


def layout_file() -> bytes:
    """`oci-layout` as Docker writes it (with a space after the colon).

    moby: image/tarexport/save.go (ociLayoutContent)
    """
    return b'{"imageLayoutVersion": "' + IMAGE_LAYOUT_VERSION.encode() + b'"}'


def manifest_json(config: Descriptor, layers: list[Descriptor]) -> bytes:
    """An OCI image manifest (Go field order). moby: ocispec.Manifest"""
    return jsonenc.marshal(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_IMAGE_MANIFEST,
            "config": config.to_json(),
            "layers": [d.to_json() for d in layers],
        }
    )


def index_json(manifests: list[Descriptor]) -> bytes:
    """An OCI image index (Go field order). moby: ocispec.Index"""
    return jsonenc.marshal(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_IMAGE_INDEX,
            "manifests": [d.to_json() for d in manifests],
        }
    )
