"""The snapshotter's rules, on overlayfs and native (containerd's kinds, errors and N)."""

from __future__ import annotations

import os

import pytest

from dockerlayers.containerd import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound

NS = "moby"
SNAPSHOTTERS = ["overlayfs", "native"]


@pytest.mark.parametrize("name", SNAPSHOTTERS)
def test_prepare_commit_view_kinds(ctrd, name):
    sn = ctrd.snapshotter(name)
    sn.prepare(NS, "a")
    assert sn.stat(NS, "a").kind == "Active"
    sn.commit(NS, "A", "a")
    assert sn.stat(NS, "A").kind == "Committed"
    sn.view(NS, "v", "A")
    assert sn.stat(NS, "v").kind == "View"
    assert sn.stat(NS, "v").parent == "A"
    with pytest.raises(NotFound, match="snapshot a does not exist: not found"):
        sn.stat(NS, "a")


@pytest.mark.parametrize("name", SNAPSHOTTERS)
def test_errors_have_containerd_texts(ctrd, name):
    sn = ctrd.snapshotter(name)
    sn.prepare(NS, "a")
    with pytest.raises(AlreadyExists, match='^snapshot "a": already exists$'):
        sn.prepare(NS, "a")
    with pytest.raises(NotFound, match="^parent snapshot nope does not exist: not found$"):
        sn.prepare(NS, "b", "nope")
    with pytest.raises(InvalidArgument, match="is not committed snapshot: invalid argument"):
        sn.prepare(NS, "b", "a")
    sn.commit(NS, "A", "a")
    sn.prepare(NS, "c", "A")
    with pytest.raises(FailedPrecondition, match="^cannot remove snapshot with child: failed"):
        sn.remove(NS, "A")
    with pytest.raises(FailedPrecondition, match="requested snapshot .* not active or view"):
        sn.mounts(NS, "A")
    with pytest.raises(NotFound, match="^snapshot x does not exist: not found$"):
        sn.remove(NS, "x")


def test_backend_names_and_n(ctrd):
    sn = ctrd.snapshotter()
    sn.prepare(NS, "k1", labels={"containerd.io/gc.root": "x"})  # as `ctr snapshots prepare`
    assert sn.resolve_key(NS, "k1") == "moby/1/k1"
    assert sn.snapshot_id(NS, "k1") == "1"
    sn.commit(NS, "name1", "k1")
    # commit: a new backend name from the bucket's sequence, the same N
    assert sn.resolve_key(NS, "name1") == "moby/2/name1"
    assert sn.snapshot_id(NS, "name1") == "1"
    sn.prepare(NS, "k2", "name1")
    assert sn.snapshot_id(NS, "k2") == "2"
    sn.remove(NS, "k2")
    ctrd.garbage_collect()
    sn.prepare(NS, "k3", "name1")
    assert sn.snapshot_id(NS, "k3") == "3"  # N is never reused


def test_namespaces_share_a_backend_not_keys(ctrd):
    sn = ctrd.snapshotter()
    sn.prepare("moby", "k")
    sn.prepare("default", "k")
    assert sn.resolve_key("moby", "k") == "moby/1/k"
    assert sn.resolve_key("default", "k") == "default/1/k"
    assert sn.snapshot_id("default", "k") == "2"


def test_overlay_layout_and_mounts(ctrd):
    sn = ctrd.snapshotter()
    root = ctrd.backends["overlayfs"].root
    (m,) = sn.prepare(NS, "a")
    assert (m.type, m.options) == ("bind", ["rw", "rbind"])
    assert m.source == f"{root}/snapshots/1/fs"
    assert oct(os.stat(f"{root}/snapshots/1").st_mode & 0o777) == "0o700"
    assert oct(os.stat(f"{root}/snapshots/1/work").st_mode & 0o777) == "0o711"
    sn.commit(NS, "A", "a")
    sn.prepare(NS, "b", "A")
    sn.commit(NS, "B", "b")
    (m,) = sn.prepare(NS, "c", "B")
    assert m.type == "overlay"
    assert m.options == [
        "index=off",
        f"workdir={root}/snapshots/3/work",
        f"upperdir={root}/snapshots/3/fs",
        f"lowerdir={root}/snapshots/2/fs:{root}/snapshots/1/fs",
    ]
    assert m.line("/m") == (
        f"overlay on /m type overlay (rw,relatime,lowerdir={root}/snapshots/2/fs:"
        f"{root}/snapshots/1/fs,upperdir={root}/snapshots/3/fs,workdir={root}/snapshots/3/work)"
    )
    (v,) = sn.view(NS, "v1", "A")
    assert (v.type, v.source, v.options) == ("bind", f"{root}/snapshots/1/fs", ["ro", "rbind"])
    assert not os.path.exists(f"{root}/snapshots/4/work")  # views have no work/
    (v,) = sn.view(NS, "v2", "B")
    assert v.type == "overlay" and v.options == [
        "index=off",
        f"lowerdir={root}/snapshots/2/fs:{root}/snapshots/1/fs",
    ]


def test_native_copies_parent(ctrd):
    sn = ctrd.snapshotter("native")
    root = ctrd.backends["native"].root
    sn.prepare(NS, "a")
    with open(f"{root}/snapshots/1/f", "w") as f:
        f.write("x")
    sn.commit(NS, "A", "a")
    (m,) = sn.prepare(NS, "b", "A")
    assert (m.type, m.source, m.options) == ("bind", f"{root}/snapshots/2", ["rbind", "rw"])
    with open(f"{root}/snapshots/2/f") as f:
        assert f.read() == "x"


def test_commit_records_usage(ctrd):
    sn = ctrd.snapshotter()
    root = ctrd.backends["overlayfs"].root
    sn.prepare(NS, "a")
    with open(f"{root}/snapshots/1/fs/f", "wb") as f:
        f.write(b"x" * 10000)
    sn.commit(NS, "A", "a")
    u = sn.usage(NS, "A")
    assert u.inodes == 2 and u.size >= 10000
