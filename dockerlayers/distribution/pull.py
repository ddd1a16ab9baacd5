"""`docker pull`: manifest, config and layer blobs over `/v2/`, streamed into the store.

Each layer is streamed from the socket to a temp file while its digest is computed
(constant memory), refused if the digest differs, then decompressed into the layer
store. Up to three layers download at once (threads), while the layers already complete
are registered, bottom up. Every layer registered by a failed pull is released again and
no image, tag or v2metadata is written, so the store is left as it was.

moby: distribution/pull_v2.go, distribution/xfer/download.go
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from dockerlayers.digest import create_chain_id_from_parent
from dockerlayers.distribution import manifest as mf
from dockerlayers.distribution.metadata import V2Metadata, V2MetadataService
from dockerlayers.distribution.progress import Emitter, Progress, short
from dockerlayers.distribution.registry import (
    NoCredentials,
    RegistryConfig,
    RegistryError,
    Session,
    error_text,
)
from dockerlayers.errors import ImageNotFound, NotFound
from dockerlayers.image.refname import Reference, familiar_string, parse_normalized_named
from dockerlayers.image.tarexport.source import decompress_stream
from dockerlayers.layer import Layer

MAX_CONCURRENT_DOWNLOADS = 3  # dockerd's default: threads downloading at once, `Waiting`
_CHUNK = 512 * 1024


class ManifestNotFound(RegistryError, ImageNotFound):
    """moby: distribution/errors.go (manifest unknown). An ImageNotFound (a NotFound), as
    docker-py classes the engine's 404 for a pull of an image no registry has."""


class VerificationError(RegistryError):
    """A blob whose content does not match its digest."""


class _Cancelled(Exception):
    """A download stopped because the pull failed elsewhere."""


def metadata_service(svc: Any) -> V2MetadataService:
    return V2MetadataService(
        os.path.join(svc.root, "image", svc.layer_store.driver_name(), "distribution")
    )


def _get_manifest(s: Session, ref: Reference, target: str) -> tuple[bytes, str]:
    """The manifest (HEAD first for a tag, as dockerd does). moby: pull_v2.go pullV2Tag"""
    path, scope = f"/v2/{ref.path}/manifests/{target}", f"repository:{ref.path}:pull"
    headers = {"Accept": mf.ACCEPT}
    try:
        if not target.startswith("sha256:"):
            s.request("HEAD", path, scope=scope, headers=headers)
        r = s.request("GET", path, scope=scope, headers=headers)
    except NoCredentials as e:
        raise RegistryError(f'{e.method.title()} "{e.url}": {e}') from None
    if r.status_code == 404:
        raise ManifestNotFound(f"manifest for {ref} not found: {error_text(r)}")
    if r.status_code != 200:
        raise RegistryError(error_text(r))
    return r.content, mf.media_type(r.content, r.headers.get("Content-Type", ""))


def _fetch_blob(
    s: Session,
    ref: Reference,
    dgst: str,
    tmp_dir: str,
    em: Emitter | None,
    id: str,
    cancel: threading.Event | None = None,
):
    """The blob streamed into a temp file, digest-checked. moby: pull_v2.go Download"""
    r = s.request(
        "GET", f"/v2/{ref.path}/blobs/{dgst}", scope=f"repository:{ref.path}:pull", stream=True
    )
    if r.status_code != 200:
        raise RegistryError(error_text(r))
    total = int(r.headers.get("Content-Length") or 0)
    out = tempfile.TemporaryFile(dir=tmp_dir)  # noqa: SIM115 (returned)
    h = hashlib.sha256()
    done = 0
    try:
        for chunk in r.iter_content(_CHUNK):
            if cancel is not None and cancel.is_set():
                raise _Cancelled()
            out.write(chunk)
            h.update(chunk)
            done += len(chunk)
            if em is not None:
                em.update(id, "Downloading", done, total)
        if em is not None:
            em.update(id, "Verifying Checksum")
        if "sha256:" + h.hexdigest() != dgst:
            raise VerificationError(f"filesystem layer verification failed for digest {dgst}")
    except BaseException:
        out.close()
        raise
    finally:
        r.close()
    out.seek(0)
    return out


