"""containerd's metadata database: a tree of BoltDB buckets in `meta.db`, with containerd's keys.

containerd keeps everything it knows about namespaced objects in one BoltDB file,
`io.containerd.metadata.v1.bolt/meta.db`, as a tree of buckets:

    v1/                                   schema version; v1/version = varint 3
      <namespace>/                        "moby" for Docker's containers and images
        images/<name>/        createdat, updatedat, target/{digest, mediatype, size}, labels/
        content/blob/<digest>/ createdat, updatedat, size, labels/
        content/ingests/<ref>/
        snapshots/<snapshotter>/<key>/  name (backend key "moby/<seq>/<key>"), parent,
                                        createdat, updatedat, labels/, children/
        containers/<id>/      image, snapshotter, snapshotKey, labels/, ...
        leases/<id>/          createdat, labels/, content/<digest>, snapshots/<sn>/<key>, ingests/

Keys and values are bytes; containerd's values are strings (names, digests, labels),
Go's `time.Time.MarshalBinary` (createdat, updatedat: 15 bytes), `binary.PutVarint`
(sizes, the version) or `PutUvarint` (the snapshotters' ids); `Bucket` has one accessor per
encoding. A bucket also has a sequence (`NextSequence`, never reused). The file is in
BoltDB's own page format (bolt.py), so a real containerd opens it; an update is all or
nothing, written as a whole new file renamed into place, like a bolt transaction.

containerd: metadata/buckets.go, metadata/db.go, metadata/boltutil/helpers.go;
go.etcd.io/bbolt (Bucket, NextSequence)
"""

from __future__ import annotations

import datetime
import os
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dockerlayers.containerd import bolt
from dockerlayers.ioutils import atomic_write_file

SCHEMA_VERSION = "v1"
#: containerd: metadata/db.go dbVersion (stored as v1/version)
DB_VERSION = 3

BUCKET_KEY_VERSION = "v1"
BUCKET_KEY_DB_VERSION = "version"
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
META_FILE = "meta.db"


def put_varint(x: int) -> bytes:
    """Go's binary.PutVarint (zig-zag, then base-128 little-endian groups)."""
    return put_uvarint((x << 1) ^ -1 if x < 0 else x << 1)


def put_uvarint(x: int) -> bytes:
    """Go's binary.PutUvarint"""
    out = bytearray()
    while x >= 0x80:
        out.append((x & 0x7F) | 0x80)
        x >>= 7
    out.append(x)
    return bytes(out)


def read_uvarint(b: bytes) -> tuple[int, int]:
    """Go's binary.Uvarint: (value, bytes read); (0, 0) when `b` ends too soon."""
    x = shift = 0
    for i, c in enumerate(b[:10]):
        x |= (c & 0x7F) << shift
        if c < 0x80:
            return x, i + 1
        shift += 7
    return 0, 0


def read_varint(b: bytes) -> int:
    """Go's binary.Varint (the value only, as containerd reads it)."""
    ux, _ = read_uvarint(b)
    return ~(ux >> 1) if ux & 1 else ux >> 1


#: Go's internal epoch: Time.MarshalBinary counts seconds from 0001-01-01 UTC (time.go)
_GO_EPOCH = datetime.datetime(1, 1, 1)
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))$"
)


def marshal_time(rfc3339: str) -> bytes:
    """Go's time.Time.MarshalBinary of a UTC time, from its RFC 3339 text, to the nanosecond.

    Version byte 1, seconds since 0001-01-01 (int64), nanoseconds (int32), zone offset
    in minutes (int16, -1 = UTC): 15 bytes, big-endian. containerd stores times in UTC.
    """
    m = _RFC3339.match(rfc3339)
    if m is None:
        raise ValueError(f"not an RFC 3339 time: {rfc3339!r}")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    nanos = int((m.group(7) or "").ljust(9, "0"))
    secs = (datetime.datetime(y, mo, d, h, mi, s) - _GO_EPOCH) // datetime.timedelta(seconds=1)
    if m.group(8):
        off = int(m.group(9)) * 3600 + int(m.group(10)) * 60
        secs -= off if m.group(8) == "+" else -off
    return struct.pack(">BqiH", 1, secs, nanos, 0xFFFF)


