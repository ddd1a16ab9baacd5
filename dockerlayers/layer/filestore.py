"""The layerdb on disk: one folder per image layer, one per container mount.

    image/<driver>/layerdb/sha256/<chainID hex>/{diff,size,cache-id,parent,tar-split.json.gz}
    image/<driver>/layerdb/mounts/<container id>/{mount-id,init-id,parent}
    image/<driver>/layerdb/tmp/write-set-*/      a layer being registered

A new layer's files are written into a write-set folder and appear with one rename; a layer
being deleted is first renamed to `<hex>-<random>-removing`, so a crash leaves either the
whole layer or a recognisable orphan.

moby: layer/filestore.go
"""

from __future__ import annotations

import os
import re
from collections.abc import Set

from dockerlayers.digest import is_digest
from dockerlayers.ioutils import AtomicWriteSet, mkdir_all, remove_all
from dockerlayers.stringid import is_valid_id

TAR_SPLIT = "tar-split.json.gz"
_HEX64 = re.compile(r"^[a-f0-9]{64}\Z")


class LayerMetadataError(ValueError):
    """A layerdb file is missing or holds an invalid value."""


def _read(path: str) -> str:
    """A layerdb value, trimmed; bytes that are not UTF-8 are kept (surrogate-escaped), as
    Go's string(bytes) keeps them, so a damaged value is an unusable id, not a crash.

    moby: layer/filestore.go (ioutil.ReadFile + strings.TrimSpace)
    """
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return f.read().strip()


class Transaction:
    """Metadata of one layer being registered: written aside, committed by rename.

    moby: layer/filestore.go fileMetadataTransaction
    """

    def __init__(self, store: FileMetadataStore) -> None:
        self.store = store
        self.ws = AtomicWriteSet(store.tmp_dir)

    @property
    def path(self) -> str:
        return self.ws.root

    def set_diff_id(self, diff_id: str) -> None:
        self.ws.write_file("diff", diff_id.encode())

    def set_size(self, size: int) -> None:
        self.ws.write_file("size", str(size).encode())

    def set_cache_id(self, cache_id: str) -> None:
        self.ws.write_file("cache-id", cache_id.encode())

    def set_parent(self, parent: str) -> None:
        self.ws.write_file("parent", parent.encode())

    def tar_split_path(self) -> str:
        return os.path.join(self.ws.root, TAR_SPLIT)

    def commit(self, chain_id: str) -> None:
        mkdir_all(self.store.sha_dir, 0o755)
        self.ws.commit(self.store.layer_dir(chain_id))

    def cancel(self) -> None:
        self.ws.cancel()


