"""'What Docker did' in the containerd mode: moby 29's and containerd's steps, from evidence."""

from __future__ import annotations

import importlib

import pytest

from dockerlayers import DockerClient
from dockerlayers.viz import ContainerLab
from dockerlayers.viz.trace_containerd import RECIPES


@pytest.fixture
def lab():
    c = DockerClient(seed=3, clock="virtual", mounts="user", storage="containerd")
    yield ContainerLab(c, image=c.images.base())
    c.close()


def test_recipe_code_resolves():
    for specs in RECIPES.values():
        for spec in specs:
            for name in spec.code_names():
                module, _, qual = name.rpartition(".")
                obj = None
                while module:
                    try:
                        obj = importlib.import_module(module)
                        break
                    except ImportError:
                        module, _, head = module.rpartition(".")
                        qual = f"{head}.{qual}"
                for part in qual.split("."):
                    obj = getattr(obj, part)
                assert callable(obj), name


def _steps(trace):
    return {s.function: s for s in trace.steps}


def test_create_start_restart_rm(lab):
    steps = _steps(lab.do("create"))
    init = next(s for f, s in steps.items() if f.startswith("prepareInitLayer"))
    assert any(path.endswith("snapshots/2/fs/.dockerenv") for _, path in init.files)
    rw = next(s for f, s in steps.items() if f.startswith("snapshotter.Prepare(<id>, <id>-init)"))
    assert (
        "+",
        "containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots/3/",
    ) in rw.files
    lab.do("start")
    steps = _steps(lab.do("restart"))
    assert any("same snapshots/<N>" in f for f in steps)
    lab.do("stop")
    steps = _steps(lab.do("rm"))
    gc = next(s for f, s in steps.items() if f.startswith("synchronous GC"))
    removed = [p for m, p in gc.files if m == "-"]
    assert any(p.endswith("snapshots/3/") for p in removed)
    assert any(p.endswith("snapshots/2/") for p in removed)
    assert "(not attributed to a step above)" not in steps