def unmarshal_time(b: bytes) -> str:
    """Go's time.Time.UnmarshalBinary (versions 1 and 2), as RFC 3339 text in UTC."""
    if len(b) not in (15, 16) or b[0] not in (1, 2):
        raise ValueError("Time.UnmarshalBinary: unsupported version")
    _v, sec, nsec, _off = struct.unpack_from(">BqiH", b)
    when = _GO_EPOCH + datetime.timedelta(seconds=sec)
    base = f"{when.year:04d}-" + when.strftime("%m-%dT%H:%M:%S")
    if nsec:
        base += "." + f"{nsec:09d}".rstrip("0")
    return base + "Z"


def _key(k: str | bytes) -> bytes:
    return k.encode() if isinstance(k, str) else k


class Bucket:
    """One bucket of the tree in a transaction, with containerd's value encodings.

    Names and keys are `str` (UTF-8) or `bytes`; bolt's rule holds that a key is either
    a value or a bucket, never both.
    """

    def __init__(self, node: bolt.Bucket) -> None:
        self._node = node

    def bucket(self, *names: str | bytes) -> Bucket | None:
        node = self._node
        for name in names:
            node = node.buckets.get(_key(name))
            if node is None:
                return None
        return Bucket(node)

    def create_bucket_if_not_exists(self, *names: str | bytes) -> Bucket:
        node = self._node
        for name in names:
            k = _key(name)
            if k in node.values:
                raise bolt.BoltError("incompatible value")
            node = node.buckets.setdefault(k, bolt.Bucket())
        return Bucket(node)

    def create_bucket(self, name: str | bytes) -> Bucket | None:
        """None if it exists (bolt: ErrBucketExists)."""
        if _key(name) in self._node.buckets:
            return None
        return self.create_bucket_if_not_exists(name)

    def delete_bucket(self, name: str | bytes) -> bool:
        return self._node.buckets.pop(_key(name), None) is not None

    def get_bytes(self, key: str | bytes) -> bytes | None:
        return self._node.values.get(_key(key))

    def put_bytes(self, key: str | bytes, value: bytes) -> None:
        k = _key(key)
        if k in self._node.buckets:
            raise bolt.BoltError("incompatible value")
        self._node.values[k] = value

    def get(self, key: str | bytes) -> str | None:
        """A string value (names, digests, labels)."""
        v = self.get_bytes(key)
        return None if v is None else v.decode("utf-8", "surrogateescape")

    def put(self, key: str | bytes, value: str) -> None:
        self.put_bytes(key, value.encode("utf-8", "surrogateescape"))

    def get_time(self, key: str | bytes) -> str | None:
        """A `time.MarshalBinary` value as RFC 3339 text (boltutil.ReadTimestamps)."""
        v = self.get_bytes(key)
        return None if v is None else unmarshal_time(v)

    def put_time(self, key: str | bytes, rfc3339: str) -> None:
        self.put_bytes(key, marshal_time(rfc3339))

    def get_varint(self, key: str | bytes) -> int | None:
        v = self.get_bytes(key)
        return None if v is None else read_varint(v)

    def put_varint(self, key: str | bytes, x: int) -> None:
        self.put_bytes(key, put_varint(x))

    def get_uvarint(self, key: str | bytes) -> int | None:
        v = self.get_bytes(key)
        return None if v is None else read_uvarint(v)[0]

    def put_uvarint(self, key: str | bytes, x: int) -> None:
        self.put_bytes(key, put_uvarint(x))

    def delete(self, key: str | bytes) -> None:
        self._node.values.pop(_key(key), None)

    def raw_keys(self) -> list[bytes]:
        """The value keys as bytes, in bolt's order."""
        return sorted(self._node.values)

    def key_names(self) -> list[str]:
        return [k.decode("utf-8", "surrogateescape") for k in self.raw_keys()]

    def bucket_names(self) -> list[str]:
        return [k.decode("utf-8", "surrogateescape") for k in sorted(self._node.buckets)]

    def items(self) -> dict[str, str]:
        return {
            k.decode("utf-8", "surrogateescape"): v.decode("utf-8", "surrogateescape")
            for k, v in sorted(self._node.values.items())
        }

    @property
    def sequence(self) -> int:
        return self._node.sequence

    def next_sequence(self) -> int:
        """bolt: Bucket.NextSequence (starts at 1, never reused)"""
        self._node.sequence += 1
        return self._node.sequence

    def is_empty(self) -> bool:
        return not self._node.values and not self._node.buckets


