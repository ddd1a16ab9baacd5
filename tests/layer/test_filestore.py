"""The layerdb on disk, exactly as moby writes it.

moby: layer/filestore.go, layer/filestore_test.go, layer/layer_store.go saveMount
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat

import pytest

from dockerlayers.daemon.initlayer import setup_init_layer
from dockerlayers.layer.filestore import FileMetadataStore
from dockerlayers.stringid import IDGenerator, is_valid_id
from tests.layer.layertest import TestFile, create_layer, init_with_files, tar_from_files

HEX64 = re.compile(r"^[a-f0-9]{64}$")


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def mode(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_layerdb_layout(any_store):
    ls = any_store
    name = ls.driver.name
    l1 = create_layer(ls, None, init_with_files(TestFile("a", b"AAAA", 0o644)))
    l2 = create_layer(ls, l1.chain_id, init_with_files(TestFile("b", b"BB", 0o644)))
    layerdb = os.path.join(ls.root, "image", name, "layerdb")
    assert ls.store.root == layerdb
    assert mode(layerdb) == 0o700
    assert sorted(os.listdir(os.path.join(layerdb, "sha256"))) == sorted(
        [l1.chain_id[7:], l2.chain_id[7:]]
    )
    d1 = os.path.join(layerdb, "sha256", l1.chain_id[7:])
    d2 = os.path.join(layerdb, "sha256", l2.chain_id[7:])
    assert sorted(os.listdir(d1)) == ["cache-id", "diff", "size", "tar-split.json.gz"]
    assert sorted(os.listdir(d2)) == ["cache-id", "diff", "parent", "size", "tar-split.json.gz"]
    assert read(os.path.join(d1, "diff")) == l1.diff_id.encode()
    assert read(os.path.join(d1, "size")) == b"4"
    assert read(os.path.join(d2, "size")) == b"2"
    assert HEX64.match(read(os.path.join(d1, "cache-id")).decode())
    assert read(os.path.join(d1, "cache-id")).decode() == l1.cache_id
    assert read(os.path.join(d2, "parent")) == l1.chain_id.encode()
    for f in os.listdir(d2):
        assert mode(os.path.join(d2, f)) == 0o644
    assert read(os.path.join(d2, "tar-split.json.gz"))[:2] == b"\x1f\x8b"  # gzip
    # the cache-id names the driver's folder, unrelated to the ChainID
    assert ls.driver.exists(l1.cache_id)
    assert l1.cache_id != l1.chain_id[7:]


def test_mounts_layout(any_store):
    ls = any_store
    layer = create_layer(ls, None, init_with_files(TestFile("a", b"A", 0o644)))
    rw = ls.create_rw_layer("c" * 64, layer.chain_id, init_func=setup_init_layer)
    mdir = os.path.join(ls.store.root, "mounts", "c" * 64)
    assert sorted(os.listdir(mdir)) == ["init-id", "mount-id", "parent"]
    mount_id = read(os.path.join(mdir, "mount-id")).decode()
    assert HEX64.match(mount_id) and mount_id != "c" * 64  # random, not the container ID
    assert mount_id == rw.mount_id == ls.get_mount_id("c" * 64)
    assert read(os.path.join(mdir, "init-id")) == f"{mount_id}-init".encode()
    assert read(os.path.join(mdir, "parent")) == layer.chain_id.encode()
    assert mode(mdir) == 0o755
    for f in os.listdir(mdir):
        assert mode(os.path.join(mdir, f)) == 0o644
    assert ls.driver.exists(mount_id) and ls.driver.exists(f"{mount_id}-init")

    # FROM scratch, no init: only mount-id
    rw2 = ls.create_rw_layer("scratch", None)
    assert os.listdir(os.path.join(ls.store.root, "mounts", "scratch")) == ["mount-id"]
    ls.release_rw_layer(rw2)
    ls.release_rw_layer(rw)
    assert os.listdir(os.path.join(ls.store.root, "mounts")) == []


def test_overlay2_container_stack(stores):
    """image layers <- <mount-id>-init <- <mount-id>; lower nearest first; committed."""
    ls = stores("overlay2")
    l1 = create_layer(ls, None, init_with_files(TestFile("a", b"A", 0o644)))
    l2 = create_layer(ls, l1.chain_id, init_with_files(TestFile("b", b"B", 0o644)))
    rw = ls.create_rw_layer("ctr", l2.chain_id, init_func=setup_init_layer)
    home = ls.driver.home

    def link(id):
        return read(os.path.join(home, id, "link")).decode()

    init_id = rw.mount_id + "-init"
    lower = read(os.path.join(home, rw.mount_id, "lower")).decode()
    assert lower == ":".join(f"l/{link(i)}" for i in (init_id, l2.cache_id, l1.cache_id))
    for committed in (l1.cache_id, l2.cache_id, init_id):
        assert os.path.exists(os.path.join(home, committed, "committed"))
    assert not os.path.exists(os.path.join(home, rw.mount_id, "committed"))
    # the init diff holds the placeholders
    assert os.path.exists(os.path.join(home, init_id, "diff", ".dockerenv"))


def test_commit_failure(tmp_path):
    """A regular file where sha256/ should be: the commit fails with ENOTDIR."""
    fms = FileMetadataStore(str(tmp_path / "layerdb"))
    with open(os.path.join(fms.root, "sha256"), "w") as f:
        f.write("was here first!")
    tx = fms.start_transaction()
    tx.set_size(0)
    with pytest.raises(OSError) as e:
        tx.commit("sha256:" + "a" * 64)
    assert e.value.errno in (errno.ENOTDIR, errno.EEXIST)


def test_start_transaction_failure(tmp_path):
    fms = FileMetadataStore(str(tmp_path / "layerdb"))
    with open(os.path.join(fms.root, "tmp"), "w") as f:
        f.write("was here first!")
    with pytest.raises(OSError) as e:
        fms.start_transaction()
    assert e.value.errno in (errno.ENOTDIR, errno.EEXIST)
    os.unlink(os.path.join(fms.root, "tmp"))
    tx = fms.start_transaction()
    assert os.path.basename(tx.path).startswith("write-set-")
    tx.cancel()
    assert os.listdir(os.path.join(fms.root, "tmp")) == []


def test_get_orphan(tmp_path):
    fms = FileMetadataStore(str(tmp_path / "layerdb"))
    chain = "sha256:" + "b" * 64
    tx = fms.start_transaction()
    tx.set_cache_id("c" * 64)
    tx.commit(chain)
    assert fms.get_orphans() == []
    removing = fms.rename_for_removal(chain, IDGenerator().generate_random_id())
    assert re.match(r"^b{64}-[a-f0-9]{64}-removing$", os.path.basename(removing))
    orphans = fms.get_orphans()
    assert len(orphans) == 1
    assert orphans[0][1] == "c" * 64
    assert fms.list() == ([], [])


def test_cleanup_removes_orphans(any_store):
    """A crash between the -removing rename and the driver removal is finished later."""
    ls = any_store
    layer = ls.register(io.BytesIO(tar_from_files(TestFile("a", b"A", 0o644))))
    cache_id = layer.cache_id
    ls.store.rename_for_removal(layer.chain_id, IDGenerator().generate_random_id())
    from dockerlayers.layer import LayerStore

    ls.driver.cleanup()
    ls2 = LayerStore(ls.root, ls.driver)
    assert ls2.map() == {}
    ls2.cleanup()
    assert not ls2.driver.exists(cache_id)
    assert os.listdir(ls2.store.sha_dir) == []


def test_damaged_layer_is_skipped_not_deleted(any_store):
    ls = any_store
    layer = ls.register(io.BytesIO(tar_from_files(TestFile("a", b"A", 0o644))))
    d = ls.store.layer_dir(layer.chain_id)
    os.unlink(os.path.join(d, "size"))
    from dockerlayers.layer import LayerStore

    ls2 = LayerStore(ls.root, ls.driver)
    assert layer.chain_id not in ls2.map()
    assert os.path.isdir(d)
    assert ls2.driver.exists(layer.cache_id)


@pytest.mark.parametrize(
    "value, valid",
    [
        ("a" * 64, True),
        ("0123456789abcdef" * 4, True),
        ("a" * 64 + "-init", True),
        ("a" * 63, False),
        ("a" * 65, False),
        ("A" * 64, False),
        ("g" * 64, False),
        ("", False),
        ("-init", False),
        ("a" * 63 + "-init", False),
    ],
)
def test_is_valid_id(value, valid):
    assert is_valid_id(value) is valid


def test_invalid_mount_id_skips_mount(any_store):
    ls = any_store
    rw = ls.create_rw_layer("ctr", None)
    with open(os.path.join(ls.store.mount_dir("ctr"), "mount-id"), "w") as f:
        f.write("not-an-id")
    from dockerlayers.layer import LayerStore

    ls2 = LayerStore(ls.root, ls.driver)
    assert "ctr" not in ls2.mounts
    del rw


def test_register_failure_leaves_nothing(any_store):
    ls = any_store
    ids_before = set(ls.driver.list_ids())
    with pytest.raises(Exception):  # noqa: B017
        ls.register(io.BytesIO(b"this is not a tar" * 100))
    assert set(ls.driver.list_ids()) == ids_before
    assert ls.map() == {}
    assert os.listdir(ls.store.tmp_dir) == [] if os.path.isdir(ls.store.tmp_dir) else True
    assert not os.path.isdir(ls.store.sha_dir) or os.listdir(ls.store.sha_dir) == []
