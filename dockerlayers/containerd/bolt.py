"""BoltDB's on-disk format (go.etcd.io/bbolt v1.3.6, what containerd 1.6 links): read and write.

A bolt file is an array of pages (4 KiB here, the OS page size bbolt picks on Linux):

    page 0, 1   meta: magic 0xED0CDAED, version 2, page size, flags, root bucket
                {root pgid, sequence}, freelist pgid, high-water pgid, txid, FNV-64a checksum.
                A reader takes the valid meta with the higher txid; a commit writes the
                other one (txid % 2), which is what makes a bolt transaction atomic.
    freelist    the ids of free pages (count in the header; 0xFFFF: the count is element 0)
    branch      elements {pos, ksize, child pgid} + keys: the first key of each child page
    leaf        elements {flags, pos, ksize, vsize} + key/value bytes; flag 0x01 = the value
                is a sub-bucket: a 16-byte header {root pgid, sequence}, and when root is 0
                an *inline* page follows (a bucket small enough, with no sub-buckets, lives
                inside its parent's leaf instead of owning a page)

Every page starts with {id u64, flags u16, count u16, overflow u32}; a node larger than a
page takes `overflow` more pages after it. Keys are sorted bytewise. `pos` is counted from
the element header itself. Integers are little-endian (bbolt maps its structs onto the
bytes, and the machines containerd runs on are little-endian).

The writer writes the whole tree as a fresh file, the way bbolt would lay out a tree it
spills in one transaction (children before parents, nodes split at `FillPercent` 0.5 of a
page once they pass a page and hold more than 4 keys, buckets inline up to a quarter
page), with an empty freelist and both meta pages pointing at the same root: no
copy-on-write history to reuse, since the model replaces the file atomically instead.

go.etcd.io/bbolt v1.3.6: page.go, node.go (write, split, spill), bucket.go (inlineable,
write, openBucket), freelist.go (read, write), db.go (init, meta.validate, sum64, mmapSize)
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

#: bbolt: db.go magic, version
MAGIC = 0xED0CDAED
VERSION = 2
#: os.Getpagesize() on Linux/amd64, bbolt's defaultPageSize
PAGE_SIZE = 4096

# bbolt: page.go
BRANCH_PAGE_FLAG = 0x01
LEAF_PAGE_FLAG = 0x02
META_PAGE_FLAG = 0x04
FREELIST_PAGE_FLAG = 0x10
BUCKET_LEAF_FLAG = 0x01
MIN_KEYS_PER_PAGE = 2
#: bbolt: bucket.go DefaultFillPercent
FILL_PERCENT = 0.5
#: bbolt: bucket.go MaxKeySize
MAX_KEY_SIZE = 32768

_PAGE = struct.Struct("<QHHI")  # id, flags, count, overflow
_BRANCH_ELEM = struct.Struct("<IIQ")  # pos, ksize, pgid
_LEAF_ELEM = struct.Struct("<IIII")  # flags, pos, ksize, vsize
_BUCKET = struct.Struct("<QQ")  # root, sequence
# magic, version, pageSize, flags, root.root, root.sequence, freelist, pgid, txid, checksum
_META = struct.Struct("<IIIIQQQQQQ")
PAGE_HEADER_SIZE = _PAGE.size
ELEMENT_SIZE = 16  # both element kinds are 16 bytes
BUCKET_HEADER_SIZE = _BUCKET.size
_CHECKSUM_OFFSET = _META.size - 8  # sum64 covers the meta up to its checksum


class BoltError(Exception):
    """bbolt's errors, with its words (errors.go)."""


ERR_INVALID = "invalid database"
ERR_VERSION_MISMATCH = "version mismatch"
ERR_CHECKSUM = "checksum error"


def fnv64a(data: bytes) -> int:
    """FNV-1a, 64 bits (Go's hash/fnv New64a)."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


@dataclass
class Bucket:
    """One bucket: values and sub-buckets under distinct keys, plus NextSequence's counter."""

    values: dict[bytes, bytes] = field(default_factory=dict)
    buckets: dict[bytes, Bucket] = field(default_factory=dict)
    sequence: int = 0

    def copy(self) -> Bucket:
        return Bucket(
            dict(self.values), {k: b.copy() for k, b in self.buckets.items()}, self.sequence
        )

    def walk(self, path: tuple[bytes, ...] = ()) -> Iterator[tuple[tuple[bytes, ...], Bucket]]:
        """(path, bucket) for this bucket and every bucket below it, depth first."""
        yield path, self
        for k in sorted(self.buckets):
            yield from self.buckets[k].walk((*path, k))


