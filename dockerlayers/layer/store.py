"""LayerStore: image layers by ChainID and container RW layers by name, on a graph driver.

moby: layer/layer_store.go
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

from dockerlayers.archive.errors import ApplyLayerError, LayerTarError, apply_layer_error
from dockerlayers.digest import create_chain_id_from_parent
from dockerlayers.graphdriver import Driver
from dockerlayers.graphdriver.rootfs import RootFS
from dockerlayers.ioutils import remove_all
from dockerlayers.layer.errors import (
    LayerDoesNotExist,
    LayerNotRetained,
    MaxDepthExceeded,
    MountDoesNotExist,
    MountNameConflict,
)
from dockerlayers.layer.filestore import FileMetadataStore, Transaction
from dockerlayers.layer.mounted import MountedLayer, RWLayer
from dockerlayers.layer.ro import Layer, Metadata, RoLayer
from dockerlayers.stringid import IDGenerator

if TYPE_CHECKING:
    import logging


def _log() -> logging.Logger:
    """The module's logger; logging loads only when there is something to log."""
    import logging

    return logging.getLogger(__name__)


#: 127 layers fit in one overlay mount; two go to the container's init and RW layers.
MAX_LAYER_DEPTH = 125

InitFunc = Callable[[RootFS], None]
TarInput = BinaryIO | bytes | str


def _spool(data: TarInput, tmp_dir: str) -> tuple[BinaryIO, str]:
    """Copy the whole input (to EOF, padding included) into a temp file; return it and its
    sha256 digest (the DiffID)."""
    import hashlib
    import tempfile

    out = tempfile.TemporaryFile(dir=tmp_dir)  # noqa: SIM115 (handed to the caller)
    digester = hashlib.sha256()
    if isinstance(data, bytes):
        digester.update(data)
        out.write(data)
    else:
        src = open(data, "rb") if isinstance(data, str) else data  # noqa: SIM115 (handed to the caller)
        try:
            while chunk := src.read(1 << 20):
                digester.update(chunk)
                out.write(chunk)
        finally:
            if isinstance(data, str):
                src.close()
    out.seek(0)
    return out, "sha256:" + digester.hexdigest()  # type: ignore[return-value]


def store_layer(
    tx: Transaction, diff_id: str, size: int, cache_id: str, parent: str | None
) -> None:
    """Write a new layer's metadata into its transaction: diff, size, cache-id, parent.

    moby: layer/layer_store.go storeLayer
    """
    tx.set_diff_id(diff_id)
    tx.set_size(size)
    tx.set_cache_id(cache_id)
    if parent is not None:
        tx.set_parent(parent)


def apply_error(e: LayerTarError | OSError) -> ApplyLayerError:
    """How the daemon words a layer that failed to apply: `Error processing tar
    file(exit status 1): <the applier's error>`, or the broken input's error in the
    place of the exit status (see ApplyLayerError). An OS error reads as Go's:
    `<path>: <errno text in lower case>`.

    moby: pkg/chrootarchive/diff_unix.go applyLayerHandler
    """
    if isinstance(e, OSError):
        text = (e.strerror or str(e)).lower()
        return ApplyLayerError(f"{e.filename}: {text}" if e.filename else text)
    return apply_layer_error(e)


class ParentReplaced(Exception):
    """A prepared layer's parent turned out to be a layer the store already had: the
    folder it was made on is gone, so it must be made again."""


class Prepared:
    """A layer made ahead of being recorded (`LayerStore.prepare`): its folder on its
    parent's, its write-set open; DiffID and size once filled; its ChainID once
    committed (`replaced` if the store had it already)."""

    def __init__(
        self,
        cache_id: str,
        tx: Transaction,
        parent_cache: str | None,
        parent_layer: RoLayer | None,
        below: Prepared | None,
        depth: int,
    ) -> None:
        self.cache_id, self.tx, self.parent_cache = cache_id, tx, parent_cache
        self.parent_layer, self.below, self.depth = parent_layer, below, depth
        self.diff_id, self.size, self.chain_id = "", 0, ""
        self.replaced = False
        self.done = False