class BucketFile:
    """A BoltDB file holding one bucket tree, updated in all-or-nothing transactions.

    The tree is read once when opened; each update that changes it writes the whole
    file anew (bolt.write) and renames it into place, so the file on disk is always one
    whole committed tree, and the one source of truth across restarts of the model.
    """

    #: the file's mode: containerd opens meta.db 0644, the snapshotters' metadata.db 0600
    MODE = 0o600

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        self._tree, self._txid = self._read()

    def _read(self) -> tuple[bolt.Bucket, int]:
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return bolt.Bucket(), 0
        root, meta = bolt.read(data)
        return root, meta.txid

    def exists(self) -> bool:
        return os.path.exists(self.path)

    @contextmanager
    def view(self) -> Iterator[Bucket]:
        yield Bucket(self._tree)

    @contextmanager
    def update(self) -> Iterator[Bucket]:
        before = self._tree.copy()
        try:
            yield Bucket(self._tree)
        except BaseException:
            self._tree = before
            raise
        if self._tree != before or not self.exists():
            try:
                atomic_write_file(self.path, bolt.write(self._tree, self._txid + 1), self.MODE)
            except BaseException:
                self._tree = before
                raise
            self._txid += 1

    def dump(self) -> dict[str, Any]:
        """The tree as nested dicts, buckets as dicts and values as bytes (for display)."""

        def walk(node: bolt.Bucket) -> dict[str, Any]:
            out: dict[str, Any] = {
                k.decode("utf-8", "surrogateescape"): v for k, v in sorted(node.values.items())
            }
            for name, child in sorted(node.buckets.items()):
                out[name.decode("utf-8", "surrogateescape")] = walk(child)
            return out

        return walk(self._tree)


class DB(BucketFile):
    """meta.db: the namespaced metadata of one containerd.

    containerd: metadata/db.go DB (Init writes v1/version)
    """

    MODE = 0o644

    def __init__(self, root: str) -> None:
        super().__init__(os.path.join(root, META_DIR, META_FILE))
        with self.update() as tx:
            v1 = tx.create_bucket_if_not_exists(SCHEMA_VERSION)
            if v1.get_bytes(BUCKET_KEY_DB_VERSION) is None:
                v1.put_varint(BUCKET_KEY_DB_VERSION, DB_VERSION)

    def namespaces(self) -> list[str]:
        with self.view() as tx:
            v1 = tx.bucket(SCHEMA_VERSION)
            return v1.bucket_names() if v1 else []


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
    """containerd: metadata/boltutil/helpers.go WriteLabels (replaces the whole bucket;
    empty values are not stored)"""
    bkt.delete_bucket(BUCKET_KEY_LABELS)
    if any(labels.values()):
        lbl = bkt.create_bucket_if_not_exists(BUCKET_KEY_LABELS)
        for k, v in labels.items():
            if v:
                lbl.put(k, v)


def write_timestamps(bkt: Bucket, created: str, updated: str) -> None:
    """containerd: metadata/boltutil/helpers.go WriteTimestamps"""
    bkt.put_time(BUCKET_KEY_CREATED_AT, created)
    bkt.put_time(BUCKET_KEY_UPDATED_AT, updated)
