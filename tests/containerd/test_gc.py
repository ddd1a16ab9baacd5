"""Garbage collection: roots (leases, images, gc.root), label edges, sync and scheduled runs."""

from __future__ import annotations

import os

import pytest

from dockerlayers.containerd import FailedPrecondition

NS = "moby"


def _ndirs(ctrd):
    return sorted(os.listdir(os.path.join(ctrd.backends["overlayfs"].root, "snapshots")))


def test_unreferenced_snapshot_goes_at_next_pass(ctrd, clock):
    sn = ctrd.snapshotter()
    sn.prepare(NS, "free")
    sn.prepare(NS, "rooted", labels={"containerd.io/gc.root": "2024-01-01T00:00:00Z"})
    ctrd.leases.create(NS, "L")
    ctrd.leases.delete(NS, "L")  # a deletion schedules a collection
    assert ctrd.gc_due is not None
    assert ctrd.tick() is None  # not yet due
    clock.advance(0.05)
    stats = ctrd.tick()
    assert stats.snapshots == ["moby/overlayfs/free"]
    assert [i.name for i in sn.walk(NS)] == ["rooted"]
    assert _ndirs(ctrd) == ["2"]


def test_lease_keeps_and_sync_delete_collects(ctrd):
    sn = ctrd.snapshotter()
    ctrd.leases.create(NS, "c1")
    sn.prepare(NS, "c1-init-key", lease="c1")
    sn.commit(NS, "c1-init", "c1-init-key", lease="c1")
    sn.prepare(NS, "c1", "c1-init", lease="c1")
    res = [(r.id, r.type) for r in ctrd.leases.list_resources(NS, "c1")]
    assert res == [("c1", "snapshots/overlayfs"), ("c1-init", "snapshots/overlayfs")]
    ctrd.garbage_collect()
    assert len(sn.walk(NS)) == 2
    ctrd.leases.delete(NS, "c1", synchronous=True)
    assert sn.walk(NS) == []
    assert _ndirs(ctrd) == []


def test_remove_drops_record_now_and_folder_at_gc(ctrd):
    sn = ctrd.snapshotter()
    sn.prepare(NS, "k", labels={"containerd.io/gc.root": "x"})
    sn.remove(NS, "k")
    assert sn.walk(NS) == [] and _ndirs(ctrd) == ["1"]
    ctrd.garbage_collect()
    assert _ndirs(ctrd) == []


def test_content_label_edges(ctrd):
    cs = ctrd.content
    layer = cs.write_blob(NS, b"layer")
    cfg = cs.write_blob(NS, b"config")
    man = cs.write_blob(
        NS,
        b"manifest",
        labels={
            "containerd.io/gc.ref.content.config": cfg.digest,
            "containerd.io/gc.ref.content.l.0": layer.digest,
            "containerd.io/gc.root": "now",
        },
    )
    stray = cs.write_blob(NS, b"stray")
    stats = ctrd.garbage_collect()
    assert stats.blobs == [stray.digest]
    assert {i.digest for i in cs.list(NS)} == {layer.digest, cfg.digest, man.digest}
    assert oct(os.stat(ctrd.local.blob_path(layer.digest)).st_mode & 0o777) == "0o444"


def test_stale_children_after_gc(ctrd):
    """containerd#11908: GC leaves the removed child in its parent's children bucket."""
    sn = ctrd.snapshotter()
    sn.prepare(NS, "p", labels={"containerd.io/gc.root": "x"})
    sn.commit(NS, "P", "p")
    sn.view(NS, "v", "P")  # no label: collected at the next pass
    ctrd.garbage_collect()
    assert [i.name for i in sn.walk(NS)] == ["P"]
    assert sn.children(NS, "P") == ["v"]
    with pytest.raises(FailedPrecondition, match="cannot remove snapshot with child"):
        sn.remove(NS, "P")
    sn.update_labels(NS, "P", {"containerd.io/gc.root": ""})
    ctrd.garbage_collect()  # GC itself still removes it once unrooted
    assert sn.walk(NS) == []
