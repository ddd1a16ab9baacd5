"""`docker pull`: manifest, config and layer blobs over `/v2/`, streamed into the store.

Up to three layers download at once (threads), each into an unnamed temp file while its
digest is computed, as dockerd does. Each layer is extracted in one pass (gunzip, DiffID,
tar-split and the files: `LayerStore.fill`) that reads its download as it grows, so it is
extracted while it still arrives and its temp file is read from the page cache, never
spooled again. On overlay2 and aufs, whose layer folders do not depend on their parents'
files, up to four layers are extracted side by side, each into a folder prepared on the
one below; elsewhere (vfs) one after the other. Layers are recorded bottom up, each once
its download's digest has been checked: a blob that does not match leaves no layer.
Every layer recorded by a failed pull is released again and no image, tag or v2metadata
is written, so the store is left as it was.

moby: distribution/pull_v2.go, distribution/xfer/download.go
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import queue
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
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
from dockerlayers.layer.store import ParentReplaced, Prepared

MAX_CONCURRENT_DOWNLOADS = 3  # dockerd's default: threads downloading at once, `Waiting`
_CHUNK = 1 << 20


class ManifestNotFound(RegistryError, ImageNotFound):
    """moby: distribution/errors.go (manifest unknown). An ImageNotFound (a NotFound), as
    docker-py classes the engine's 404 for a pull of an image no registry has."""


class VerificationError(RegistryError):
    """A blob whose content does not match its digest."""


class _Cancelled(Exception):
    """A download stopped because the pull failed elsewhere."""


def metadata_service(svc: Any) -> V2MetadataService:
    own = getattr(svc, "distribution_metadata", None)  # the containerd store's
    if own is not None:
        return own
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


class _DownloadFailed(Exception):
    """A layer's download stopped (its error is the blob's); the reader gives up."""