def pull(
    svc: Any,
    ref: str,
    platform: str | None = None,
    all_tags: bool = False,
    progress: Progress | None = None,
    config: RegistryConfig | None = None,
    credentials: tuple[str, str] | None = None,
) -> list[str]:
    """Pull `ref` (every tag with `all_tags`); returns the image IDs pulled.

    moby: distribution/pull.go Pull, distribution/pull_v2.go pullV2Repository
    """
    named = parse_normalized_named(ref)
    cfg = config or RegistryConfig.from_daemon_json(svc.root)
    s = Session(cfg, named.domain, credentials)
    em = Emitter(progress)
    if all_tags:
        r = s.request("GET", f"/v2/{named.path}/tags/list", scope=f"repository:{named.path}:pull")
        if r.status_code != 200:
            raise RegistryError(error_text(r))
        refs = [Reference(named.name, t) for t in r.json().get("tags") or []]
    else:
        refs = [named.tag_name_only()]
    ids, updated = [], False
    for one in refs:
        image_id, changed = _pull_tag(svc, s, one, platform, em)
        ids.append(image_id)
        updated = updated or changed
    shown = familiar_string(named.trim() if all_tags else refs[0])
    if updated:
        em.message(f"Status: Downloaded newer image for {shown}")
    else:
        em.message(f"Status: Image is up to date for {shown}")
    return ids


def _pull_tag(
    svc: Any, s: Session, ref: Reference, platform: str | None, em: Emitter
) -> tuple[str, bool]:
    """moby: distribution/pull_v2.go pullV2Tag"""
    target = ref.digest or ref.tag
    raw, mtype = _get_manifest(s, ref, target)
    em.message(f"Pulling from {ref.path}", target)
    manifest_digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    if ref.digest and ref.digest != manifest_digest:
        raise RegistryError(f"manifest verification failed for digest {ref.digest}")
    top = (raw, mtype)  # what was asked for: a manifest, or a list (the image's target)
    if mtype in mf.LISTS:
        plat = mf.parse_platform(platform)
        entry = mf.select(json.loads(raw), plat)
        if entry is None:
            shown = "/".join(p for p in plat if p)
            raise RegistryError(f"no matching manifest for {shown} in the manifest list entries")
        raw, mtype = _get_manifest(s, ref, entry["digest"])
    manifest = json.loads(raw)
    if "config" not in manifest or "layers" not in manifest:
        raise RegistryError(f"unsupported manifest media type: {mtype}")
    config_digest = manifest["config"]["digest"]
    if config_digest in svc.image_store:
        image_id = config_digest
    else:
        image_id = _pull_layers(svc, s, ref, manifest, em)
    on_pulled = getattr(svc, "on_pulled", None)
    if on_pulled is not None:  # the containerd image store keeps the blobs as pulled

        def fetch(dgst: str) -> bytes:
            with _fetch_blob(s, ref, dgst, svc.layer_store.tmp_dir, None, "") as f:
                return f.read()

        on_pulled(image_id, familiar_name_tag(ref), top, (raw, mtype), fetch)
    em.message("Digest: " + manifest_digest)
    return image_id, _tag(svc, ref, image_id, manifest_digest)


def familiar_name_tag(ref: Reference) -> str:
    """`name:tag` (or `name@digest`) as containerd names the image (the full name)."""
    return f"{ref.name}@{ref.digest}" if ref.digest and not ref.tag else f"{ref.name}:{ref.tag}"


