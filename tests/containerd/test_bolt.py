"""BoltDB's page format (bolt.py) and containerd's value encodings (metadata.py)."""

from __future__ import annotations

import gzip
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockerlayers.containerd import Containerd, bolt
from dockerlayers.containerd import metadata as md
from dockerlayers.containerd.snapshots import storage

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
PSZ = bolt.PAGE_SIZE


def _fixture(name: str) -> bytes:
    with gzip.open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def _types(data: bytes) -> list[str]:
    return [p.type for p in bolt.pages(data)]


# -- the layout --------------------------------------------------------------------------


def test_empty_tree_is_bbolts_init_layout():
    """Two metas, the freelist, an empty root leaf: what bbolt's db.init writes."""
    data = bolt.write(bolt.Bucket())
    assert len(data) == 32768  # bbolt grows a file to its mmap size: 32 KiB first
    assert _types(data) == ["meta", "meta", "freelist", "leaf"]
    for pid in (0, 1):
        page_id, flags, count, overflow = struct.unpack_from("<QHHI", data, pid * PSZ)
        assert (page_id, flags, count, overflow) == (pid, bolt.META_PAGE_FLAG, 0, 0)
        m = bolt.Meta.unpack(data[pid * PSZ + 16 :])
        assert (m.magic, m.version, m.page_size, m.flags) == (0xED0CDAED, 2, 4096, 0)
        assert (m.root, m.freelist, m.pgid, m.txid) == (3, 2, 4, pid)
        assert m.validate() is None
    assert bolt.read(data) == (bolt.Bucket(), bolt.read_meta(data))
    assert bolt.read_meta(data).txid == 1


def test_meta_checksum_is_fnv64a_of_the_fields_before_it():
    data = bolt.write(bolt.Bucket(values={b"k": b"v"}), txid=7)
    m = bolt.read_meta(data)
    assert m.txid == 7
    raw = data[PSZ + 16 : PSZ + 16 + 56]  # txid 7 -> meta page 1
    assert m.checksum == bolt.fnv64a(raw) == struct.unpack_from("<Q", data, PSZ + 16 + 56)[0]
    # Go's hash/fnv New64a of "a"
    assert bolt.fnv64a(b"a") == 0xAF63DC4C8601EC8C


def test_reader_falls_back_to_the_other_meta_and_reports_bbolts_errors():
    data = bytearray(bolt.write(bolt.Bucket(values={b"k": b"v"}), txid=5))
    # txid 5 lives in meta page 1: break its checksum, the reader takes txid 4 on page 0
    data[PSZ + 16 + 40] ^= 0xFF  # a byte of its pgid field
    assert bolt.read_meta(bytes(data)).txid == 4
    assert bolt.read(bytes(data))[0].values == {b"k": b"v"}
    data[16 + 40] ^= 0xFF
    with pytest.raises(bolt.BoltError, match="checksum error"):
        bolt.read(bytes(data))
    bad = bytearray(bolt.write(bolt.Bucket()))
    for pid in (0, 1):
        struct.pack_into("<I", bad, pid * PSZ + 16 + 4, 1)
    with pytest.raises(bolt.BoltError, match="version mismatch"):
        bolt.read(bytes(bad))
    with pytest.raises(bolt.BoltError, match="invalid database"):
        bolt.read(bytes(PSZ * 4))


