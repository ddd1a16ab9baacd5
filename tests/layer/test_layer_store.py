"""moby's layer store tests, mirrored by name (vfs, as moby runs them, and every driver).

moby: layer/layer_test.go, layer/layer_unix_test.go, layer/empty_test.go
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil

import pytest

from dockerlayers.digest import DIGEST_SHA256_EMPTY_TAR, EMPTY_TAR, chain_id
from dockerlayers.layer import (
    EMPTY_LAYER,
    LayerDoesNotExist,
    LayerNotRetained,
    MaxDepthExceeded,
    Metadata,
    MountDoesNotExist,
    MountNameConflict,
    VerificationError,
)
from tests.layer.layertest import (
    TestFile,
    create_layer,
    init_with_files,
    make_store,
    tar_from_files,
    tar_names,
)


def create_metadata(*layers) -> list[Metadata]:
    return [Metadata(x.chain_id, x.diff_id, x.size(), x.diff_size()) for x in layers]


def release_and_check_deleted(store, layer, *removed) -> None:
    count = len(store.layer_map)
    expected = create_metadata(*removed)
    assert store.release(layer) == expected
    assert len(store.layer_map) == count - len(removed)


def assert_layer_equal(l1, l2) -> None:
    assert l1.chain_id == l2.chain_id
    assert l1.diff_id == l2.diff_id
    assert l1.size() == l2.size()
    assert l1.diff_size() == l2.diff_size()
    assert l1.cache_id == l2.cache_id
    p1, p2 = l1.parent, l2.parent
    if p1 is not None and p2 is not None:
        assert_layer_equal(p1, p2)
    else:
        assert p1 is None and p2 is None


def test_mount_and_register(any_store):
    ls = any_store
    layer = create_layer(
        ls, None, init_with_files(TestFile("testfile.txt", b"some test data", 0o644))
    )
    assert layer.size() == len(b"some test data")
    mount2 = ls.create_rw_layer("new-test-mount", layer.chain_id)
    fs = mount2.mount()
    assert fs.read_bytes("/testfile.txt") == b"some test data"
    mount2.unmount()
    assert ls.release_rw_layer(mount2) == []


def test_layer_release(any_store):
    ls = any_store
    layer1 = create_layer(ls, None, init_with_files(TestFile("layer1.txt", b"layer 1 file", 0o644)))
    layer2 = create_layer(
        ls, layer1.chain_id, init_with_files(TestFile("layer2.txt", b"layer 2 file", 0o644))
    )
    assert ls.release(layer1) == []
    layer3a = create_layer(
        ls, layer2.chain_id, init_with_files(TestFile("layer3.txt", b"layer 3a file", 0o644))
    )
    layer3b = create_layer(
        ls, layer2.chain_id, init_with_files(TestFile("layer3.txt", b"layer 3b file", 0o644))
    )
    assert ls.release(layer2) == []
    assert len(ls.layer_map) == 4
    release_and_check_deleted(ls, layer3b, layer3b)
    release_and_check_deleted(ls, layer3a, layer3a, layer2, layer1)
    assert ls.layer_map == {}
    # nothing left on disk either: no layerdb folders, no driver folders
    assert os.listdir(ls.store.sha_dir) == []
    assert ls.driver.list_ids() == []


def test_release_exact_metadata(store):
    """Release returns child first, with chain Size and own DiffSize."""
    l1 = create_layer(store, None, init_with_files(TestFile("a", b"12345", 0o644)))
    l2 = create_layer(store, l1.chain_id, init_with_files(TestFile("b", b"1234567", 0o644)))
    c1, c2 = l1.chain_id, l2.chain_id
    d1, d2 = l1.diff_id, l2.diff_id
    assert store.release(l1) == []
    assert store.release(l2) == [Metadata(c2, d2, 12, 7), Metadata(c1, d1, 5, 5)]


def test_release_handles(store):
    layer = create_layer(store, None, init_with_files(TestFile("a", b"x", 0o644)))
    again = store.get(layer.chain_id)
    assert again is not layer
    with pytest.raises(LayerNotRetained, match="^layer not retained$"):
        store.release(store.map()[layer.chain_id])
    assert store.release(again) == []
    with pytest.raises(LayerNotRetained):
        store.release(again)  # released twice
    assert len(store.release(layer)) == 1
    assert store.release(layer) == []  # unknown ChainID: nothing, no error
    with pytest.raises(LayerDoesNotExist, match="^layer does not exist$"):
        store.get(layer.chain_id)


def test_store_restore(any_store, tmp_path):
    ls = any_store
    layer1 = create_layer(ls, None, init_with_files(TestFile("layer1.txt", b"layer 1 file", 0o644)))
    layer2 = create_layer(
        ls, layer1.chain_id, init_with_files(TestFile("layer2.txt", b"layer 2 file", 0o644))
    )
    ls.release(layer1)
    layer3 = create_layer(
        ls, layer2.chain_id, init_with_files(TestFile("layer3.txt", b"layer 3 file", 0o644))
    )
    ls.release(layer2)
    m = ls.create_rw_layer("some-mount_name", layer3.chain_id)
    fs = m.mount()
    path = fs.path
    fs.write_bytes("/testfile.txt", b"nothing here", 0o644)
    assert ls.driver.mount_count(m.mount_id) == 1
    m.unmount()
    assert ls.driver.mount_count(m.mount_id) == 0

    from dockerlayers.layer import LayerStore

    ls2 = LayerStore(ls.root, ls.driver)
    layer3b = ls2.get(layer3.chain_id)
    assert_layer_equal(layer3b, layer3)
    with pytest.raises(MountNameConflict, match="^mount already exists with name$"):
        ls2.create_rw_layer("some-mount_name", layer3b.chain_id)
    m2 = ls2.get_rw_layer("some-mount_name")
    assert m2.mount().path == path
    assert ls2.driver.mount_count(m2.mount_id) == 1
    fs2 = m2.mount()
    assert fs2.path == path
    assert ls2.driver.mount_count(m2.mount_id) == 2
    m2.unmount()
    assert ls2.driver.mount_count(m2.mount_id) == 1
    assert fs2.read_bytes("/testfile.txt") == b"nothing here"
    m2.unmount()
    assert ls2.driver.mount_count(m2.mount_id) == 0
    assert ls2.release_rw_layer(m2) == []
    assert ls2.release_rw_layer(m2) == []
    release_and_check_deleted(ls2, layer3b, layer3, layer2, layer1)


def test_store_restore_new_driver(any_store):
    """A restarted daemon: new driver object and new store on the same root."""
    ls = any_store
    l1 = create_layer(ls, None, init_with_files(TestFile("a.txt", b"A", 0o644)))
    l2 = create_layer(ls, l1.chain_id, init_with_files(TestFile("b.txt", b"BB", 0o644)))
    rw = ls.create_rw_layer("ctr", l2.chain_id)
    rw.mount().write_bytes("/c.txt", b"CCC")
    rw.unmount()
    ls.driver.cleanup()
    ls2 = make_store(ls.root, ls.driver.name)
    assert sorted(ls2.map()) == sorted([l1.chain_id, l2.chain_id])
    assert_layer_equal(ls2.get(l2.chain_id), l2)
    # counts rebuilt: l1 held by l2; l2 held by the mount (no image handles after restore)
    assert ls2.map()[l1.chain_id].reference_count == 1
    assert ls2.map()[l2.chain_id].reference_count == 2  # mount + our get() above
    rw2 = ls2.get_rw_layer("ctr")
    assert rw2.mount_id == rw.mount_id
    assert ls2.get_mount_id("ctr") == rw.mount_id
    fs = rw2.mount()
    assert fs.read_bytes("/c.txt") == b"CCC"
    assert fs.read_bytes("/a.txt") == b"A"
    rw2.unmount()
    assert [str(c) for c in rw2.changes()] == ["A /c.txt"]
    with pytest.raises(MountDoesNotExist, match="^mount does not exist$"):
        ls2.get_rw_layer("nope")
    with pytest.raises(MountDoesNotExist):
        ls2.get_mount_id("nope")


def assert_layer_diff(expected: bytes, layer) -> None:
    assert layer.diff_id == "sha256:" + hashlib.sha256(expected).hexdigest()
    with layer.tar_stream() as ts:
        actual = ts.read()
    assert len(actual) == len(expected)
    assert actual == expected


def test_tar_stream_stability(any_store):
    ls = any_store
    files1 = [
        TestFile("/etc/hosts", b"mydomain 10.0.0.1", 0o644),
        TestFile("/etc/profile", b"PATH=/usr/bin", 0o644),
    ]
    added = TestFile("/etc/shadow", b"root:::::::", 0o644)
    files2 = [
        TestFile("/etc/hosts", b"mydomain 10.0.0.2", 0o644),
        TestFile("/etc/profile", b"PATH=/usr/bin", 0o664),
        TestFile("/root/.bashrc", b"PATH=/usr/sbin:/usr/bin", 0o644),
    ]
    tar1, tar2 = tar_from_files(*files1), tar_from_files(*files2)
    layer1 = ls.register(io.BytesIO(tar1))
    # hack the layer: add a file straight into its driver folder
    fs = ls.driver.get(layer1.cache_id)
    added.apply(fs)
    ls.driver.put(layer1.cache_id)
    layer2 = ls.register(io.BytesIO(tar2), layer1.chain_id)
    id1 = layer1.chain_id
    ls.release(layer1)
    assert_layer_diff(tar2, layer2)
    layer1b = ls.get(id1)
    ls.release(layer2)
    assert_layer_diff(tar1, layer1b)
    ls.release(layer1b)


def test_tar_stream_verification(any_store):
    ls = any_store
    tar1 = tar_from_files(TestFile("/foo", b"abc", 0o644), TestFile("/bar", b"def", 0o644))
    tar2 = tar_from_files(TestFile("/foo", b"abc", 0o644), TestFile("/bar", b"def", 0o600))
    layer1 = ls.register(io.BytesIO(tar1))
    layer2 = ls.register(io.BytesIO(tar2))
    shutil.copyfile(
        ls.store.tar_split_path(layer1.chain_id), ls.store.tar_split_path(layer2.chain_id)
    )
    with pytest.raises(VerificationError, match="could not verify layer data for: "):
        layer2.tar_stream()
    with layer1.tar_stream() as ts:
        assert ts.read() == tar1


def test_layer_tar_streams_the_registered_bytes(any_store):
    ls = any_store
    base = ls.register(io.BytesIO(tar_from_files(TestFile("/etc/a", b"a" * 5000, 0o644))))
    tar = tar_from_files(TestFile("/big", os.urandom(3 << 20), 0o644), TestFile("/e", b"", 0o600))
    layer = ls.register(io.BytesIO(tar), base.chain_id)
    stream = layer.layer_tar()
    assert stream.size == len(tar)
    assert b"".join(stream.chunks()) == tar
    assert EMPTY_LAYER.layer_tar().size == len(EMPTY_LAYER.tar_stream().read())
    assert b"".join(EMPTY_LAYER.layer_tar().chunks()) == EMPTY_LAYER.tar_stream().read()


def test_layer_tar_checks_the_diff_id_at_the_end(any_store):
    """A changed byte in the layer folder shows only once the whole stream is read; the
    error names the DiffID, like moby's verifiedReadCloser."""
    ls = any_store
    base = ls.register(io.BytesIO(tar_from_files(TestFile("/etc/a", b"a", 0o644))))
    layer = ls.register(
        io.BytesIO(tar_from_files(TestFile("/f", b"x" * 100, 0o644))), base.chain_id
    )
    assert layer.chain_id != layer.diff_id
    path = os.path.join(ls.driver.layer_dir(layer.ro_layer.cache_id), "f")
    with open(path, "r+b") as f:
        f.write(b"y")
    chunks = layer.layer_tar().chunks()
    next(chunks)  # the first bytes flow before the check
    with pytest.raises(VerificationError, match=f"for: {layer.diff_id}\\. This may"):
        list(chunks)
    with open(path, "ab") as f:
        f.write(b"longer")
    with pytest.raises(VerificationError) as e:
        layer.tar_stream()
    assert "longer than recorded" in str(e.value.__cause__)