def _pull_layers(
    svc: Any, s: Session, ref: Reference, manifest: dict[str, Any], em: Emitter
) -> str:
    """Download what is missing, register it, create the image; undo all on error."""
    ls = svc.layer_store
    meta = metadata_service(svc)
    layers = manifest["layers"]
    # moby: distribution/xfer/download.go Download (the ones the store has are skipped)
    have: list[bool] = []
    parent: str | None = None
    missing = False
    for layer in layers:
        diff = meta.get_diff_id(layer["digest"])
        chain = create_chain_id_from_parent(parent, diff) if diff and not missing else None
        if chain and chain in ls.map():
            have.append(True)
            parent = chain
            em.update(short(layer["digest"]), "Already exists")
        else:
            have.append(False)
            missing = True
    todo = [i for i, h in enumerate(have) if not h]
    for i in todo:
        em.update(short(layers[i]["digest"]), "Pulling fs layer")
    for n, i in enumerate(todo):
        if n >= MAX_CONCURRENT_DOWNLOADS:
            em.update(short(layers[i]["digest"]), "Waiting")
    tmp = ls.tmp_dir
    with _fetch_blob(s, ref, manifest["config"]["digest"], tmp, None, "") as f:
        config = f.read()
    diff_ids = json.loads(config).get("rootfs", {}).get("diff_ids") or []
    if len(diff_ids) != len(layers):
        raise RegistryError("layers from manifest don't match image configuration")
    # moby: distribution/xfer/download.go — up to MAX_CONCURRENT_DOWNLOADS layers download
    # at once (each into a digest-checked temp file) while the ones already there are
    # registered, bottom up, as soon as they and the layers below them are complete
    cancel = threading.Event()

    def download(i: int) -> Any:
        dgst = layers[i]["digest"]
        f = _fetch_blob(s.fork(), ref, dgst, tmp, em, short(dgst), cancel)
        em.update(short(dgst), "Download complete")
        return f

    # a layerdb made for this pull's first layer goes again if the pull fails
    layerdb = ls.store.root
    fresh = [d for d in ("sha256", "tmp") if not os.path.isdir(os.path.join(layerdb, d))]
    pool = ThreadPoolExecutor(MAX_CONCURRENT_DOWNLOADS, thread_name_prefix="pull")
    futures: dict[int, Future] = {i: pool.submit(download, i) for i in todo}
    handles: list[Layer] = []
    records: list[tuple[str, V2Metadata]] = []
    try:
        parent = None
        for i, layer in enumerate(layers):
            if i not in futures:
                chain = create_chain_id_from_parent(parent, diff_ids[i])
                handles.append(ls.get(chain))
                parent = chain
                continue
            id = short(layer["digest"])
            size = int(layer.get("size") or 0)
            with futures[i].result() as blob:
                em.update(id, "Extracting", size, size)
                handle = ls.register(decompress_stream(blob), parent)
            handles.append(handle)
            if handle.diff_id != diff_ids[i]:
                raise RegistryError("layers from manifest don't match image configuration")
            records.append((handle.diff_id, V2Metadata(layer["digest"], ref.name)))
            parent = handle.chain_id
            em.update(id, "Pull complete")
        image_id = svc.image_store.create(config)
    except BaseException:
        while handles:
            ls.release(handles.pop())
        for d in fresh:
            try:
                os.rmdir(os.path.join(layerdb, d))
            except OSError:
                pass
        raise
    finally:
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for fut in futures.values():  # downloaded but never registered: drop the temp file
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                fut.result().close()
        while handles:
            ls.release(handles.pop())
    for diff, m in records:
        meta.add(diff, m)
    return image_id


def _tag(svc: Any, ref: Reference, image_id: str, manifest_digest: str) -> bool:
    """Point the tag and `name@digest` at the image; True when something changed.

    moby: distribution/pull_v2.go pullV2Tag (tagUpdated), addDigestReference
    """
    rs = svc.reference_store
    changed = False
    digested = Reference(ref.name, "", manifest_digest)
    try:
        rs.get(digested)  # moby: a digest keeps its first image ("cannot update")
    except NotFound:
        rs.add_digest(digested, image_id, force=True)
        changed = ref.digest != ""
    if ref.tag:
        try:
            old = rs.get(ref)
        except NotFound:
            old = None
        if old != image_id:
            rs.add_tag(ref, image_id, force=True)
            changed = True
    svc._event(image_id, familiar_string(ref), "pull")
    return changed