@dataclass
class Meta:
    """bbolt: db.go meta"""

    page_size: int
    root: int
    sequence: int
    freelist: int
    pgid: int
    txid: int
    flags: int = 0
    version: int = VERSION
    magic: int = MAGIC
    checksum: int = 0

    def _head(self) -> bytes:
        return _META.pack(
            self.magic,
            self.version,
            self.page_size,
            self.flags,
            self.root,
            self.sequence,
            self.freelist,
            self.pgid,
            self.txid,
            0,
        )[:_CHECKSUM_OFFSET]

    def sum64(self) -> int:
        return fnv64a(self._head())

    def pack(self) -> bytes:
        return self._head() + struct.pack("<Q", self.sum64())

    @classmethod
    def unpack(cls, data: bytes) -> Meta:
        magic, version, psz, flags, root, seq, fl, pgid, txid, csum = _META.unpack_from(data)
        return cls(psz, root, seq, fl, pgid, txid, flags, version, magic, csum)

    def validate(self) -> str | None:
        """bbolt: db.go meta.validate -> the error's words, or None."""
        if self.magic != MAGIC:
            return ERR_INVALID
        if self.version != VERSION:
            return ERR_VERSION_MISMATCH
        if self.checksum != self.sum64():
            return ERR_CHECKSUM
        return None


@dataclass
class PageInfo:
    """One page as `bbolt pages` lists it (bbolt: page.go PageInfo)."""

    id: int
    type: str
    count: int
    overflow: int


# -- reading -----------------------------------------------------------------------------


def _page_type(flags: int) -> str:
    for flag, name in (
        (BRANCH_PAGE_FLAG, "branch"),
        (LEAF_PAGE_FLAG, "leaf"),
        (META_PAGE_FLAG, "meta"),
        (FREELIST_PAGE_FLAG, "freelist"),
    ):
        if flags & flag:
            return name
    return f"unknown<{flags:02x}>"


def read_meta(data: bytes) -> Meta:
    """The meta page a bbolt reader uses: the valid one with the higher txid.

    bbolt: db.go Open (page size from meta 0), mmap (validate), DB.meta
    """
    if len(data) < PAGE_HEADER_SIZE + _META.size:
        raise BoltError(ERR_INVALID)
    m0 = Meta.unpack(data[PAGE_HEADER_SIZE:])
    psz = m0.page_size if m0.validate() is None else PAGE_SIZE
    metas = [m0]
    if len(data) >= psz + PAGE_HEADER_SIZE + _META.size:
        metas.append(Meta.unpack(data[psz + PAGE_HEADER_SIZE :]))
    metas.sort(key=lambda m: m.txid, reverse=True)
    for m in metas:
        if m.validate() is None:
            return m
    raise BoltError(metas[0].validate() or ERR_INVALID)


def _read_node(data: bytes, off: int, psz: int, into: Bucket, seen: set[int]) -> None:
    """Read the page at byte offset `off` (and, for a branch, its children) into `into`."""
    _pid, flags, count, _overflow = _PAGE.unpack_from(data, off)
    if flags & BRANCH_PAGE_FLAG:
        for i in range(count):
            eoff = off + PAGE_HEADER_SIZE + i * ELEMENT_SIZE
            _pos, _ksize, child = _BRANCH_ELEM.unpack_from(data, eoff)
            if child in seen or (child + 1) * psz > len(data):
                raise BoltError(f"page {child}: {ERR_INVALID}")
            seen.add(child)
            _read_node(data, child * psz, psz, into, seen)
        return
    if not flags & LEAF_PAGE_FLAG:
        raise BoltError(f"page at {off // psz}: unexpected page type {_page_type(flags)}")
    for i in range(count):
        eoff = off + PAGE_HEADER_SIZE + i * ELEMENT_SIZE
        eflags, pos, ksize, vsize = _LEAF_ELEM.unpack_from(data, eoff)
        key = bytes(data[eoff + pos : eoff + pos + ksize])
        value = bytes(data[eoff + pos + ksize : eoff + pos + ksize + vsize])
        if eflags & BUCKET_LEAF_FLAG:
            into.buckets[key] = _read_bucket(data, value, psz, seen)
        else:
            into.values[key] = value


