"""`register_stream`: one pass over a tar that cannot seek gives the layer `register` gives
(same DiffID, ChainID, size, files and tar-split), and a `verify` that refuses leaves the
store as it was.

moby: layer/layer_store.go applyTar (digester, tar-split and ApplyDiff on one stream)
"""

from __future__ import annotations

import io
import os
import stat

import pytest

from dockerlayers.archive.tarsplit import read_tar_split
from dockerlayers.layer import LayerStore
from tests.layer.layertest import TestFile, tar_from_files
from tests.support.drivers import DRIVERS
from tests.support.tars import build_tar, f, hard


class _Pipe(io.RawIOBase):
    """A stream that cannot seek, handing out odd-sized reads."""

    def __init__(self, data: bytes) -> None:
        self._f = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._f.read(min(n if n >= 0 else 1 << 20, 4093))


def _view(root: str) -> dict[str, tuple]:
    """Every path under `root`: its type and mode, a file's content, a link's target."""
    out: dict[str, tuple] = {}
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(top, name)
            st = os.lstat(full)
            data = None
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as fh:
                    data = fh.read()
            elif stat.S_ISLNK(st.st_mode):
                data = os.readlink(full)
            out[os.path.relpath(full, root)] = (st.st_mode, st.st_rdev, data)
    return out


def _files(store: LayerStore, layer) -> dict:
    return _view(store.driver.layer_dir(layer.cache_id))


def _tar_split(store: LayerStore, layer) -> list[dict]:
    return read_tar_split(store.store.tar_split_path(layer.chain_id))


LOWER = tar_from_files(
    TestFile("etc/hosts", b"127.0.0.1 localhost\n", 0o644),
    TestFile("usr/bin/tool", os.urandom(300_000), 0o755),
)
UPPER = build_tar(
    f("etc/.wh.hosts"),
    f("data/big", os.urandom(3 << 20)),
    hard("data/again", "data/big"),
) + bytes(5000)  # zero padding after the end blocks: part of the DiffID


@pytest.mark.parametrize("driver", DRIVERS)
def test_one_pass_gives_the_layer_register_gives(stores, driver):
    whole, streamed = stores(driver, "whole"), stores(driver, "streamed")
    a1 = whole.register(LOWER)
    a2 = whole.register(UPPER, a1.chain_id)
    seen: list[str] = []
    b1 = streamed.register_stream(_Pipe(LOWER), verify=seen.append)
    b2 = streamed.register_stream(_Pipe(UPPER), b1.chain_id, verify=seen.append)
    assert seen == [b1.diff_id, b2.diff_id]
    for a, b in ((a1, b1), (a2, b2)):
        assert (a.chain_id, a.diff_id, a.size()) == (b.chain_id, b.diff_id, b.size())
        assert _tar_split(whole, a) == _tar_split(streamed, b)
        assert _files(whole, a) == _files(streamed, b)
        assert b.tar_stream().read() == (LOWER if b is b1 else UPPER)


def _host(root) -> dict:
    return _view(str(root))


@pytest.mark.parametrize("driver", DRIVERS)
def test_refused_verification_leaves_the_store_unchanged(stores, tmp_path, driver):
    store = stores(driver, "root")
    base = store.register(LOWER)
    store.release(store.register(build_tar(f("warm")), base.chain_id))  # first-use folders
    before, layers = _host(tmp_path / "root"), dict(store.map())

    class Refused(Exception):
        pass

    def refuse(diff_id: str) -> None:
        raise Refused(diff_id)

    with pytest.raises(Refused):
        store.register_stream(_Pipe(UPPER), base.chain_id, verify=refuse)
    assert store.map() == layers
    assert _host(tmp_path / "root") == before


def test_a_bad_tar_is_refused_in_the_applier_s_words(stores, tmp_path):
    store = stores("overlay2", "root")
    store.release(store.register(build_tar(f("warm"))))
    before = _host(tmp_path / "root")
    cut = build_tar(f("a", b"x" * 5000))[:1500]
    with pytest.raises(Exception, match="unexpected EOF"):
        store.register_stream(_Pipe(cut))
    assert _host(tmp_path / "root") == before
    assert store.map() == {}


@pytest.mark.parametrize("driver", DRIVERS)
def test_links_to_the_aufs_hard_link_store_are_filled_from_it(stores, driver):
    """`.wh..wh.plnk` content comes before the links that copy it: kept until the end."""
    tar = build_tar(
        f(".wh..wh.plnk/1234.5", b"aufs hard-link store"),
        hard("data/from-plnk", ".wh..wh.plnk/1234.5"),
        hard("data/again", ".wh..wh.plnk/1234.5"),
    )
    whole, streamed = stores(driver, "whole"), stores(driver, "streamed")
    a, b = whole.register(tar), streamed.register_stream(_Pipe(tar))
    assert a.diff_id == b.diff_id
    assert _files(whole, a) == _files(streamed, b)
    assert _files(streamed, b)["data/again"][2] == b"aufs hard-link store"