def test_register_existing_layer(any_store):
    ls = any_store
    layer1 = create_layer(
        ls, None, init_with_files(TestFile("/etc/profile", b"# Base configuration", 0o644))
    )
    tar1 = tar_from_files(TestFile("/root/.bashrc", b"# Root configuration", 0o644))
    before = set(ls.driver.list_ids())
    layer2a = ls.register(io.BytesIO(tar1), layer1.chain_id)
    layer2b = ls.register(io.BytesIO(tar1), layer1.chain_id)
    assert layer2a is not layer2b
    assert layer2a.ro_layer is layer2b.ro_layer
    assert layer2a.ro_layer.references == {layer2a, layer2b}
    # the second registration's driver folder was thrown away
    assert len(set(ls.driver.list_ids()) - before) == 1
    assert ls.map()[layer1.chain_id].reference_count == 2  # handle + one child


def test_layer_size(any_store):
    """moby layer_unix_test.go TestLayerSize: DiffSize = content, Size = chain."""
    ls = any_store
    content1, content2 = b"Base contents", b"Added contents"
    layer1 = create_layer(ls, None, init_with_files(TestFile("file1", content1, 0o644)))
    layer2 = create_layer(ls, layer1.chain_id, init_with_files(TestFile("file2", content2, 0o644)))
    assert layer1.diff_size() == len(content1)
    assert layer1.size() == len(content1)
    assert layer2.diff_size() == len(content2)
    assert layer2.size() == len(content1) + len(content2)
    assert ls.driver.diff_size(layer2.cache_id, layer1.cache_id) == len(content2)


