"""containerd's metadata database: a tree of buckets, kept as JSON mirroring BoltDB's.

containerd keeps everything it knows about namespaced objects in one BoltDB file,
`io.containerd.metadata.v1.bolt/meta.db`, as a tree of buckets:

    v1/                                   schema version
      <namespace>/                        "moby" for Docker's containers and images
        images/<name>/        createdat, updatedat, target/{digest, mediatype, size}, labels/
        content/blob/<digest>/ createdat, updatedat, size, labels/
        content/ingests/<ref>/
        snapshots/<snapshotter>/<key>/  name (backend key "moby/<seq>/<key>"), parent,
                                        createdat, updatedat, labels/, children/
        containers/<id>/      image, snapshotter, snapshotKey, labels/, ...
        leases/<id>/          createdat, labels/, content/<digest>, snapshots/<sn>/<key>, ingests/

A bucket has keys (strings here, bytes in BoltDB), sub-buckets, and a sequence
(`NextSequence`, never reused). The model writes the tree as JSON (`meta.db.json`) where
each bucket is `{"sequence": n, "keys": {...}, "buckets": {...}}`, not in BoltDB's page
format. An update is all or nothing, like a bolt transaction.

containerd: metadata/buckets.go, metadata/db.go; go.etcd.io/bbolt (Bucket, NextSequence)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dockerlayers.ioutils import atomic_write_file

SCHEMA_VERSION = "v1"
#: containerd: metadata/db.go dbVersion (stored as v1/version)
DB_VERSION = 3

BUCKET_KEY_VERSION = "v1"
BUCKET_KEY_OBJECT_IMAGES = "images"
BUCKET_KEY_OBJECT_CONTENT = "content"
BUCKET_KEY_OBJECT_BLOB = "blob"
BUCKET_KEY_OBJECT_INGESTS = "ingests"
BUCKET_KEY_OBJECT_SNAPSHOTS = "snapshots"
BUCKET_KEY_OBJECT_CONTAINERS = "containers"
BUCKET_KEY_OBJECT_LEASES = "leases"
BUCKET_KEY_LABELS = "labels"
BUCKET_KEY_CHILDREN = "children"
BUCKET_KEY_TARGET = "target"
BUCKET_KEY_NAME = "name"
BUCKET_KEY_PARENT = "parent"
BUCKET_KEY_CREATED_AT = "createdat"
BUCKET_KEY_UPDATED_AT = "updatedat"
BUCKET_KEY_SIZE = "size"
BUCKET_KEY_DIGEST = "digest"
BUCKET_KEY_MEDIA_TYPE = "mediatype"

META_DIR = "io.containerd.metadata.v1.bolt"
META_FILE = "meta.db.json"


def _node() -> dict[str, Any]:
    return {"sequence": 0, "keys": {}, "buckets": {}}


class Bucket:
    """One bucket of the tree (a view on the JSON node)."""

    def __init__(self, node: dict[str, Any]) -> None:
        self._node = node

    def bucket(self, *names: str) -> Bucket | None:
        node = self._node
        for name in names:
            node = node["buckets"].get(name)
            if node is None:
                return None
        return Bucket(node)

    def create_bucket_if_not_exists(self, *names: str) -> Bucket:
        node = self._node
        for name in names:
            node = node["buckets"].setdefault(name, _node())
        return Bucket(node)

    def create_bucket(self, name: str) -> Bucket | None:
        """None if it exists (bolt: ErrBucketExists)."""
        if name in self._node["buckets"]:
            return None
        return self.create_bucket_if_not_exists(name)

    def delete_bucket(self, name: str) -> bool:
        return self._node["buckets"].pop(name, None) is not None

    def get(self, key: str) -> str | None:
        return self._node["keys"].get(key)

    def put(self, key: str, value: str) -> None:
        self._node["keys"][key] = value

    def delete(self, key: str) -> None:
        self._node["keys"].pop(key, None)

    def key_names(self) -> list[str]:
        return sorted(self._node["keys"])

    def bucket_names(self) -> list[str]:
        return sorted(self._node["buckets"])

    def items(self) -> dict[str, str]:
        return dict(self._node["keys"])

    @property
    def sequence(self) -> int:
        return int(self._node["sequence"])

    def next_sequence(self) -> int:
        """bolt: Bucket.NextSequence (starts at 1, never reused)"""
        self._node["sequence"] = int(self._node["sequence"]) + 1
        return self._node["sequence"]

    def is_empty(self) -> bool:
        return not self._node["keys"] and not self._node["buckets"]


class BucketFile:
    """A JSON file holding one bucket tree, updated in all-or-nothing transactions."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        self._tree = self._read()

    def _read(self) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return _node()

    def exists(self) -> bool:
        return os.path.exists(self.path)

    @contextmanager
    def view(self) -> Iterator[Bucket]:
        yield Bucket(self._tree)

    @contextmanager
    def update(self) -> Iterator[Bucket]:
        before = json.dumps(self._tree)
        try:
            yield Bucket(self._tree)
        except BaseException:
            self._tree = json.loads(before)
            raise
        after = json.dumps(self._tree, indent=1, sort_keys=True)
        if after != json.dumps(json.loads(before), indent=1, sort_keys=True) or not self.exists():
            atomic_write_file(self.path, after.encode() + b"\n", 0o600)

    def dump(self) -> dict[str, Any]:
        """The tree as nested dicts, buckets as dicts and keys as strings (for display)."""

        def walk(node: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = dict(sorted(node["keys"].items()))
            for name, child in sorted(node["buckets"].items()):
                out[name] = walk(child)
            return out

        return walk(self._tree)


class DB(BucketFile):
    """meta.db: the namespaced metadata of one containerd.

    containerd: metadata/db.go DB
    """

    def __init__(self, root: str) -> None:
        super().__init__(os.path.join(root, META_DIR, META_FILE))
        with self.update() as tx:
            v1 = tx.create_bucket_if_not_exists(SCHEMA_VERSION)
            if v1.get("version") is None:
                v1.put("version", str(DB_VERSION))

    def namespaces(self) -> list[str]:
        with self.view() as tx:
            v1 = tx.bucket(SCHEMA_VERSION)
            return [n for n in v1.bucket_names()] if v1 else []


def namespace_bucket(
    tx: Bucket, namespace: str, *names: str, create: bool = False
) -> Bucket | None:
    """v1/<namespace>/<names...> (created on the way with `create`)

    containerd: metadata/buckets.go getBucket / createBucketIfNotExists
    """
    path = (SCHEMA_VERSION, namespace, *names)
    if create:
        return tx.create_bucket_if_not_exists(*path)
    return tx.bucket(*path)


def read_labels(bkt: Bucket) -> dict[str, str]:
    lbl = bkt.bucket(BUCKET_KEY_LABELS)
    return lbl.items() if lbl else {}


def write_labels(bkt: Bucket, labels: dict[str, str]) -> None:
    """containerd: metadata/helpers.go boltutil.WriteLabels (replaces the whole bucket)"""
    bkt.delete_bucket(BUCKET_KEY_LABELS)
    if labels:
        lbl = bkt.create_bucket_if_not_exists(BUCKET_KEY_LABELS)
        for k, v in labels.items():
            lbl.put(k, v)
