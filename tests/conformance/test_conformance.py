"""The conformance scenarios: dockerlayers against the engine's recorded transcripts (always),
and against a live engine (marked `engine`); the differences table kept current."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conformance import scenario_runner as sr

SCENARIOS = sr.all_scenarios()
IDS = [s.name for s in SCENARIOS]
FIRED: set[str] = set()  # normalisation categories seen in this session


def _fail_text(res: sr.ScenarioResult, drift: bool = False) -> str:
    parts = [res.summary()]
    parts += [m.describe() for m in res.unexplained]
    parts += ["stale annotation: " + s for s in res.stale]
    if drift:
        parts += [
            "engine differs from the transcript (re-record?): " + m.describe()
            for m in res.engine_drift
        ]
    return "\n".join(parts)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_model_matches_recorded_engine(scenario, model_side):
    """Every step's output equals the engine's recorded one, but for documented differences."""
    if scenario.requires_engine:
        pytest.skip("needs a live engine (cross-side save/load)")
    res = sr.run_scenario(scenario, model_side)
    FIRED.update(res.categories)
    assert res.ok, _fail_text(res)


@pytest.mark.engine
@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_model_matches_live_engine(scenario, live_sides):
    """The same scenario on the engine and on dockerlayers, side by side; the engine must
    also still produce its recorded transcript (else the normalisation misses something)."""
    model, engine = live_sides
    res = sr.run_scenario(scenario, model, engine)
    FIRED.update(res.categories)
    assert res.ok and not res.engine_drift, _fail_text(res, drift=True)


def test_differences_doc_lists_every_key():
    """Every annotation key and every normalisation is a row of docs/differences.md, and
    every row is still used somewhere."""
    documented = sr.documented_keys()
    used = sr.annotation_keys(SCENARIOS)
    missing = sorted(set(used) - set(documented))
    assert not missing, f"keys used in scenarios but not in docs/differences.md: {missing} ({used})"
    norm_missing = sorted(set(sr.NORMALISATION_CATEGORIES) - set(documented))
    assert not norm_missing, f"normalisations not documented: {norm_missing}"
    unused = sorted(set(documented) - set(used) - set(sr.NORMALISATION_CATEGORIES))
    assert not unused, f"rows of docs/differences.md no scenario uses any more: {unused}"
    for key, kind in documented.items():
        if key.startswith("bug:"):
            assert kind == "model bug", key
        else:
            assert kind != "model bug", f"{key}: model bugs use the bug: prefix"


def test_normalisations_seen_are_documented():
    """Runs in this session (it sorts after the scenario tests) only used documented rules."""
    assert set(sr.documented_keys()) >= FIRED, sorted(FIRED - set(sr.documented_keys()))


FIXTURE = Path(__file__).parent / "fixtures" / "engine-saved.tar"
FIXTURE_META = json.loads((Path(__file__).parent / "fixtures" / "engine-saved.json").read_text())


def test_image_saved_by_the_engine_loads_with_its_ids(model_side, tmp_path):
    """`docker save` output of dockerd 20.10 (fixture) loads here with the same image ID and
    the same diff IDs (load verifies each layer's content against its diff ID)."""
    root = tmp_path / "root"
    shutil.copytree(model_side.template, root, symlinks=True)
    side = sr.ModelSide(model_side.template, tmp_path)
    side.data_root, side.work = root, tmp_path
    r = side.docker(["load", "-i", str(FIXTURE)])
    assert r.code == 0, r.err
    assert r.out == f"Loaded image: {FIXTURE_META['repo_tag']}\n"
    r = side.docker(["inspect", FIXTURE_META["repo_tag"]])
    assert r.code == 0, r.err
    attrs = json.loads(r.out)[0]
    assert attrs["Id"] == FIXTURE_META["image_id"]
    assert attrs["RootFS"]["Layers"] == FIXTURE_META["diff_ids"]
    assert sr.saved_ids(FIXTURE)[0] == FIXTURE_META["image_id"].removeprefix("sha256:")
    sr._unmount_under(root)