def test_empty_layer():
    assert EMPTY_LAYER.chain_id == DIGEST_SHA256_EMPTY_TAR
    assert EMPTY_LAYER.diff_id == DIGEST_SHA256_EMPTY_TAR
    assert EMPTY_LAYER.parent is None
    assert EMPTY_LAYER.size() == 0
    assert EMPTY_LAYER.diff_size() == 0
    assert EMPTY_LAYER.metadata() == {}
    data = EMPTY_LAYER.tar_stream().read()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == DIGEST_SHA256_EMPTY_TAR
    with pytest.raises(ValueError, match="can't get parent tar stream of an empty layer"):
        EMPTY_LAYER.tar_stream_from("sha256:" + "a" * 64)
    assert EMPTY_LAYER.tar_stream_from(None).read() == EMPTY_TAR


def test_register_empty_tar(any_store):
    layer = any_store.register(io.BytesIO(EMPTY_TAR))
    assert layer.chain_id == layer.diff_id == DIGEST_SHA256_EMPTY_TAR
    assert layer.size() == 0
    with layer.tar_stream() as ts:
        assert ts.read() == EMPTY_TAR


def test_chain_ids_follow_the_formula(store):
    tars = [tar_from_files(TestFile(f"f{i}", b"x" * i, 0o644)) for i in range(3)]
    parent = None
    layers = []
    for t in tars:
        layer = store.register(io.BytesIO(t), parent)
        layers.append(layer)
        parent = layer.chain_id
    assert layers[-1].chain_id == chain_id([x.diff_id for x in layers])
    assert layers[-1].parent.chain_id == layers[1].chain_id


