"""The image store's files: config bytes by digest, and per-image metadata.

`content/sha256/<hex>` holds the raw config (0600, written atomically) and is re-hashed
on every read; `metadata/sha256/<hex>/<key>` holds `parent`, `lastUpdated`
(20.10 has no `builtLocally`).

moby: image/fs.go
"""

from __future__ import annotations

import os

from dockerlayers.digest import from_bytes, is_digest
from dockerlayers.ioutils import atomic_write_file, mkdir_all, remove_all, remove_temp_files


class FSStoreBackend:
    """moby: image/fs.go fs"""

    def __init__(self, root: str) -> None:
        self.root = root
        for sub in ("content", "metadata"):
            mkdir_all(os.path.join(root, sub, "sha256"), 0o700)
        # temp files of writes a crash interrupted (ours: moby leaves them)
        remove_temp_files(os.path.join(root, "content", "sha256"))
        meta = os.path.join(root, "metadata", "sha256")
        for name in os.listdir(meta):
            remove_temp_files(os.path.join(meta, name))

    def content_file(self, dgst: str) -> str:
        return os.path.join(self.root, "content", "sha256", dgst[7:])

    def metadata_dir(self, dgst: str) -> str:
        return os.path.join(self.root, "metadata", "sha256", dgst[7:])

    def walk(self) -> list[str]:
        """Every stored digest (invalid file names skipped).

        moby: image/fs.go Walk
        """
        out = []
        for name in sorted(os.listdir(os.path.join(self.root, "content", "sha256"))):
            dgst = "sha256:" + name
            if is_digest(dgst):
                out.append(dgst)
        return out

    def get(self, dgst: str) -> bytes:
        """The config bytes, checked against their digest.

        moby: image/fs.go Get
        """
        with open(self.content_file(dgst), "rb") as f:
            content = f.read()
        if from_bytes(content) != dgst:
            raise ValueError(f"failed to verify: {dgst}")
        return content

    def set(self, data: bytes) -> str:
        """Store config bytes; returns their digest (the image ID).

        moby: image/fs.go Set
        """
        if not data:
            raise ValueError("invalid empty data")
        dgst = from_bytes(data)
        atomic_write_file(self.content_file(dgst), data, 0o600)
        return dgst

    def exists(self, dgst: str) -> bool:
        return os.path.exists(self.content_file(dgst))

    def delete(self, dgst: str) -> None:
        """moby: image/fs.go Delete"""
        remove_all(self.metadata_dir(dgst), ignore_errors=True)
        try:
            os.remove(self.content_file(dgst))
        except FileNotFoundError:
            pass

    def set_metadata(self, dgst: str, key: str, data: bytes) -> None:
        """moby: image/fs.go SetMetadata"""
        if not self.exists(dgst):
            raise FileNotFoundError(f"failed to get digest {dgst}")
        directory = self.metadata_dir(dgst)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        atomic_write_file(os.path.join(directory, key), data, 0o600)

    def get_metadata(self, dgst: str, key: str) -> bytes:
        """moby: image/fs.go GetMetadata"""
        if not self.exists(dgst):
            raise FileNotFoundError(f"failed to get digest {dgst}")
        with open(os.path.join(self.metadata_dir(dgst), key), "rb") as f:
            return f.read()

    def delete_metadata(self, dgst: str, key: str) -> None:
        """moby: image/fs.go DeleteMetadata"""
        try:
            os.remove(os.path.join(self.metadata_dir(dgst), key))
        except FileNotFoundError:
            pass