class LayerStore:
    """Layers registered from tars, reference-counted, kept in the layerdb on disk.

    `root` is the daemon's root; the layerdb lives under `<root>/image/<driver>/layerdb`.
    A new store on the same root restores every layer and mount.
    """

    #: the class of its image layers (the containerd store's read their tar from a blob)
    layer_class = RoLayer

    def __init__(self, root: str, driver: Driver, *, ids: IDGenerator | None = None) -> None:
        self.root = os.path.abspath(root)
        self.driver = driver
        self.ids = ids or IDGenerator()
        self.tmp_dir = os.path.join(self.root, "tmp")
        os.makedirs(self.tmp_dir, mode=0o700, exist_ok=True)
        self.store = self._metadata_store()
        self.layer_map: dict[str, RoLayer] = {}
        self.mounts: dict[str, MountedLayer] = {}
        self._lock = threading.RLock()
        self._in_flight: set[str] = set()  # driver ids being made, not yet recorded
        #: driver ids `cleanup` kept although no record refers to them (a container's RW data
        #: whose mount record is gone): for the user to look at, never deleted here
        self.quarantined: list[str] = []
        #: called before a release may delete a layer: loads whoever else holds layers (the
        #: daemon's image store, made on first use) so that their references count
        self.before_release: Callable[[], object] | None = None
        self._restore()

    def _metadata_store(self) -> FileMetadataStore:
        """The layers' records: the layerdb, `<root>/image/<driver>/layerdb`."""
        return FileMetadataStore(os.path.join(self.root, "image", self.driver.name, "layerdb"))

    def __repr__(self) -> str:
        return (
            f"<LayerStore {self.store.root} {len(self.layer_map)} layers, "
            f"{len(self.mounts)} mounts>"
        )

    # -- restore ---------------------------------------------------------------------------
    def _restore(self) -> None:
        """Load every layer and mount from disk and rebuild the reference counts; then clean
        up what an interrupted operation left behind.

        moby: layer/layer_store.go newStoreFromGraphDriver
        """
        chains, mounts = self.store.list()
        for chain_id in chains:
            try:
                self._load_layer(chain_id)
            except Exception as e:  # a damaged layer is skipped, not deleted (moby)
                _log().debug("Failed to load layer %s: %s", chain_id, e)
        for layer in self.layer_map.values():
            if layer.parent is not None:
                layer.parent.reference_count += 1
        for name in mounts:
            try:
                self._load_mount(name)
            except Exception as e:
                _log().debug("Failed to load mount %s: %s", name, e)
        self.cleanup()

    def _load_layer(self, chain_id: str) -> RoLayer:
        """moby: layer/layer_store.go loadLayer"""
        layer = self.layer_map.get(chain_id)
        if layer is not None:
            return layer
        diff_id = self.store.get_diff_id(chain_id)
        size = self.store.get_size(chain_id)
        cache_id = self.store.get_cache_id(chain_id)
        parent_id = self.store.get_parent(chain_id)
        parent = self._load_layer(parent_id) if parent_id else None
        if not self.driver.exists(cache_id):
            raise LayerDoesNotExist(f"failed to get cache id for {chain_id}: layer folder missing")
        layer = self.layer_class(self, chain_id, diff_id, parent, cache_id, size)
        self.layer_map[chain_id] = layer
        return layer

    def _load_mount(self, name: str) -> None:
        """moby: layer/layer_store.go loadMount (the record only: the driver folders are not
        checked, so that a container whose removal a crash interrupted, its RW folder half
        gone, still loads, dead, and `docker rm` can finish the job)"""
        mount_id = self.store.get_mount_id(name)
        init_id = self.store.get_init_id(name)
        parent_id = self.store.get_mount_parent(name)
        parent = None
        if parent_id:
            parent = self.layer_map.get(parent_id)
            if parent is None:
                raise LayerDoesNotExist()
        if parent is not None:
            parent.reference_count += 1
        self.mounts[name] = MountedLayer(self, name, mount_id, init_id, parent)

    # -- image layers ------------------------------------------------------------------------
    def register(self, tar: TarInput, parent: str | None = None) -> Layer:
        """Extract a layer tar on top of the layer `parent` and record it; returns a handle.

        The DiffID is the sha256 of the stream exactly as given (read to its end); the
        ChainID follows from the parent's. Registering content that is already there
        (same ChainID) hands out another reference to the existing layer. The tar is
        first copied to a temp file (validated whole before anything is written, then
        read again for tar-split and the files); `register_stream` takes one pass.

        moby: layer/layer_store.go registerWithDescriptor
        """

        def fill(tx: Transaction, cache_id: str, parent_cache: str | None) -> tuple[str, int]:
            from dockerlayers.archive.tarsplit import iter_make_tar_split, write_tar_split

            spooled, diff_id = _spool(tar, self.tmp_dir)
            with spooled:
                write_tar_split(iter_make_tar_split(spooled), tx.tar_split_path())
                spooled.seek(0)
                size = self.driver.apply_diff(cache_id, parent_cache, spooled)
            return diff_id, size

        return self._register(parent, fill)

    def register_stream(
        self,
        tar: BinaryIO,
        parent: str | None = None,
        verify: Callable[[str], None] | None = None,
    ) -> Layer:
        """`register` in one pass over `tar` (read once, to its end; it need not seek): the
        DiffID, tar-split (CRC-64s included) and the files are made as the bytes come,
        with no temp file. `verify(diff_id)` runs once the stream has ended, before
        anything is recorded: raising there (a download whose digest does not match)
        removes what was applied, and no layer is registered.

        moby: layer/layer_store.go applyTar (the digester, tar-split and ApplyDiff on one
        stream), registerWithDescriptor
        """
        prepared = self.prepare(parent)
        try:
            self.fill(prepared, tar, verify)
            return self.commit_prepared(prepared)
        except BaseException:
            self.abort_prepared(prepared)
            raise

    # -- layers made side by side (a pull) ---------------------------------------------------
    def fills_independently(self) -> bool:
        """Whether a layer's folder can be filled before its parent's is: the layer's diff
        is a folder of its own (overlay2, aufs), where vfs copies the parent's files when
        it makes the folder."""
        return self.driver.name in ("overlay2", "aufs")

    def prepare(self, parent: str | Prepared | None = None) -> Prepared:
        """Make a layer's folder on `parent` (a layer's ChainID, or a layer prepared before
        this one, when `fills_independently`) and open its write-set, to `fill` (on any
        thread) and then `commit_prepared` (bottom up) or `abort_prepared`.

        moby: layer/layer_store.go registerWithDescriptor (its first half)
        """
        p: RoLayer | None = None
        below: Prepared | None = None
        if isinstance(parent, Prepared):
            below = parent
            depth = below.depth
        elif parent:
            with self._lock:
                p = self._get(parent)
            depth = p.depth()
        else:
            depth = 0
        if depth >= MAX_LAYER_DEPTH:
            if p is not None:
                self._release_parent(p)
            raise MaxDepthExceeded()
        cache_id = self.ids.generate_random_id()
        self._in_flight.add(cache_id)
        tx = None
        try:
            tx = self.store.start_transaction()
            parent_cache = below.cache_id if below else p.cache_id if p else None
            self.driver.create(cache_id, parent_cache)
        except BaseException:
            if tx is not None:
                tx.cancel()
            if p is not None:
                self._release_parent(p)
            self._in_flight.discard(cache_id)
            raise
        return Prepared(cache_id, tx, parent_cache, p, below, depth + 1)

    def fill(
        self, prepared: Prepared, tar: BinaryIO, verify: Callable[[str], None] | None = None
    ) -> None:
        """Apply `tar` (read once) to a prepared layer's folder, with its tar-split and
        DiffID; `verify(diff_id)` last. A broken tar is the applier's error, in the
        daemon's words."""
        from dockerlayers.archive.tarsplit import SplitStream, TarSplitWriter

        try:
            with TarSplitWriter(prepared.tx.tar_split_path()) as w:
                stream = SplitStream(tar, w.add)
                size = self.driver.apply_diff(prepared.cache_id, prepared.parent_cache, stream)  # type: ignore[arg-type]
                diff_id = stream.finish()
        except (LayerTarError, OSError) as e:
            if isinstance(e, ApplyLayerError):
                raise
            raise apply_error(e) from e
        if verify is not None:
            verify(diff_id)
        prepared.diff_id, prepared.size = diff_id, size

    def commit_prepared(self, prepared: Prepared) -> Layer:
        """Record a filled layer (its parent first); returns a handle. A layer the store
        already has (same ChainID) is handed out instead and the folder goes; a layer
        prepared on such a parent raises ParentReplaced (its folder sits on the one that
        went: make it again).

        moby: layer/layer_store.go registerWithDescriptor (its second half)
        """
        if prepared.done:
            raise RuntimeError("layer already committed or aborted")
        p = prepared.parent_layer
        below = prepared.below
        try:
            if below is not None:
                if below.replaced or not below.chain_id:
                    raise ParentReplaced()
                with self._lock:
                    p = prepared.parent_layer = self._get(below.chain_id)
            chain_id = create_chain_id_from_parent(p.chain_id if p else None, prepared.diff_id)
            tx = prepared.tx
            store_layer(
                tx, prepared.diff_id, prepared.size, prepared.cache_id, p.chain_id if p else None
            )
            with self._lock:
                prepared.chain_id = chain_id
                existing = self.layer_map.get(chain_id)
                if existing is not None:
                    prepared.replaced = True
                    self.abort_prepared(prepared)
                    return self._get_reference(existing, count=True)
                tx.commit(chain_id)
                layer = self.layer_class(
                    self, chain_id, prepared.diff_id, p, prepared.cache_id, prepared.size
                )
                self.layer_map[chain_id] = layer
                prepared.done = True
                self._in_flight.discard(prepared.cache_id)
                return self._get_reference(layer, count=True)
        except BaseException:
            self.abort_prepared(prepared)
            raise

    def abort_prepared(self, prepared: Prepared) -> None:
        """Remove a prepared layer's folder and write-set and give back its parent (done
        once; nothing if it was committed)."""
        if prepared.done:
            return
        prepared.done = True
        try:
            self.driver.remove(prepared.cache_id)
        finally:
            prepared.tx.cancel()
            if prepared.parent_layer is not None:
                self._release_parent(prepared.parent_layer)
                prepared.parent_layer = None
            self._in_flight.discard(prepared.cache_id)

    def _register(
        self, parent: str | None, fill: Callable[[Transaction, str, str | None], tuple[str, int]]
    ) -> Layer:
        """The layer's folder made on `parent`'s, filled by `fill` (returns DiffID and
        size), then recorded; all undone if anything fails.

        moby: layer/layer_store.go registerWithDescriptor
        """
        p: RoLayer | None = None
        if parent:
            with self._lock:
                p = self._get(parent)
            if p.depth() >= MAX_LAYER_DEPTH:
                self._release_parent(p)
                raise MaxDepthExceeded()
        cache_id = self.ids.generate_random_id()
        self._in_flight.add(cache_id)
        tx = None
        created = False
        try:
            tx = self.store.start_transaction()
            self.driver.create(cache_id, p.cache_id if p else None)
            created = True
            diff_id, size = fill(tx, cache_id, p.cache_id if p else None)
            chain_id = create_chain_id_from_parent(p.chain_id if p else None, diff_id)
            store_layer(tx, diff_id, size, cache_id, p.chain_id if p is not None else None)
            with self._lock:
                existing = self.layer_map.get(chain_id)
                if existing is not None:
                    self.driver.remove(cache_id)
                    tx.cancel()
                    if p is not None:
                        self._release_parent(p)
                    return self._get_reference(existing, count=True)
                tx.commit(chain_id)
                layer = self.layer_class(self, chain_id, diff_id, p, cache_id, size)
                self.layer_map[chain_id] = layer
                return self._get_reference(layer, count=True)
        except BaseException as e:
            if created:
                self.driver.remove(cache_id)
            if tx is not None:
                tx.cancel()
            if p is not None:
                self._release_parent(p)
            if isinstance(e, (LayerTarError, OSError)) and not isinstance(e, ApplyLayerError):
                raise apply_error(e) from e
            raise
        finally:
            self._in_flight.discard(cache_id)

    def _release_parent(self, p: RoLayer) -> None:
        with self._lock:
            self._release_layer(p)

    def _get(self, chain_id: str) -> RoLayer:
        layer = self.layer_map.get(chain_id)
        if layer is None:
            raise LayerDoesNotExist()
        layer.reference_count += 1
        return layer

    def _get_reference(self, layer: RoLayer, count: bool) -> Layer:
        if count:
            layer.reference_count += 1
        handle = Layer(layer)
        layer.references.add(handle)
        return handle

    def get(self, chain_id: str) -> Layer:
        """A new handle on the layer `chain_id` (a reference to release).

        moby: layer/layer_store.go Get
        """
        with self._lock:
            layer = self.layer_map.get(chain_id)
            if layer is None:
                raise LayerDoesNotExist()
            return self._get_reference(layer, count=True)

    def map(self) -> dict[str, RoLayer]:
        """Every loaded layer, without taking references (these cannot be released)."""
        with self._lock:
            return dict(self.layer_map)

    def release(self, handle: Layer) -> list[Metadata]:
        """Give back a handle; layers whose count reaches 0 are deleted, child first.

        moby: layer/layer_store.go Release
        """
        with self._lock:
            layer = self.layer_map.get(handle.chain_id)
            if layer is None:
                return []
            if handle not in layer.references:
                raise LayerNotRetained()
            layer.references.discard(handle)
            return self._release_layer(layer)

    def _release_layer(self, layer: RoLayer) -> list[Metadata]:
        """moby: layer/layer_store.go releaseLayer"""
        if self.before_release is not None:
            self.before_release()
        removed: list[Metadata] = []
        current: RoLayer | None = layer
        while current is not None:
            if current.reference_count == 0:
                raise LayerNotRetained()
            current.reference_count -= 1
            if current.reference_count > 0:
                break
            if current.references:
                raise RuntimeError("cannot delete referenced layer")
            self.layer_map.pop(current.chain_id, None)
            removed.append(self._delete_layer(current))
            current = current.parent
        return removed

    def _delete_layer(self, layer: RoLayer) -> Metadata:
        """Rename to `-removing`, remove the driver folder, then the metadata.

        moby: layer/layer_store.go deleteLayer
        """
        while True:
            try:
                doomed = self.store.rename_for_removal(
                    layer.chain_id, self.ids.generate_random_id()
                )
                break
            except FileExistsError:
                continue
        self.driver.remove(layer.cache_id)
        remove_all(doomed, ignore_errors=True)
        return Metadata(layer.chain_id, layer.diff_id, layer.size(), layer.diff_size())

    # -- RW layers ---------------------------------------------------------------------------
    def create_rw_layer(
        self, name: str, parent: str | None, init_func: InitFunc | None = None
    ) -> RWLayer:
        """Make the container's read-write layer on top of `parent`, with an init layer
        below it when `init_func` is given; records it under `layerdb/mounts/<name>`.

        moby: layer/layer_store.go CreateRWLayer
        """
        with self._lock:
            if name in self.mounts:
                raise MountNameConflict()
            p = self._get(parent) if parent else None
        mount_id = self.ids.generate_random_id()
        init_id = ""
        made: list[str] = []
        self._in_flight.update((mount_id, f"{mount_id}-init"))
        try:
            pid = p.cache_id if p else None
            if init_func is not None:
                init_id = self.init_mount(mount_id, pid, init_func)
                made.append(init_id)
                pid = init_id
            self.driver.create_read_write(mount_id, pid)
            made.append(mount_id)
            layer = MountedLayer(self, name, mount_id, init_id, p)
            self.save_mount(layer)
            with self._lock:
                self.mounts[name] = layer
                handle = RWLayer(layer)
                layer.references.add(handle)
                return handle
        except BaseException:
            for id in reversed(made):
                self.driver.remove(id)
            if os.path.isdir(self.store.mount_dir(name)) and name not in self.mounts:
                remove_all(self.store.mount_dir(name), ignore_errors=True)
            if p is not None:
                self._release_parent(p)
            raise
        finally:
            self._in_flight.difference_update((mount_id, f"{mount_id}-init"))

    def init_mount(self, graph_id: str, parent: str | None, init_func: InitFunc) -> str:
        """Create `<graph_id>-init` on `parent`, mount it, let `init_func` write into it.

        moby: layer/layer_store.go initMount
        """
        init_id = f"{graph_id}-init"
        self.driver.create_read_write(init_id, parent)
        try:
            fs = self.driver.get(init_id)
            try:
                init_func(fs)
            finally:
                self.driver.put(init_id)
        except BaseException:
            self.driver.remove(init_id)
            raise
        return init_id

    def save_mount(self, layer: MountedLayer) -> None:
        """Write mount-id, init-id and parent under layerdb/mounts/<name>.

        moby: layer/layer_store.go saveMount
        """
        self.store.set_mount(
            layer.name,
            layer.mount_id,
            layer.init_id,
            layer.parent.chain_id if layer.parent else None,
        )

    def get_rw_layer(self, name: str) -> RWLayer:
        """A new handle on the RW layer `name`.

        moby: layer/layer_store.go GetRWLayer
        """
        with self._lock:
            layer = self.mounts.get(name)
            if layer is None:
                raise MountDoesNotExist()
            handle = RWLayer(layer)
            layer.references.add(handle)
            return handle

    def get_mount_id(self, name: str) -> str:
        """moby: layer/layer_store.go GetMountID"""
        with self._lock:
            layer = self.mounts.get(name)
            if layer is None:
                raise MountDoesNotExist()
            return layer.mount_id

    def release_rw_layer(self, handle: RWLayer) -> list[Metadata]:
        """Give back an RW handle; the last one removes the RW and init folders and the
        mount record, then releases the image layer below.

        moby: layer/layer_store.go ReleaseRWLayer
        """
        with self._lock:
            layer = self.mounts.get(handle.name)
            if layer is None:
                return []
            if handle not in layer.references:
                raise LayerNotRetained()
            layer.references.discard(handle)
            if layer.references:
                return []
            try:
                self.driver.remove(layer.mount_id)
                if layer.init_id:
                    self.driver.remove(layer.init_id)
                self.store.remove_mount(layer.name)
            except BaseException:
                layer.references.add(handle)
                raise
            del self.mounts[layer.name]
            if layer.parent is None:
                return []
            return self._release_layer(layer.parent)

    # -- upkeep ------------------------------------------------------------------------------
    def cleanup(self) -> None:
        """Remove what interrupted operations left: `-removing` layer folders, unfinished
        write-sets, and driver folders that no layer or mount refers to.

        moby: layer/layer_store.go Cleanup (orphans); the rest is ours, for crash safety
        """
        with self._lock:
            for path, cache_id in self.store.get_orphans():
                if cache_id and not self._cache_id_in_use(cache_id):
                    self.driver.remove(cache_id)
                remove_all(path, ignore_errors=True)
            for path in self.store.stale_transactions():
                remove_all(path, ignore_errors=True)
            in_use = self._driver_ids_in_use()
            ids = self.driver.list_ids()
            kept = self._rw_data_without_record(ids, in_use)
            self.quarantined = sorted(kept)
            for id in ids:
                if id not in in_use and id not in kept and self.driver.mount_count(id) == 0:
                    self.driver.remove(id)

    def _rw_data_without_record(self, ids: list[str], in_use: set[str]) -> set[str]:
        """Unreferenced RW layers (`<id>` beside `<id>-init`) that hold changes: a
        container's data whose mount record was lost. Never deleted (moby deletes no
        driver folder it cannot account for); an interrupted create, with no change yet,
        is an orphan like any other. Listed in `quarantined`."""
        present = set(ids)
        kept: set[str] = set()
        for id in ids:
            init = id + "-init"
            if id in in_use or init in in_use or init not in present:
                continue
            try:
                changed = bool(self.driver.changes(id, init))
            except OSError:
                changed = True  # unreadable: keep it rather than guess
            if changed:
                kept |= {id, init}
        return kept

    def _cache_id_in_use(self, cache_id: str) -> bool:
        return cache_id in self._driver_ids_in_use()

    def _driver_ids_in_use(self) -> set[str]:
        """Driver ids that a loaded layer or mount, or any layerdb record on disk (even one
        that failed to load: moby skips those but never deletes them), refers to."""
        ids = {layer.cache_id for layer in self.layer_map.values()} | self._in_flight
        for mount in self.mounts.values():
            ids.add(mount.mount_id)
            if mount.init_id:
                ids.add(mount.init_id)
        # the records loaded here are in memory (their ids never change): only the others
        # (a record that failed to load, one made meanwhile) are read from disk
        known_layers = {chain[7:] for chain in self.layer_map}
        ids |= self.store.referenced_driver_ids(known_layers, self.mounts.keys())
        return ids

    def driver_status(self) -> list[tuple[str, str]]:
        return self.driver.status()

    def driver_name(self) -> str:
        return self.driver.name
