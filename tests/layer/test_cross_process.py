"""A layer registered in one process is found, identical, by a new LayerStore in another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.layer.layertest import make_store
from tests.support.drivers import DRIVERS

CHILD = textwrap.dedent(
    """
    import io, json, os, sys, tempfile
    from dockerlayers.archive import tar_directory
    from dockerlayers.graphdriver import new_driver
    from dockerlayers.layer import LayerStore

    root, driver_name = sys.argv[1], sys.argv[2]
    store = LayerStore(root, new_driver(driver_name, root, mounts="user"))
    out = []
    parent = None
    for i in range(2):
        with tempfile.TemporaryDirectory() as td:
            os.makedirs(os.path.join(td, "etc"))
            with open(os.path.join(td, "etc", f"file{i}"), "wb") as f:
                f.write(b"content %d" % i)
            buf = io.BytesIO()
            tar_directory(td, buf)
        layer = store.register(io.BytesIO(buf.getvalue()), parent)
        parent = layer.chain_id
        with layer.tar_stream() as ts:
            data = ts.read()
        out.append({"chain_id": layer.chain_id, "diff_id": layer.diff_id,
                    "cache_id": layer.cache_id, "size": layer.size(),
                    "diff_size": layer.diff_size(), "tar": data.hex()})
    rw = store.create_rw_layer("ctr", parent)
    fs = rw.mount()
    fs.write_bytes("/rw.txt", b"from the child")
    rw.unmount()
    out.append({"mount_id": rw.mount_id})
    store.driver.cleanup()
    print(json.dumps(out))
    """
)


@pytest.mark.parametrize("driver_name", DRIVERS)
def test_layer_registered_in_another_process(tmp_path, driver_name):
    root = str(tmp_path / "root")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, root, driver_name],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    *layers, mount = json.loads(proc.stdout)

    store = make_store(root, driver_name)
    try:
        assert sorted(store.map()) == sorted(x["chain_id"] for x in layers)
        for info in layers:
            handle = store.get(info["chain_id"])
            assert handle.diff_id == info["diff_id"]
            assert handle.cache_id == info["cache_id"]
            assert handle.size() == info["size"]
            assert handle.diff_size() == info["diff_size"]
            with handle.tar_stream() as ts:
                assert ts.read().hex() == info["tar"]
        top = store.get(layers[-1]["chain_id"])
        assert top.parent.chain_id == layers[0]["chain_id"]
        rw = store.get_rw_layer("ctr")
        assert rw.mount_id == mount["mount_id"]
        fs = rw.mount()
        assert fs.read_bytes("/rw.txt") == b"from the child"
        assert fs.read_bytes("/etc/file0") == b"content 0"
        rw.unmount()
        assert [str(c) for c in rw.changes()] == ["A /rw.txt"]
    finally:
        store.driver.cleanup()