class _Group:
    """What the downloads of one pull share: a lock, the failures, and every blob's
    condition on that lock (a reader wakes for its own blob's bytes, and for any failure)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failed: list[BaseException] = []
        self._conds: list[threading.Condition] = []

    def condition(self) -> threading.Condition:
        cond = threading.Condition(self.lock)
        self._conds.append(cond)
        return cond

    def wake_all(self) -> None:
        """Wake every reader (the lock held)."""
        for cond in self._conds:
            cond.notify_all()


class _Blob:
    """A blob downloading into an unnamed temp file, readable (`reader`) while it grows."""

    def __init__(self, tmp_dir: str, group: _Group) -> None:
        self.file = tempfile.TemporaryFile(dir=tmp_dir, buffering=0)  # noqa: SIM115 (close)
        self.size = 0
        self.done = False
        self.error: BaseException | None = None
        self._group = group
        self._cond = group.condition()
        self._failed = group.failed

    def append(self, data: bytes) -> None:
        view = memoryview(data)
        fd = self.file.fileno()
        while view:
            view = view[os.write(fd, view) :]
        with self._cond:
            self.size += len(data)
            self._cond.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        with self._cond:
            self.done, self.error = True, error
            if error is not None and not isinstance(error, _Cancelled):
                self._failed.append(error)
                self._group.wake_all()
            self._cond.notify_all()

    def wait(self) -> None:
        """Until the download has ended (completed, refused or stopped) or another one of
        the pull has failed."""
        with self._cond:
            while not self.done and not self._failed:
                self._cond.wait()

    def outcome(self) -> BaseException | None:
        """After `wait`: this download's error, else the pull's first failed download."""
        with self._cond:
            if self.error is not None:
                return self.error
            return self._failed[0] if self._failed else None

    def available(self, pos: int) -> int:
        """Bytes readable at `pos`, waiting for some (0: the end)."""
        with self._cond:
            while pos >= self.size and not self.done and not self._failed:
                self._cond.wait()
            if self.error is not None or self._failed:
                raise _DownloadFailed()
            return self.size - pos

    def reader(self) -> io.RawIOBase:
        return _BlobReader(self)

    def read_all(self) -> bytes:
        self.wait()
        error = self.outcome()
        if error is not None:
            raise error
        return os.pread(self.file.fileno(), self.size, 0)

    def close(self) -> None:
        self.file.close()


class _BlobReader(io.RawIOBase):
    """Reads a `_Blob` from its start, waiting for the bytes not yet downloaded."""

    def __init__(self, blob: _Blob) -> None:
        self._blob = blob
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("a download is read from its start")
        self._pos = max(0, offset)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 20
        have = self._blob.available(self._pos)
        if not have or not n:
            return b""
        data = os.pread(self._blob.file.fileno(), min(n, have), self._pos)
        self._pos += len(data)
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class _Prefetch(io.RawIOBase):
    """Reads `src` ahead on a thread of its own, a few MiB at most, so that reading and
    inflating a layer overlaps with digesting it and writing its files: zlib, hashlib and
    file writes release the GIL, so the two run on two cores. The thread's error is
    raised to the reader, where it would have been raised. `close` stops the thread."""

    def __init__(self, src: Any, chunk: int = 1 << 20, depth: int = 1) -> None:
        self._q: queue.Queue = queue.Queue(depth)
        self._stop = False
        self._item = b""
        self._off = 0
        self._eof = False
        self._thread = threading.Thread(
            target=self._run, args=(src, chunk), name="pull-inflate", daemon=True
        )
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop:
            try:
                self._q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, src: Any, chunk: int) -> None:
        try:
            while not self._stop:
                data = src.read(chunk)
                if not self._put(data) or not data:
                    return
        except BaseException as e:
            self._put(e)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._off >= len(self._item):
            if self._eof:
                return b""
            item = self._q.get()
            if isinstance(item, BaseException):
                self._eof = True
                raise item
            if not item:
                self._eof = True
                return b""
            self._item, self._off = item, 0
        item, off = self._item, self._off
        if off == 0 and (n < 0 or n >= len(item)):
            self._off = len(item)
            return item
        end = len(item) if n < 0 else min(len(item), off + n)
        self._off = end
        return item[off:end]

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._stop = True
        while self._thread.is_alive():
            try:
                self._q.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()
        super().close()


def _download(
    s: Session,
    ref: Reference,
    dgst: str,
    blob: _Blob,
    em: Emitter | None,
    id: str,
    cancel: threading.Event | None = None,
) -> None:
    """The blob streamed into `blob` while its digest is taken; the digest checked at the
    end. Its outcome is recorded in `blob`. moby: distribution/pull_v2.go Download"""
    try:
        r = s.request(
            "GET", f"/v2/{ref.path}/blobs/{dgst}", scope=f"repository:{ref.path}:pull", stream=True
        )
        try:
            if r.status_code != 200:
                raise RegistryError(error_text(r))
            total = int(r.headers.get("Content-Length") or 0)
            h = hashlib.sha256()
            done = 0
            for chunk in r.iter_content(_CHUNK):
                if cancel is not None and cancel.is_set():
                    raise _Cancelled()
                h.update(chunk)
                blob.append(chunk)
                done += len(chunk)
                if em is not None:
                    em.update(id, "Downloading", done, total)
        finally:
            r.close()
        if em is not None:
            em.update(id, "Verifying Checksum")
        if "sha256:" + h.hexdigest() != dgst:
            raise VerificationError(f"filesystem layer verification failed for digest {dgst}")
        if em is not None:
            em.update(id, "Download complete")
    except BaseException as e:
        blob.finish(e)
        raise
    blob.finish()


def _fetch_blob(s: Session, ref: Reference, dgst: str, tmp_dir: str) -> bytes:
    """A small blob (a config), digest-checked."""
    blob = _Blob(tmp_dir, _Group())
    try:
        _download(s, ref, dgst, blob, None, "")
        return blob.read_all()
    finally:
        blob.close()


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
    # the containerd image store (moby 29: image_pull.go) keeps the blobs as pulled, under
    # a lease until the image's record holds them
    lease = getattr(svc, "pull_lease", None)
    with lease() if lease is not None else contextlib.nullcontext():
        if config_digest in svc.image_store:
            image_id = config_digest
            store = getattr(svc, "store_pulled", None)
            if store is not None:
                config = svc.image_store.fs.get(config_digest)
                store(top, (raw, mtype), config, {}, _fetcher(svc, s, ref))
        else:
            image_id = _pull_layers(svc, s, ref, manifest, em, (top, (raw, mtype)))
        em.message("Digest: " + manifest_digest)
        return image_id, _tag(svc, ref, image_id, manifest_digest)


def _fetcher(svc: Any, s: Session, ref: Reference) -> Callable[[str], bytes]:
    def fetch(dgst: str) -> bytes:
        return _fetch_blob(s, ref, dgst, svc.layer_store.tmp_dir)

    return fetch


def familiar_name_tag(ref: Reference) -> str:
    """`name:tag` (or `name@digest`) as containerd names the image (the full name)."""
    return f"{ref.name}@{ref.digest}" if ref.digest and not ref.tag else f"{ref.name}:{ref.tag}"


def _pull_layers(
    svc: Any,
    s: Session,
    ref: Reference,
    manifest: dict[str, Any],
    em: Emitter,
    pulled: tuple[tuple[bytes, str], tuple[bytes, str]],
) -> str:
    """Download what is missing, register it, create the image; undo all on error."""
    ls = svc.layer_store
    meta = metadata_service(svc)
    store = getattr(svc, "store_pulled", None)  # the containerd store: blobs as pulled
    own_blobs = getattr(ls.driver, "external_blobs", None) if store is not None else None
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
    # moby: distribution/xfer/download.go — up to MAX_CONCURRENT_DOWNLOADS layers download
    # at once, each into a temp file, digest-checked, and each is extracted as it arrives:
    # on drivers whose layer folders do not depend on their parents' files (overlay2,
    # aufs) side by side, each into a folder prepared on the one below (one more than the
    # downloads: a layer's extraction starts with its download while the ones below
    # finish theirs); elsewhere one after the other. Layers are recorded bottom up.
    cancel = threading.Event()
    group = _Group()
    blobs = {i: _Blob(tmp, group) for i in todo}

    sessions = {i: s.fork() for i in todo}  # forked here: the config is fetched on `s`

    def download(i: int) -> None:
        dgst = layers[i]["digest"]
        _download(sessions[i], ref, dgst, blobs[i], em, short(dgst), cancel)

    # a layerdb made for this pull's first layer goes again if the pull fails
    layerdb = ls.store.root
    fresh = [d for d in ("sha256", "tmp") if not os.path.isdir(os.path.join(layerdb, d))]
    pool = ThreadPoolExecutor(MAX_CONCURRENT_DOWNLOADS, thread_name_prefix="pull")
    for i in todo:
        pool.submit(download, i)
    side_by_side = len(todo) > 1 and ls.fills_independently()
    extract = ThreadPoolExecutor(MAX_CONCURRENT_DOWNLOADS + 1, thread_name_prefix="extract")
    prepared: dict[int, Prepared] = {}
    fills: dict[int, Future] = {}
    handles: list[Layer] = []
    records: list[tuple[str, V2Metadata]] = []
    readers: list[_Prefetch] = []

    def stop() -> None:
        """Downloads and extractions ended, prepared layers not recorded removed."""
        cancel.set()
        with group.lock:
            group.wake_all()
        pool.shutdown(wait=True, cancel_futures=True)
        for blob in blobs.values():
            if not blob.done:  # never started: its reader must not wait for it
                blob.finish(_Cancelled())
        extract.shutdown(wait=True, cancel_futures=True)
        for r in readers:
            r.close()
        for i in sorted(prepared, reverse=True):
            ls.abort_prepared(prepared[i])

    try:
        # moby: pull_v2.go pullSchema2 — the config comes while the layers download
        config = _fetch_blob(s, ref, manifest["config"]["digest"], tmp)
        diff_ids = json.loads(config).get("rootfs", {}).get("diff_ids") or []
        if len(diff_ids) != len(layers):
            raise RegistryError("layers from manifest don't match image configuration")
        parent = None
        for i in range(len(layers) - len(todo)):  # the ones the store has: the bottom ones
            chain = create_chain_id_from_parent(parent, diff_ids[i])
            handles.append(ls.get(chain))
            parent = chain
        if side_by_side:
            below: str | Prepared | None = parent
            for i in todo:
                below = prepared[i] = ls.prepare(below)
            for i in todo:
                fills[i] = extract.submit(_fill, ls, prepared[i], blobs[i], readers)
        for i in todo:
            layer = layers[i]
            id, size = short(layer["digest"]), int(layer.get("size") or 0)
            handle = None
            if side_by_side:
                try:
                    fills[i].result()
                    em.update(id, "Extracting", size, size)
                    handle = ls.commit_prepared(prepared[i])
                except ParentReplaced:
                    # the layer below was one the store already had (another pull made
                    # it meanwhile): the rest are made again, one after the other
                    for j in todo:
                        if j >= i:
                            wait([fills[j]])
                            ls.abort_prepared(prepared[j])
                    side_by_side = False
            if handle is None:
                with own_blobs() if own_blobs is not None else contextlib.nullcontext():
                    handle = _register(ls, blobs[i], readers, parent, em, id, size)
            handles.append(handle)
            if handle.diff_id != diff_ids[i]:
                raise RegistryError("layers from manifest don't match image configuration")
            records.append((handle.diff_id, V2Metadata(layer["digest"], ref.name)))
            parent = handle.chain_id
            em.update(id, "Pull complete")
        if store is not None:
            got = {layers[i]["digest"]: blobs[i].read_all() for i in todo}
            store(*pulled, config, got, _fetcher(svc, s, ref))
        image_id = svc.image_store.create(config)
    except BaseException:
        stop()
        while handles:
            ls.release(handles.pop())
        for d in fresh:
            try:
                os.rmdir(os.path.join(layerdb, d))
            except OSError:
                pass
        raise
    finally:
        stop()
        for blob in blobs.values():
            blob.close()
        while handles:
            ls.release(handles.pop())
    for diff, m in records:
        meta.add(diff, m)
    return image_id


def _fill(ls: Any, prepared: Prepared, blob: _Blob, readers: list[_Prefetch]) -> None:
    """One layer extracted into its prepared folder as it downloads (a thread of its own).
    The download's outcome comes first, as in dockerd, which extracts only what it has
    verified: a digest that does not match is the error even when the bytes also fail to
    inflate or untar."""

    def verify(diff_id: str) -> None:
        _raise_download_error(blob)

    try:
        readers.append(_Prefetch(decompress_stream(blob.reader())))
        ls.fill(prepared, readers[-1], verify)
    except Exception as e:
        _raise_download_error(blob, e)
        raise


def _raise_download_error(blob: _Blob, current: BaseException | None = None) -> None:
    """Once the download has ended: its error, if it failed (and it is not `current`,
    the error being handled, which is raised again by the caller)."""
    blob.wait()
    error = blob.outcome()
    if error is not None and error is not current:
        if current is None:
            raise error
        raise error from None


def _register(
    ls: Any,
    blob: _Blob,
    readers: list[_Prefetch],
    parent: str | None,
    em: Emitter,
    id: str,
    size: int,
) -> Layer:
    """One layer registered on `parent` from its download as it arrives (`_fill`'s rule
    for errors)."""

    def verify(diff_id: str) -> None:
        _raise_download_error(blob)
        em.update(id, "Extracting", size, size)

    try:
        readers.append(_Prefetch(decompress_stream(blob.reader())))
        return ls.register_stream(readers[-1], parent, verify)
    except Exception as e:
        _raise_download_error(blob, e)
        raise


def _tag(svc: Any, ref: Reference, image_id: str, manifest_digest: str) -> bool:
    """Point the tag and `name@digest` at the image; True when something changed.

    moby: distribution/pull_v2.go pullV2Tag (tagUpdated), addDigestReference
    """
    rs = svc.reference_store
    changed = False
    if ref.tag:
        try:
            old = rs.get(ref)
        except NotFound:
            old = None
        if old != image_id:
            rs.add_tag(ref, image_id, force=True)
            changed = True
    # (after the tag: on the containerd store, NAME@<digest> of a named image is no record)
    digested = Reference(ref.name, "", manifest_digest)
    record = getattr(rs, "add_digest_record", None)
    if ref.digest and record is not None:  # moby 29: a pull by digest names a record so
        changed = record(digested, image_id) or changed
    try:
        rs.get(digested)  # moby: a digest keeps its first image ("cannot update")
    except NotFound:
        rs.add_digest(digested, image_id, force=True)
        changed = changed or ref.digest != ""
    svc._event(image_id, familiar_string(ref), "pull")
    return changed