def test_register_unknown_parent(store):
    with pytest.raises(LayerDoesNotExist):
        store.register(io.BytesIO(EMPTY_TAR), "sha256:" + "0" * 64)
    assert store.driver.list_ids() == []
    assert os.listdir(store.store.tmp_dir) == [] if os.path.isdir(store.store.tmp_dir) else True


@pytest.mark.parametrize("driver_name", ["vfs", "overlay2"])
def test_max_depth(stores, driver_name):
    """A chain holds at most 125 layers: the 126th gets `max depth exceeded`."""
    ls = stores(driver_name)
    parent = None
    for i in range(125):
        layer = ls.register(io.BytesIO(tar_from_files(TestFile(f"f{i}", b"", 0o644))), parent)
        parent = layer.chain_id
    assert layer.depth() == 125
    ids_before = set(ls.driver.list_ids())
    refcount = ls.map()[parent].reference_count
    with pytest.raises(MaxDepthExceeded, match="^max depth exceeded$"):
        ls.register(io.BytesIO(tar_from_files(TestFile("x", b"", 0o644))), parent)
    assert set(ls.driver.list_ids()) == ids_before
    assert ls.map()[parent].reference_count == refcount
    # an RW layer still fits on top (init + RW: 127 graphdriver layers)
    rw = ls.create_rw_layer("ctr", parent, init_func=lambda fs: None)
    fs = rw.mount()
    assert fs.exists("/f0") and fs.exists("/f124")
    fs.write_bytes("/new", b"n")
    rw.unmount()
    assert [str(c) for c in rw.changes()] == ["A /new"]
    ls.release_rw_layer(rw)


def test_tar_stream_from(store):
    l1 = store.register(io.BytesIO(tar_from_files(TestFile("a", b"A", 0o644))))
    l2 = store.register(io.BytesIO(tar_from_files(TestFile("b", b"B", 0o644))), l1.chain_id)
    other = store.register(io.BytesIO(tar_from_files(TestFile("c", b"C", 0o644))))
    with pytest.raises(ValueError, match="is not a parent of the specified layer"):
        l2.tar_stream_from(other.chain_id)
    with l2.tar_stream_from(l1.chain_id) as ts:
        assert tar_names(ts) == ["b"]
