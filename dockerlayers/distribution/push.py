"""`docker push`: layers compressed and uploaded unless the registry has them (HEAD),
mounted from another repository of the same registry when v2metadata says a layer
came from there, then the config and a schema 2 manifest.

moby: distribution/push_v2.go
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tempfile
from typing import Any

from dockerlayers.digest import create_chain_id_from_parent
from dockerlayers.distribution import manifest as mf
from dockerlayers.distribution.metadata import V2Metadata
from dockerlayers.distribution.progress import Emitter, Progress, short
from dockerlayers.distribution.pull import metadata_service
from dockerlayers.distribution.registry import RegistryConfig, RegistryError, Session, error_text
from dockerlayers.errors import NotFound
from dockerlayers.image.refname import Reference, familiar_name, parse_normalized_named


class ImageDoesNotExist(RegistryError, NotFound):
    """moby: distribution/push.go (An image does not exist locally with the tag)"""


def _exists(s: Session, path: str, dgst: str) -> bool:
    r = s.request("HEAD", f"/v2/{path}/blobs/{dgst}", scope=f"repository:{path}:pull,push")
    return r.status_code == 200


def _upload(s: Session, path: str, dgst: str, f: Any, size: int, em: Emitter | None, id: str):
    """Monolithic upload: POST a session, PUT the content with `?digest=`.

    moby: distribution/push_v2.go uploadUsingSession
    """
    scope = f"repository:{path}:pull,push"
    r = s.request("POST", f"/v2/{path}/blobs/uploads/", scope=scope)
    if r.status_code != 202:
        raise RegistryError(error_text(r))
    loc = r.headers["Location"]
    if loc.startswith("/"):
        loc = s.base + loc

    r = s.request(
        "PUT",
        loc,
        scope=scope,
        params={"digest": dgst},
        data=_Reader(f, size, em, id),
        headers={"Content-Type": "application/octet-stream"},
    )
    if r.status_code not in (201, 204):
        raise RegistryError(error_text(r))


class _Reader:
    """A file read by requests in chunks (Content-Length from len()), reporting progress."""

    def __init__(self, f: Any, size: int, em: Emitter | None, id: str) -> None:
        self.f, self.size, self.em, self.id, self.done = f, size, em, id, 0

    def __len__(self) -> int:
        return self.size

    def read(self, n: int = -1) -> bytes:
        chunk = self.f.read(n)
        self.done += len(chunk)
        if chunk and self.em is not None:
            self.em.update(self.id, "Pushing", self.done, self.size)
        return chunk


def _mount(s: Session, path: str, dgst: str, src: str) -> bool:
    """Cross-repository mount. moby: distribution/push_v2.go (Mount with from=)"""
    r = s.request(
        "POST",
        f"/v2/{path}/blobs/uploads/",
        scope=f"repository:{path}:pull,push repository:{src}:pull",
        params={"mount": dgst, "from": src},
    )
    if r.status_code == 201:
        return True
    if r.status_code == 202 and r.headers.get("Location"):
        loc = r.headers["Location"]
        s.request("DELETE", loc if not loc.startswith("/") else s.base + loc)
    return False


def push(
    svc: Any,
    ref: str,
    progress: Progress | None = None,
    config: RegistryConfig | None = None,
    credentials: tuple[str, str] | None = None,
) -> str:
    """Push `ref` (`latest` when it has no tag); returns the manifest digest.

    moby: distribution/push.go Push, distribution/push_v2.go pushV2Tag
    """
    named = parse_normalized_named(ref).tag_name_only()
    em = Emitter(progress)
    em.message(f"The push refers to repository [{named.name}]")
    try:
        img = svc.get_image(str(named))
    except NotFound:
        raise ImageDoesNotExist(
            f"An image does not exist locally with the tag: {familiar_name(named)}"
        ) from None
    cfg = config or RegistryConfig.from_daemon_json(svc.root)
    s = Session(cfg, named.domain, credentials)
    path = named.path
    meta = metadata_service(svc)
    ls = svc.layer_store
    diff_ids = list(img.rootfs.diff_ids)
    chains: list[str] = []
    parent: str | None = None
    for d in diff_ids:
        parent = create_chain_id_from_parent(parent, d)
        chains.append(parent)
    order = list(range(len(diff_ids)))[::-1]  # moby: top layer first
    stored = getattr(svc, "stored_manifest", None)
    found = stored(img.id) if stored is not None else None
    if found is not None:  # the containerd store: the image's content as stored
        return _push_stored(svc, s, named, img, found, order, em)
    for i in order:
        em.update(short(diff_ids[i]), "Preparing")
    descriptors: dict[int, tuple[str, int]] = {}
    for i in order:
        descriptors[i] = _push_layer(s, svc, ls, meta, named, chains[i], diff_ids[i], em)
    config_raw = svc.image_store.fs.get(img.id)
    config_digest = "sha256:" + hashlib.sha256(config_raw).hexdigest()
    if not _exists(s, path, config_digest):
        _upload(s, path, config_digest, io.BytesIO(config_raw), len(config_raw), None, "")
    manifest = {
        "schemaVersion": 2,
        "mediaType": mf.SCHEMA2,
        "config": {"mediaType": mf.CONFIG_TYPE, "size": len(config_raw), "digest": config_digest},
        "layers": [
            {"mediaType": mf.LAYER_GZIP, "size": descriptors[i][1], "digest": descriptors[i][0]}
            for i in range(len(diff_ids))
        ],
    }
    raw = json.dumps(manifest, indent=3).encode()  # Go: json.MarshalIndent(m, "", "   ")
    r = s.request(
        "PUT",
        f"/v2/{path}/manifests/{named.tag}",
        scope=f"repository:{path}:pull,push",
        data=raw,
        headers={"Content-Type": mf.SCHEMA2},
    )
    if r.status_code not in (200, 201):
        raise RegistryError(error_text(r))
    dgst = "sha256:" + hashlib.sha256(raw).hexdigest()
    em.message(f"{named.tag}: digest: {dgst} size: {len(raw)}")
    em.aux({"Tag": named.tag, "Digest": dgst, "Size": len(raw)})
    svc.reference_store.add_digest(Reference(named.name, "", dgst), img.id, force=True)
    svc._event(img.id, named.name + ":" + named.tag, "push")
    return dgst


def _push_layer(
    s: Session, svc: Any, ls: Any, meta: Any, named: Reference, chain: str, diff: str, em: Emitter
) -> tuple[str, int]:
    """(digest, size) of the layer's blob in the registry, uploading only when needed.

    moby: distribution/push_v2.go v2PushDescriptor.Upload
    """
    id = short(diff)
    path = named.path
    domain = named.domain
    known = [m for m in meta.get_metadata(diff) if m.source_repository.split("/", 1)[0] == domain]
    for m in known:  # moby: layerAlreadyExists (same repository first)
        if m.source_repository == named.name and _exists(s, path, m.digest):
            size = _blob_size(s, path, m.digest)
            em.update(id, "Layer already exists")
            return m.digest, size
    for m in known:
        src = m.source_repository.split("/", 1)[1]
        if m.source_repository != named.name and _mount(s, path, m.digest, src):
            em.update(id, f"Mounted from {src}")
            meta.add(diff, V2Metadata(m.digest, named.name))
            return m.digest, _blob_size(s, path, m.digest)
    handle = ls.get(chain)
    try:
        with handle.tar_stream() as tar, tempfile.TemporaryFile(dir=ls.tmp_dir) as gz:
            h = hashlib.sha256()

            class _Hashing:
                def write(self, b: bytes) -> int:
                    h.update(b)
                    return gz.write(b)

                def flush(self) -> None:
                    pass

            with gzip.GzipFile(fileobj=_Hashing(), mode="wb", mtime=0) as z:  # type: ignore[arg-type]
                shutil.copyfileobj(tar, z, 1024 * 1024)
            dgst = "sha256:" + h.hexdigest()
            size = gz.tell()
            # moby checks the registry only for digests v2metadata knows; a layer
            # without any is uploaded (the registry keeps one copy) and is `Pushed`
            gz.seek(0)
            _upload(s, path, dgst, gz, size, em, id)
            em.update(id, "Pushed")
    finally:
        ls.release(handle)
    meta.add(diff, V2Metadata(dgst, named.name))
    return dgst, size


def _blob_size(s: Session, path: str, dgst: str) -> int:
    r = s.request("HEAD", f"/v2/{path}/blobs/{dgst}", scope=f"repository:{path}:pull")
    return int(r.headers.get("Content-Length") or 0)


def _push_stored(
    svc: Any,
    s: Session,
    named: Reference,
    img: Any,
    found: tuple[bytes, str, Any],
    order: list[int],
    em: Emitter,
) -> str:
    """Push on the containerd store: the layers' and config's blobs and the manifest **as
    stored**, so the pushed digest is the image's ID (its target digest); progress names
    each layer by its blob's digest.

    moby 29: daemon/containerd/image_push.go, progress.go (containerd's remotes push)
    """
    raw, media_type, read = found
    manifest = json.loads(raw)
    path = named.path
    for status in ("Preparing", "Waiting"):
        for i in order:
            em.update(short(manifest["layers"][i]["digest"]), status)
    for i in order:
        layer = manifest["layers"][i]
        id = short(layer["digest"])
        if _exists(s, path, layer["digest"]):
            em.update(id, "Layer already exists")
            continue
        data = read(layer["digest"])
        _upload(s, path, layer["digest"], io.BytesIO(data), len(data), em, id)
        em.update(id, "Pushed")
    config = manifest["config"]
    if not _exists(s, path, config["digest"]):
        data = read(config["digest"])
        _upload(s, path, config["digest"], io.BytesIO(data), len(data), None, "")
    r = s.request(
        "PUT",
        f"/v2/{path}/manifests/{named.tag}",
        scope=f"repository:{path}:pull,push",
        data=raw,
        headers={"Content-Type": media_type},
    )
    if r.status_code not in (200, 201):
        raise RegistryError(error_text(r))
    dgst = "sha256:" + hashlib.sha256(raw).hexdigest()
    em.message(f"{named.tag}: digest: {dgst} size: {len(raw)}")
    em.aux({"Tag": named.tag, "Digest": dgst, "Size": len(raw)})
    svc._event(img.id, named.name + ":" + named.tag, "push")
    return dgst
