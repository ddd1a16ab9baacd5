"""A real containerd (Debian's 1.6) started on the root the model made lists what the model made.

The model writes `meta.db` and the overlayfs `metadata.db` in BoltDB's page format with
containerd's keys and encodings; containerd opens them with bbolt (checking the meta
pages' magic, version and checksum), and `ctr -n moby` lists the same images, content,
snapshots and leases, the same times, usages and mount lines. Its own garbage collection
then finds nothing to collect, and the model reopens the files containerd rewrote.
Also: the model's reader reads what a real containerd wrote itself.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from dockerlayers import DockerClient
from dockerlayers.containerd import Containerd
from tests.containerd import real

pytestmark = [
    pytest.mark.root,
    pytest.mark.slow,
    pytest.mark.skipif(real.missing() is not None, reason=str(real.missing())),
]

NS = "moby"


def _human_size(n: int) -> str:
    """go-units HumanSize, as `ctr content ls` prints sizes (decimal, 4 digits)."""
    units = ["B", "kB", "MB", "GB", "TB"]
    v, i = float(n), 0
    while v >= 1000 and i < len(units) - 1:
        v, i = v / 1000, i + 1
    return f"{v:.4g}{units[i]}"


def _rows(out: str) -> list[list[str]]:
    return [r.split() for r in out.splitlines()[1:] if r.strip()]


def _model_view(ctrd: Containerd) -> dict:
    sn = ctrd.snapshotters["overlayfs"]
    imgs = {}
    v1 = ctrd.db.dump()["v1"][NS]["images"]
    for name, rec in v1.items():
        imgs[name] = (rec["target"]["mediatype"].decode(), rec["target"]["digest"].decode())
    return {
        "images": imgs,
        "content": {i.digest: (_human_size(i.size), i.labels) for i in ctrd.content.list(NS)},
        "snapshots": sorted((i.name, i.parent, i.kind) for i in sn.walk(NS)),
        "leases": sorted(
            (lease.id, re.sub(r"\.\d+Z$", "Z", lease.created_at)) for lease in ctrd.leases.list(NS)
        ),
    }


def _real_view(rc: real.RealContainerd) -> dict:
    imgs = {r[0]: (r[1], r[2]) for r in _rows(rc.ctr("images", "ls"))}
    content = {}
    for row in rc.ctr("content", "ls").splitlines()[1:]:
        digest, size, _age, labels = row.split("\t")
        labels = labels.strip()
        content[digest] = (
            size,
            {} if labels in ("", "-") else dict(kv.split("=", 1) for kv in labels.split(",")),
        )
    return {
        "images": imgs,
        "content": content,
        "snapshots": rc.snapshots(),
        "leases": sorted((r[0], r[1]) for r in _rows(rc.ctr("leases", "ls"))),
    }


def _stop(rc: real.RealContainerd) -> None:
    with open("/proc/mounts") as f:
        for line in f.read().splitlines():
            if line.split()[1].startswith(rc.d):
                subprocess.run(["umount", "-l", line.split()[1]], check=False)
    rc.stop()


def _start(d: str, root: str) -> real.RealContainerd:
    os.makedirs(d, exist_ok=True)
    return real.RealContainerd(d, root=root)


def test_real_containerd_lists_what_the_model_made(tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM base\nRUN echo hello > /hello.txt\n")
    root = str(tmp_path / "docker")
    c = DockerClient(root=root, seed=5, clock="virtual", mounts="user", storage="containerd")
    try:
        base = c.images.base()
        c.images.build(path=str(ctx), tag="bolt-two:latest")
        a = c.containers.run(base, "sh -c 'echo hi > /data.txt'", detach=True, name="bolt-a")
        a.wait()
        a.commit("bolt-commit", "v1")
        b = c.containers.create("bolt-two:latest", "true", name="bolt-b")
        store = c.daemon.layer_store
        ctrd = store.containerd
        sn = ctrd.snapshotters["overlayfs"]
        model = _model_view(ctrd)
        created = {k: sn.stat(NS, k).created for k in (a.id, b.id, f"{b.id}-init")}
        committed = [i.name for i in sn.walk(NS) if i.kind == "Committed"]
        usage = {k: sn.usage(NS, k) for k in committed}
        (mount,) = sn.mounts(NS, b.id)
        dirs = sorted(os.listdir(os.path.join(sn.backend.root, "snapshots")))
        croot = ctrd.root
    finally:
        c.close()
    assert len(model["images"]) == 3 and len(model["leases"]) == 2
    assert (a.id, f"{a.id}-init", "Active") in model["snapshots"]

    rc = _start(str(tmp_path / "rc"), croot)
    try:
        got = _real_view(rc)
        assert got == model
        for key, when in created.items():
            assert rc.snapshot_info(key)["Created"] == when  # Go read the binary times
        real_usage = rc.usage()
        for key, u in usage.items():
            assert real_usage[key] == (real.ctr_bytes(u.size), u.inodes)
        assert rc.mount_options(b.id) == (mount.type, mount.options)
        # containerd's own collection (a lease deleted with --sync runs one) keeps it all
        lid = rc.ctr("leases", "create").split()[0]
        rc.ctr("leases", "delete", "--sync", lid)
        assert _real_view(rc) == model
        assert rc.snapshot_dirs() == sorted(dirs, key=real._n)
    finally:
        _stop(rc)
    with open(os.path.join(str(tmp_path / "rc"), "containerd.log")) as f:
        log = f.read()
    assert "level=error" not in log and "level=fatal" not in log

    # the model reopens the files containerd rewrote, and what it writes next a real
    # containerd reads again
    c = DockerClient(root=root, seed=5, clock="virtual", mounts="user", storage="containerd")
    try:
        assert sorted(x.name for x in c.containers.list(all=True)) == ["bolt-a", "bolt-b"]
        assert _model_view(c.daemon.layer_store.containerd) == model
        c.containers.get("bolt-b").remove()
        after = _model_view(c.daemon.layer_store.containerd)
    finally:
        c.close()
    assert (
        b.id not in [lid for lid, _ in after["leases"]]
        and len(after["snapshots"]) == len(model["snapshots"]) - 2
    )
    rc = _start(str(tmp_path / "rc2"), croot)
    try:
        assert _real_view(rc) == after
    finally:
        _stop(rc)


def test_model_reads_what_a_real_containerd_wrote(tmp_path, base_oci):
    rc = _start(str(tmp_path / "rc"), str(tmp_path / "root"))
    try:
        path = tmp_path / "base.tar"
        path.write_bytes(base_oci)
        rc.ctr("images", "import", str(path))
        rc.ctr("leases", "create", "--id", "bolt-lease", "k=v")
        (name,) = rc.ctr("images", "ls", "-q").split()
        rc.ctr("containers", "create", "--snapshotter", "overlayfs", name, "c1", "true")
        want = _real_view(rc)
        info = rc.snapshot_info("c1")
        real_usage = rc.usage()
    finally:
        _stop(rc)
    ctrd = Containerd(str(tmp_path / "root"))
    assert _model_view(ctrd) == want
    sn = ctrd.snapshotters["overlayfs"]
    assert sn.stat(NS, "c1").created == info["Created"]
    for i in sn.walk(NS):
        if i.kind == "Committed":
            u = sn.usage(NS, i.name)
            assert real_usage[i.name] == (real.ctr_bytes(u.size), u.inodes)
    assert sn.snapshot_id(NS, "c1") == "2"
