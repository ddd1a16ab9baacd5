"""Property test: the snapshotter as a state machine against a small reference model.

Rules: Prepare/View on nothing or on a committed snapshot, Commit an active one, Remove a
leaf, collect. Invariants: kinds and parents as the reference says; every snapshot has its
own N, Ns are never reused and Commit keeps N; after a collection the folders on disk are
exactly the snapshots that exist. Every snapshot carries `containerd.io/gc.root` (as `ctr`
makes them) so that only removal makes garbage.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule  # noqa: E402

from dockerlayers.containerd import Containerd, ContainerdError  # noqa: E402

NS = "moby"
ROOTED = {"containerd.io/gc.root": "x"}
KEYS = st.sampled_from([f"k{i}" for i in range(6)])


class SnapshotterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp()
        self.ctrd = Containerd(self.dir, now=lambda: 0.0)
        self.sn = self.ctrd.snapshotter("overlayfs")
        #: key -> (kind, parent)
        self.ref: dict[str, tuple[str, str]] = {}
        self.n_of: dict[str, str] = {}
        self.all_ns: set[str] = set()

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _committed(self) -> list[str]:
        return sorted(k for k, (kind, _) in self.ref.items() if kind == "Committed")

    def _new_n(self, key: str) -> None:
        n = self.sn.snapshot_id(NS, key)
        assert n not in self.all_ns, f"N {n} reused"
        assert all(int(n) > int(m) for m in self.all_ns)
        self.all_ns.add(n)
        self.n_of[key] = n

    @rule(key=KEYS, data=st.data(), view=st.booleans())
    def create(self, key, data, view):
        parents = [""] + self._committed()
        parent = data.draw(st.sampled_from(parents))
        make = self.sn.view if view else self.sn.prepare
        if key in self.ref:
            with pytest.raises(ContainerdError, match="already exists"):
                make(NS, key, parent, labels=ROOTED)
            return
        make(NS, key, parent, labels=ROOTED)
        self.ref[key] = ("View" if view else "Active", parent)
        self._new_n(key)

    @rule(name=KEYS, data=st.data())
    def commit(self, name, data):
        active = sorted(k for k, (kind, _) in self.ref.items() if kind == "Active")
        if not active:
            return
        key = data.draw(st.sampled_from(active))
        if name in self.ref:
            with pytest.raises(ContainerdError, match="already exists"):
                self.sn.commit(NS, name, key)
            return
        n = self.n_of[key]
        self.sn.commit(NS, name, key)
        _, parent = self.ref.pop(key)
        self.ref[name] = ("Committed", parent)
        self.n_of[name] = self.n_of.pop(key)
        assert self.sn.snapshot_id(NS, name) == n  # commit keeps N

    @precondition(lambda self: self.ref)
    @rule(data=st.data())
    def remove(self, data):
        key = data.draw(st.sampled_from(sorted(self.ref)))
        has_child = any(p == key for _, p in self.ref.values())
        if has_child:
            with pytest.raises(ContainerdError, match="cannot remove snapshot with child"):
                self.sn.remove(NS, key)
            return
        self.sn.remove(NS, key)
        del self.ref[key]
        del self.n_of[key]

    @rule()
    def collect(self):
        self.ctrd.garbage_collect()
        on_disk = set(os.listdir(os.path.join(self.ctrd.backends["overlayfs"].root, "snapshots")))
        assert on_disk == set(self.n_of.values())

    @invariant()
    def same_tree(self):
        got = {i.name: (i.kind, i.parent) for i in self.sn.walk(NS)}
        assert got == self.ref
        for key, n in self.n_of.items():
            assert self.sn.snapshot_id(NS, key) == n


SnapshotterMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None
)
TestSnapshotter = SnapshotterMachine.TestCase
