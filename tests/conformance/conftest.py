"""Fixtures of the conformance suite: the model's template root (base:1 imported) and, for
tests marked `engine`, a real Docker engine started once per session by tools/real-docker.sh
(root only; skipped with the reason when it cannot start) and stopped at the end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conformance import scenario_runner as sr


@pytest.fixture(scope="session")
def engine_state(tmp_path_factory) -> Path:
    """The state folder of a running engine (or skip). `DOCKERLAYERS_ENGINE=DIR` reuses one
    that is already running (started by `tools/real-docker.sh start DIR` + `base DIR`)."""
    given = os.environ.get("DOCKERLAYERS_ENGINE")
    if given:
        yield Path(given)
        return
    reason = sr.engine_unavailable_reason()
    if reason:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("engine")
    try:
        sr.start_engine(state)
    except (RuntimeError, OSError) as e:
        sr.stop_engine(state)
        pytest.skip(f"the real engine did not start: {e}")
    try:
        yield state
    finally:
        sr.stop_engine(state)


@pytest.fixture(scope="session")
def model_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("conformance")


@pytest.fixture(scope="session")
def model_side(model_tmp) -> sr.ModelSide:
    """dockerlayers with base:1 made from a busybox rootfs like the engine's (no engine needed)."""
    base = sr.base_rootfs_tar(model_tmp / "base.tar")
    template = sr.make_model_template(model_tmp / "free", base)
    return sr.ModelSide(template, model_tmp)


@pytest.fixture(scope="session")
def live_sides(engine_state, tmp_path_factory) -> tuple[sr.ModelSide, sr.EngineSide]:
    """The model with the engine's own base tar, and the engine."""
    tmp = tmp_path_factory.mktemp("live")
    template = sr.make_model_template(tmp, engine_state / "base-rootfs.tar")
    return sr.ModelSide(template, tmp), sr.EngineSide(engine_state, tmp)
