"""Helpers of the layer store suites (moby layer/layer_test.go).

moby's layer tests run on vfs; ours run on vfs and, where meaningful, on all drivers
(`tests.support.drivers.DRIVERS`).
"""

from __future__ import annotations

import io
import os
import tempfile

from dockerlayers.archive import tar_directory
from dockerlayers.graphdriver import new_driver
from dockerlayers.layer import LayerStore
from dockerlayers.stringid import IDGenerator

_ids = IDGenerator()


class TestFile:
    """moby's testFile: mkdir -p the parent, chmod if it exists with other bits, write."""

    __test__ = False

    def __init__(self, name: str, content: bytes, mode: int) -> None:
        self.name, self.content, self.mode = "/" + name.lstrip("/"), content, mode

    def apply(self, fs) -> None:
        parent = os.path.dirname(self.name)
        fs.mkdir(parent, 0o755, parents=True, exist_ok=True)
        fs.write_bytes(self.name, self.content, self.mode)
        fs.chmod(self.name, self.mode)

    def apply_dir(self, root: str) -> None:
        path = os.path.join(root, self.name.lstrip("/"))
        os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
        with open(path, "wb") as f:
            f.write(self.content)
        os.chmod(path, self.mode)


def init_with_files(*files: TestFile):
    def init(fs) -> None:
        for f in files:
            f.apply(fs)

    return init


def create_layer(store: LayerStore, parent: str | None, layer_func):
    """CreateRWLayer -> Mount -> write -> TarStream -> Register -> Unmount -> ReleaseRWLayer."""
    mount = store.create_rw_layer(_ids.generate_random_id(), parent)
    fs = mount.mount()
    layer_func(fs)
    with mount.tar_stream() as ts:
        layer = store.register(ts, parent)
    mount.unmount()
    store.release_rw_layer(mount)
    return layer


def tar_from_files(*files: TestFile) -> bytes:
    with tempfile.TemporaryDirectory() as td:
        for f in files:
            f.apply_dir(td)
        out = io.BytesIO()
        tar_directory(td, out)
        return out.getvalue()


def tar_names(stream) -> list[str]:
    """Member names of a layer tar stream."""
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(stream.read())) as tf:
        return tf.getnames()


def make_store(root, driver_name: str, mounts: str = "user") -> LayerStore:
    driver = new_driver(driver_name, str(root), mounts=mounts)
    return LayerStore(str(root), driver)