def test_small_buckets_are_inline_up_to_a_quarter_page():
    """A bucket without sub-buckets whose page would be at most 1024 bytes lives in its
    parent's leaf (bucket header root 0 + the page); one byte more and it owns a page."""

    def file_with(value_len: int, nested: bool = False) -> bytes:
        child = bolt.Bucket(values={b"k": b"x" * value_len})
        if nested:
            child.buckets[b"sub"] = bolt.Bucket()
        return bolt.write(bolt.Bucket(buckets={b"b": child}))

    fits = 1024 - 16 - 16 - 1  # page header, one element, the key
    inline = file_with(fits)
    assert _types(inline) == ["meta", "meta", "freelist", "leaf"]
    # the root leaf holds the bucket's value: {root 0, sequence 0} + an inline leaf page
    flags, pos, ksize, vsize = struct.unpack_from("<IIII", inline, 3 * PSZ + 16)
    assert (flags, ksize, vsize) == (bolt.BUCKET_LEAF_FLAG, 1, 16 + 1024)
    value = inline[3 * PSZ + 16 + pos + 1 : 3 * PSZ + 16 + pos + 1 + vsize]
    assert struct.unpack_from("<QQ", value) == (0, 0)
    assert struct.unpack_from("<QHHI", value, 16) == (0, bolt.LEAF_PAGE_FLAG, 1, 0)
    assert _types(file_with(fits + 1)) == ["meta", "meta", "freelist", "leaf", "leaf"]
    # a sub-bucket keeps its parent out of line however small
    assert _types(file_with(1, nested=True)) == ["meta", "meta", "freelist", "leaf", "leaf"]
    for data in (inline, file_with(fits + 1), file_with(1, nested=True)):
        root, _ = bolt.read(data)
        assert len(root.buckets[b"b"].values[b"k"]) in (1, fits, fits + 1)


def test_many_keys_split_into_leaves_under_branches():
    b = bolt.Bucket(values={f"key-{i:05d}-".encode() * 8: b"v" * 20 for i in range(3000)})
    data = bolt.write(bolt.Bucket(buckets={b"big": b}))
    types = _types(data)
    assert types.count("branch") >= 3  # the leaves' branches and a root branch above them
    assert types.count("leaf") > 100
    assert bolt.read(data)[0].buckets[b"big"] == b
    # bbolt fills split pages to half a page: no leaf of the big bucket is past 4 KiB
    for p in bolt.pages(data):
        assert p.overflow == 0


def test_large_values_overflow_pages():
    b = bolt.Bucket(values={b"a": b"1" * 10000, b"b": b"2" * 3, b"c": bytes(range(256)) * 80})
    data = bolt.write(bolt.Bucket(buckets={b"b": b}))
    big = [p for p in bolt.pages(data) if p.overflow]
    assert big and big[0].overflow == (16 + 3 * 16 + 3 + 10000 + 3 + 20480) // PSZ
    assert bolt.read(data)[0].buckets[b"b"] == b


def test_keys_are_sorted_bytewise():
    keys = [b"\xff", b"a", b"B", b"\x00x", b"ab", b"a\x00"]
    data = bolt.write(bolt.Bucket(values={k: k for k in keys}))
    count = struct.unpack_from("<QHHI", data, 3 * PSZ)[2]
    seen = []
    for i in range(count):
        eoff = 3 * PSZ + 16 + 16 * i
        _f, pos, ksize, _v = struct.unpack_from("<IIII", data, eoff)
        seen.append(data[eoff + pos : eoff + pos + ksize])
    assert seen == sorted(keys)


def test_a_key_is_a_value_or_a_bucket():
    with pytest.raises(bolt.BoltError, match="incompatible value"):
        bolt.write(bolt.Bucket(values={b"x": b""}, buckets={b"x": bolt.Bucket()}))
    with pytest.raises(bolt.BoltError, match="key required"):
        bolt.write(bolt.Bucket(values={b"": b"v"}))


_keys = st.binary(min_size=1, max_size=48)
_values = st.one_of(st.binary(max_size=40), st.binary(min_size=2000, max_size=9000))


def _bucket(values, buckets, seq):
    return bolt.Bucket({k: v for k, v in values.items() if k not in buckets}, buckets, seq)


_trees = st.recursive(
    st.builds(
        _bucket, st.dictionaries(_keys, _values, max_size=40), st.just({}), st.integers(0, 9)
    ),
    lambda children: st.builds(
        _bucket,
        st.dictionaries(_keys, _values, max_size=40),
        st.dictionaries(_keys, children, max_size=6),
        st.integers(0, 2**64 - 1),
    ),
    max_leaves=12,
)


# trees big enough to split pages and overflow values are the point, not a smell here
_BIG = [HealthCheck.data_too_large, HealthCheck.too_slow]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=_BIG)
@given(_trees, st.integers(1, 2**40))
def test_round_trip(tree, txid):
    data = bolt.write(tree, txid)
    assert len(data) % PSZ == 0
    root, meta = bolt.read(data)
    assert root == tree
    assert meta.txid == txid
    # every page up to the high-water mark is accounted for, none past the file
    listed = bolt.pages(data)
    assert sum(1 + p.overflow for p in listed) == meta.pgid <= len(data) // PSZ


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=_BIG)
@given(st.dictionaries(st.binary(min_size=1, max_size=300), st.binary(max_size=300), min_size=200))
def test_round_trip_split_buckets(values):
    tree = bolt.Bucket(buckets={b"v1": bolt.Bucket(values=values, sequence=3)})
    assert bolt.read(bolt.write(tree))[0] == tree


