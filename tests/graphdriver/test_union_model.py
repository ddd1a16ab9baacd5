"""A hypothesis state machine: random file operations through a container's RootFS, over
two image layers and an RW layer, agree with a plain in-memory model of the merged tree,
for every driver; and the RW layer's diff (changes, tar) reproduces the merged view.
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from dockerlayers.archive import unpack_layer
from dockerlayers.graphdriver.fsdiff import changes_rootfs
from tests.graphdriver.fstest import apply_all, assert_same_tree, changes_as_tuples, snapshot
from tests.graphdriver.unionops import OPS, Model, base_layers, step
from tests.support.drivers import IMPLS, make


def build_image(driver, flat: str) -> str:
    """Two layers through the driver (and the same changes on the flat folder); returns the
    id of the top layer."""
    parent = None
    for i, appliers in enumerate(base_layers()):
        layer = f"image-{i}"
        driver.create(layer, parent)
        fs = driver.get(layer)
        try:
            apply_all(appliers, fs)
        finally:
            driver.put(layer)
        apply_all(appliers, flat)
        parent = layer
    return parent


def check_diff(driver, rw: str, parent: str, flat: str, work: str, merged: dict) -> None:
    """changes() equals the naive answer; the tar applied to the parent's flat tree
    reproduces the merged view."""
    fs, pfs = driver.get(rw), driver.get(parent)
    try:
        naive = changes_as_tuples(changes_rootfs(fs, pfs))
    finally:
        driver.put(parent)
        driver.put(rw)
    got = changes_as_tuples(driver.changes(rw, parent))
    if driver.name != "aufs":
        # moby's AUFS Changes reads the upper folder alone and differs from naive on
        # purpose (a copied-up path is a Modify, opaque folders hide their deletes, a
        # nested `.wh..wh..opq` is reported as `D <dir>/.wh..opq`); the archive tests
        # cover it. Its tar must still reproduce the merged view (below).
        assert got == naive
    copy = os.path.join(work, "applied")
    if os.path.exists(copy):
        shutil.rmtree(copy)
    shutil.copytree(flat, copy, symlinks=True)
    with driver.diff(rw, parent) as tar:
        unpack_layer(copy, tar)
    assert_same_tree(merged, snapshot(copy))


class UnionMachine(RuleBasedStateMachine):
    impl = "overlay2"
    tmp = ""

    def __init__(self) -> None:
        super().__init__()
        self.n = getattr(type(self), "_n", 0)
        type(self)._n = self.n + 1
        self.work = os.path.join(self.tmp, f"run{self.n}")
        os.makedirs(os.path.join(self.work, "flat"))
        self.flat = os.path.join(self.work, "flat")
        self.driver = make(self.impl, os.path.join(self.work, "root"))
        # no tar-extracted layers here (whole-second mtimes): moby's wait is not needed
        self.driver.naive_diff_wait = False
        self.parent = build_image(self.driver, self.flat)
        self.driver.create_read_write("rw", self.parent)
        self.fs = self.driver.get("rw")
        self.model = Model.from_snapshot(snapshot(self.flat), union=self.driver.name != "vfs")
        assert_same_tree(self.model.snapshot(), snapshot(self.fs, owners=False))

    @rule(op=OPS)
    def operate(self, op):
        step(self.model, [self.fs], op)

    @invariant()
    def agrees_with_model(self):
        assert_same_tree(self.model.snapshot(), snapshot(self.fs, owners=False))

    def teardown(self):
        try:
            self.driver.put("rw")
            check_diff(self.driver, "rw", self.parent, self.flat, self.work, self.model.snapshot())
        finally:
            self.driver.cleanup()
            shutil.rmtree(self.work, ignore_errors=True)


@pytest.mark.parametrize("impl", IMPLS)
def test_union_model(impl, tmp_path):
    machine = type(f"UnionMachine_{impl}", (UnionMachine,), {"impl": impl, "tmp": str(tmp_path)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