def _read_bucket(data: bytes, value: bytes, psz: int, seen: set[int]) -> Bucket:
    """bbolt: bucket.go openBucket (inline when root == 0)"""
    root, seq = _BUCKET.unpack_from(value)
    b = Bucket(sequence=seq)
    if root == 0:
        _read_node(value, BUCKET_HEADER_SIZE, psz, b, seen)
    else:
        if root in seen or (root + 1) * psz > len(data):
            raise BoltError(f"page {root}: {ERR_INVALID}")
        seen.add(root)
        _read_node(data, root * psz, psz, b, seen)
    return b


def read(data: bytes) -> tuple[Bucket, Meta]:
    """The whole tree of a bolt file (its root bucket) and the meta it was read through."""
    meta = read_meta(data)
    root = Bucket(sequence=meta.sequence)
    _read_node(data, meta.root * meta.page_size, meta.page_size, root, {meta.root})
    return root, meta


def pages(data: bytes) -> list[PageInfo]:
    """Every page up to the high-water mark, as bbolt's `pages` command lists them."""
    meta = read_meta(data)
    psz = meta.page_size
    out: list[PageInfo] = []
    pid = 0
    while pid < meta.pgid:
        _id, flags, count, overflow = _PAGE.unpack_from(data, pid * psz)
        if flags & FREELIST_PAGE_FLAG and count == 0xFFFF:
            count = struct.unpack_from("<Q", data, pid * psz + PAGE_HEADER_SIZE)[0]
        out.append(PageInfo(pid, _page_type(flags) if flags else "free", count, overflow))
        pid += 1 + overflow
    return out


# -- writing -----------------------------------------------------------------------------


@dataclass
class _Inode:
    flags: int
    key: bytes
    value: bytes = b""
    pgid: int = 0


def _node_size(inodes: list[_Inode]) -> int:
    """bbolt: node.go node.size"""
    return PAGE_HEADER_SIZE + sum(ELEMENT_SIZE + len(i.key) + len(i.value) for i in inodes)


def _split_index(inodes: list[_Inode], threshold: int) -> int:
    """bbolt: node.go node.splitIndex"""
    sz = PAGE_HEADER_SIZE
    index = 0
    for i in range(len(inodes) - MIN_KEYS_PER_PAGE):
        index = i
        elsize = ELEMENT_SIZE + len(inodes[i].key) + len(inodes[i].value)
        if index >= MIN_KEYS_PER_PAGE and sz + elsize > threshold:
            break
        sz += elsize
    return index


def _split(inodes: list[_Inode], psz: int) -> list[list[_Inode]]:
    """bbolt: node.go node.split / splitTwo"""
    nodes = []
    while True:
        if len(inodes) <= MIN_KEYS_PER_PAGE * 2 or _node_size(inodes) < psz:
            nodes.append(inodes)
            return nodes
        i = _split_index(inodes, int(psz * FILL_PERCENT))
        nodes.append(inodes[:i])
        inodes = inodes[i:]


def _write_node(
    buf: bytearray, off: int, pid: int, overflow: int, leaf: bool, inodes: list[_Inode]
) -> None:
    """bbolt: node.go node.write (plus the page header's id and overflow, from allocate)"""
    flags = LEAF_PAGE_FLAG if leaf else BRANCH_PAGE_FLAG
    _PAGE.pack_into(buf, off, pid, flags, len(inodes), overflow)
    data = off + PAGE_HEADER_SIZE + ELEMENT_SIZE * len(inodes)
    for i, item in enumerate(inodes):
        eoff = off + PAGE_HEADER_SIZE + i * ELEMENT_SIZE
        if leaf:
            _LEAF_ELEM.pack_into(buf, eoff, item.flags, data - eoff, len(item.key), len(item.value))
        else:
            _BRANCH_ELEM.pack_into(buf, eoff, data - eoff, len(item.key), item.pgid)
        buf[data : data + len(item.key)] = item.key
        data += len(item.key)
        buf[data : data + len(item.value)] = item.value
        data += len(item.value)