# -- files a real containerd 1.6.20 wrote ------------------------------------------------


def test_reads_real_containerd_meta_db():
    data = _fixture("containerd-1.6.20-meta.db.gz")
    root, meta = bolt.read(data)
    assert (meta.txid, meta.root, meta.pgid, len(data)) == (31, 25, 28, 131072)
    assert "freelist" in _types(data)
    v1 = md.Bucket(root).bucket("v1")
    assert v1.get_varint("version") == md.DB_VERSION == 3
    img = v1.bucket("moby", "images", "docker.io/library/base:latest")
    target = img.bucket("target")
    assert target.get("mediatype") == "application/vnd.oci.image.manifest.v1+json"
    digest = target.get("digest")
    assert digest == "sha256:66cb2a1e06a1a3d696778b89b20fc0b4a5d15abefdc8bd392ebd2d93899b74da"
    assert target.get_varint("size") == 398
    # ctr printed the lease's time as 2026-12-06T22:20:10Z; the blob's file is of that second
    assert img.get_time("createdat").startswith("2026-12-06T22:20:10.")
    assert md.marshal_time(img.get_time("createdat")) == img.get_bytes("createdat")
    blob = v1.bucket("moby", "content", "blob", digest)
    assert blob.get_varint("size") == 398
    assert md.read_labels(blob)["containerd.io/gc.ref.content.config"].startswith("sha256:8ff4")
    snaps = v1.bucket("moby", "snapshots", "overlayfs")
    assert snaps.sequence == 3
    assert snaps.bucket("c1").get("name") == "moby/3/c1"
    chain = snaps.bucket("c1").get("parent")
    assert snaps.bucket(chain, "children").key_names() == ["c1"]
    lease = v1.bucket("moby", "leases", "c1lease")
    assert md.read_labels(lease)["a"] == "b"
    assert lease.get_time("createdat").startswith("2026-12-06T22:20:10.")
    # what the model writes for the same tree reads back the same
    assert bolt.read(bolt.write(root, meta.txid + 1))[0] == root


def test_reads_real_overlayfs_metadata_db():
    root, _ = bolt.read(_fixture("containerd-1.6.20-overlayfs-metadata.db.gz"))
    snaps = md.Bucket(root).bucket("v1", "snapshots")
    chain = "moby/2/sha256:bc8e11ae9022d753bb5a44c48b84f920523ca189571b5b65f8ed96e8735fd896"
    assert snaps.sequence == 2
    committed, active = snaps.bucket(chain), snaps.bucket("moby/3/c1")
    assert (storage.read_id(committed), storage.read_kind(committed)) == (1, "Committed")
    assert (storage.read_id(active), storage.read_kind(active)) == (2, "Active")
    assert active.get("parent") == chain
    assert (committed.get_varint("size"), committed.get_varint("inodes")) == (81920, 21)
    parents = md.Bucket(root).bucket("v1", "parents")
    assert parents.raw_keys() == [storage.parent_key(1, 2)] == [b"\x01\x00\x02"]
    assert parents.get(storage.parent_key(1, 2)) == "moby/3/c1"


# -- containerd's encodings --------------------------------------------------------------


def test_go_varints():
    # values from Go's encoding/binary (PutVarint / PutUvarint)
    assert md.put_varint(398) == b"\x9c\x06"
    assert md.put_varint(-1) == b"\x01"
    assert md.put_varint(3) == b"\x06"
    assert md.put_uvarint(300) == b"\xac\x02"
    assert md.put_uvarint(2**64 - 1) == b"\xff" * 9 + b"\x01"
    assert md.read_uvarint(b"\xac\x02\x00") == (300, 2)
    assert md.read_uvarint(b"\x80") == (0, 0)