class FileMetadataStore:
    """The folder `image/<driver>/layerdb`.

    moby: layer/filestore.go fileMetadataStore
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.sha_dir = os.path.join(root, "sha256")
        self.mounts_dir = os.path.join(root, "mounts")
        self.tmp_dir = os.path.join(root, "tmp")
        mkdir_all(root, 0o700)

    # -- image layers --------------------------------------------------------------------
    def layer_dir(self, chain_id: str) -> str:
        return os.path.join(self.sha_dir, chain_id.split(":", 1)[1])

    def start_transaction(self) -> Transaction:
        return Transaction(self)

    def get_diff_id(self, chain_id: str) -> str:
        value = _read(os.path.join(self.layer_dir(chain_id), "diff"))
        if not is_digest(value):
            raise LayerMetadataError(f"invalid diff id value: {value!r}")
        return value

    def get_size(self, chain_id: str) -> int:
        return int(_read(os.path.join(self.layer_dir(chain_id), "size")))

    def get_cache_id(self, chain_id: str) -> str:
        value = _read(os.path.join(self.layer_dir(chain_id), "cache-id"))
        if not value:
            raise LayerMetadataError("invalid cache id value")
        return value

    def get_parent(self, chain_id: str) -> str | None:
        try:
            value = _read(os.path.join(self.layer_dir(chain_id), "parent"))
        except FileNotFoundError:
            return None
        if not is_digest(value):
            raise LayerMetadataError(f"invalid parent value: {value!r}")
        return value

    def tar_split_path(self, chain_id: str) -> str:
        return os.path.join(self.layer_dir(chain_id), TAR_SPLIT)

    def rename_for_removal(self, chain_id: str, random_id: str) -> str:
        """Rename the layer's folder to `<hex>-<random>-removing` and return the new path."""
        target = f"{self.layer_dir(chain_id)}-{random_id}-removing"
        os.rename(self.layer_dir(chain_id), target)
        return target

    # -- mounts --------------------------------------------------------------------------
    def mount_dir(self, name: str) -> str:
        return os.path.join(self.mounts_dir, name)

    def set_mount(self, name: str, mount_id: str, init_id: str, parent: str | None) -> None:
        """moby: layer/layer_store.go saveMount (plain writes, as in moby)"""
        path = self.mount_dir(name)
        os.makedirs(self.mounts_dir, mode=0o755, exist_ok=True)
        os.makedirs(path, mode=0o755, exist_ok=True)
        files = {"mount-id": mount_id}
        if init_id:
            files["init-id"] = init_id
        if parent:
            files["parent"] = parent
        for fname, value in files.items():
            with open(os.path.join(path, fname), "w") as f:
                f.write(value)
            os.chmod(os.path.join(path, fname), 0o644)

    def get_mount_id(self, name: str) -> str:
        value = _read(os.path.join(self.mount_dir(name), "mount-id"))
        if not is_valid_id(value):
            raise LayerMetadataError("invalid mount id value")
        return value

    def get_init_id(self, name: str) -> str:
        try:
            value = _read(os.path.join(self.mount_dir(name), "init-id"))
        except FileNotFoundError:
            return ""
        if value and not is_valid_id(value):
            raise LayerMetadataError("invalid init id value")
        return value

    def get_mount_parent(self, name: str) -> str | None:
        try:
            value = _read(os.path.join(self.mount_dir(name), "parent"))
        except FileNotFoundError:
            return None
        if not is_digest(value):
            raise LayerMetadataError(f"invalid parent value: {value!r}")
        return value

    def remove_mount(self, name: str) -> None:
        remove_all(self.mount_dir(name))

    # -- listing and orphans ---------------------------------------------------------------
    def list(self) -> tuple[list[str], list[str]]:
        """ChainIDs of committed layers and names of mounts.

        moby: layer/filestore.go List (folders that are not valid digests are skipped)
        """
        chains: list[str] = []
        if os.path.isdir(self.sha_dir):
            for name in sorted(os.listdir(self.sha_dir)):
                if _HEX64.match(name) and os.path.isdir(os.path.join(self.sha_dir, name)):
                    chains.append("sha256:" + name)
        mounts: list[str] = []
        if os.path.isdir(self.mounts_dir):
            mounts = sorted(
                n for n in os.listdir(self.mounts_dir) if os.path.isdir(self.mount_dir(n))
            )
        return chains, mounts

    def get_orphans(self) -> list[tuple[str, str | None]]:
        """Folders left by an interrupted delete: (path, cache-id or None).

        moby: layer/filestore.go getOrphan
        """
        found: list[tuple[str, str | None]] = []
        if not os.path.isdir(self.sha_dir):
            return found
        for name in sorted(os.listdir(self.sha_dir)):
            if not name.endswith("-removing"):
                continue
            path = os.path.join(self.sha_dir, name)
            try:
                cache_id: str | None = _read(os.path.join(path, "cache-id"))
            except OSError:
                cache_id = None
            found.append((path, cache_id))
        return found

    def referenced_driver_ids(
        self, known_layers: Set[str] = frozenset(), known_mounts: Set[str] = frozenset()
    ) -> set[str]:
        """Every cache-id, mount-id and init-id recorded on disk, loadable or not (layers
        being removed excepted). The layers (chain hexes) and mounts (names) the caller
        says it knows, holding their ids already (they never change), are not read."""
        found: set[str] = set()
        for base, names, known in (
            (self.sha_dir, ("cache-id",), known_layers),
            (self.mounts_dir, ("mount-id", "init-id"), known_mounts),
        ):
            if not os.path.isdir(base):
                continue
            for entry in os.listdir(base):
                if entry.endswith("-removing") or entry in known:
                    continue
                for name in names:
                    try:
                        value = _read(os.path.join(base, entry, name))
                    except OSError:
                        continue
                    if value:
                        found.add(value)
        return found

    def stale_transactions(self) -> list[str]:
        if not os.path.isdir(self.tmp_dir):
            return []
        return [os.path.join(self.tmp_dir, n) for n in sorted(os.listdir(self.tmp_dir))]