class _Writer:
    def __init__(self, psz: int) -> None:
        self.psz = psz
        self.buf = bytearray(3 * psz)  # meta 0, meta 1, freelist
        self.next = 3

    def _allocate(self, size: int) -> tuple[int, int]:
        n = (size + self.psz - 1) // self.psz
        pid = self.next
        self.next += n
        self.buf.extend(bytes(n * self.psz))
        return pid, n - 1

    def spill(self, inodes: list[_Inode], leaf: bool) -> int:
        """Write a node (split as bbolt splits it) and the branches above it: the root pgid.

        bbolt: node.go node.spill
        """
        while True:
            parents = []
            for node in _split(inodes, self.psz):
                pid, overflow = self._allocate(_node_size(node))
                _write_node(self.buf, pid * self.psz, pid, overflow, leaf, node)
                parents.append(_Inode(0, node[0].key if node else b"", pgid=pid))
            if len(parents) == 1:
                return parents[0].pgid
            inodes, leaf = parents, False

    def bucket_value(self, b: Bucket) -> bytes:
        """The value stored under a bucket's key in its parent: header (+ inline page).

        bbolt: bucket.go Bucket.spill, inlineable, write
        """
        inodes = self.inodes(b)
        size = PAGE_HEADER_SIZE
        inline = True
        for item in inodes:
            size += ELEMENT_SIZE + len(item.key) + len(item.value)
            if item.flags & BUCKET_LEAF_FLAG or size > self.psz // 4:
                inline = False
                break
        if inline:
            page = bytearray(_node_size(inodes))
            _write_node(page, 0, 0, 0, True, inodes)
            return _BUCKET.pack(0, b.sequence) + bytes(page)
        return _BUCKET.pack(self.spill(inodes, True), b.sequence)

    def inodes(self, b: Bucket) -> list[_Inode]:
        """A bucket's leaf elements, children spilled first. bbolt: bucket.go Bucket.spill"""
        out = []
        for key in sorted(set(b.values) | set(b.buckets)):
            if not key:
                raise BoltError("key required")
            if len(key) > MAX_KEY_SIZE:
                raise BoltError("key too large")
            if key in b.buckets:
                if key in b.values:
                    raise BoltError("incompatible value")
                out.append(_Inode(BUCKET_LEAF_FLAG, key, self.bucket_value(b.buckets[key])))
            else:
                out.append(_Inode(0, key, b.values[key]))
        return out


def mmap_size(size: int) -> int:
    """bbolt: db.go mmapSize (below 1 GiB): 32 KiB, doubling. A bolt file grows to it."""
    for i in range(15, 31):
        if size <= 1 << i:
            return 1 << i
    gib = 1 << 30
    return (size + gib - 1) // gib * gib


def write(root: Bucket, txid: int = 1, page_size: int = PAGE_SIZE) -> bytes:
    """A complete bolt file holding `root`, committed as transaction `txid`.

    Meta page `txid % 2` carries txid, the other txid - 1 (as if the previous
    transaction had been this same tree); the freelist (page 2) is empty; the file is
    padded with zeros to the size bbolt itself would have grown it to.
    """
    if txid < 1:
        raise ValueError("txid must be at least 1")
    w = _Writer(page_size)
    root_pgid = w.spill(w.inodes(root), True)
    hw = w.next
    _PAGE.pack_into(w.buf, 2 * page_size, 2, FREELIST_PAGE_FLAG, 0, 0)
    for t in (txid - 1, txid):
        pid = t % 2
        m = Meta(page_size, root_pgid, root.sequence, 2, hw, t)
        _PAGE.pack_into(w.buf, pid * page_size, pid, META_PAGE_FLAG, 0, 0)
        off = pid * page_size + PAGE_HEADER_SIZE
        w.buf[off : off + _META.size] = m.pack()
    w.buf.extend(bytes(mmap_size(len(w.buf)) - len(w.buf)))
    return bytes(w.buf)