@given(st.integers(-(2**63), 2**63 - 1))
def test_varint_round_trip(x):
    assert md.read_varint(md.put_varint(x)) == x
    if x >= 0:
        assert md.read_uvarint(md.put_uvarint(x)) == (x, len(md.put_uvarint(x)))


def test_go_time_marshal_binary():
    # recorded: a createdat containerd 1.6.20 wrote (time.Now().UTC().MarshalBinary())
    real = bytes.fromhex("010000000ee2a7d69a1c6926ffffff")
    assert md.unmarshal_time(real) == "2026-12-06T22:20:10.476653311Z"
    assert md.marshal_time("2026-12-06T22:20:10.476653311Z") == real
    assert md.marshal_time("0001-01-01T00:00:00Z") == b"\x01" + bytes(12) + b"\xff\xff"
    assert md.unmarshal_time(md.marshal_time("2024-01-01T01:00:00.5+01:00")) == (
        "2024-01-01T00:00:00.5Z"
    )


# -- the files the model keeps -----------------------------------------------------------


def test_model_files_are_bolt_and_one_source_of_truth(tmp_path, clock):
    root = str(tmp_path / "c")
    ctrd = Containerd(root, now=clock)
    ctrd.content.write_blob("moby", b"hello", labels={"containerd.io/gc.root": "x"})
    ctrd.leases.create("moby", "L1", {"k": "v"})
    sn = ctrd.snapshotter("overlayfs")
    sn.prepare("moby", "a", lease="L1")
    sn.commit("moby", "a-done", "a", lease="L1")
    sn.prepare("moby", "b", "a-done", lease="L1")
    meta_db = os.path.join(root, "io.containerd.metadata.v1.bolt", "meta.db")
    sn_db = os.path.join(root, "io.containerd.snapshotter.v1.overlayfs", "metadata.db")
    assert sorted(os.listdir(os.path.dirname(meta_db))) == ["meta.db"]
    assert sorted(os.listdir(os.path.dirname(sn_db))) == ["metadata.db", "snapshots"]
    assert os.stat(meta_db).st_mode & 0o777 == 0o644
    assert os.stat(sn_db).st_mode & 0o777 == 0o600
    with open(meta_db, "rb") as f:
        tree, meta = bolt.read(f.read())
    ns = md.Bucket(tree).bucket("v1", "moby")
    blob = ns.bucket("content", "blob").bucket_names()[0]
    assert ns.bucket("content", "blob", blob).get_bytes("size") == md.put_varint(5)
    assert len(ns.bucket("leases", "L1").get_bytes("createdat")) == 15
    assert ns.bucket("leases", "L1", "snapshots", "overlayfs").key_names() == ["a-done", "b"]
    assert ns.bucket("snapshots", "overlayfs", "b").get("name") == "moby/3/b"
    with open(sn_db, "rb") as f:
        stree, _ = bolt.read(f.read())
    parents = md.Bucket(stree).bucket("v1", "parents")
    assert parents.items() == {"\x01\x00\x02": "moby/3/b"}
    # a second containerd over the same root sees it all, from the files alone
    again = Containerd(root, now=clock)
    assert [i.name for i in again.snapshotter("overlayfs").walk("moby")] == ["a-done", "b"]
    assert [lease.id for lease in again.leases.list("moby")] == ["L1"]
    assert again.content.info("moby", blob).size == 5
    with open(meta_db, "rb") as f:
        assert bolt.read_meta(f.read()).txid == meta.txid  # reading wrote nothing


def test_failed_update_changes_nothing(tmp_path, clock):
    ctrd = Containerd(str(tmp_path / "c"), now=clock)
    ctrd.leases.create("moby", "L1")
    path = ctrd.db.path
    with open(path, "rb") as f:
        before = f.read()
    with pytest.raises(RuntimeError), ctrd.db.update() as tx:
        md.namespace_bucket(tx, "moby", "leases").delete_bucket("L1")
        raise RuntimeError("boom")
    with open(path, "rb") as f:
        assert f.read() == before
    assert [lease.id for lease in ctrd.leases.list("moby")] == ["L1"]
    # an update that changes nothing commits nothing (bolt's txid stays)
    with ctrd.db.update() as tx:
        md.namespace_bucket(tx, "moby", "leases")
    with open(path, "rb") as f:
        assert f.read() == before
