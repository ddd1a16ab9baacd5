"""The library under Pyodide (Node + npm `pyodide`, the project's wheel installed offline, with
pyodide-kernel's empty flock): the core scenario gives the same IDs, sizes and layer tars as
on CPython, on every driver. Needs `node` and `npm ci` in tests/pyodide/ (.ci/run does both)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pyodide import scenario

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
PYODIDE = HERE / "node_modules" / "pyodide" / "pyodide.asm.wasm"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed (apt-get install nodejs npm)")
    if not PYODIDE.exists():
        pytest.skip("npm pyodide is not installed: run `npm ci` in tests/pyodide/")
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    src = build / "src"
    # a copy of the checkout, so the build leaves no build/ or egg-info in it
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv*",
            "node_modules",
            "_site",
            "notebooks",
            "tests",
            "benchmarks",
            "*.egg-info",
            "build",
        ),
    )
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        pytest.skip(f"the wheel could not be built here: {r.stderr.strip()[-300:]}")
    (whl,) = out.glob("dockerlayers-*.whl")
    return whl


def test_scenario_same_as_cpython(wheel: Path) -> None:
    drivers = ["overlay2", "aufs", "vfs"]
    r = subprocess.run(
        ["node", str(HERE / "run.mjs"), str(wheel), str(HERE / "scenario.py"), *drivers],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=HERE,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    # what made the difference: Pyodide has none of these (else this test proves little)
    assert "'HAS_LINK': False" in r.stderr and "'HAS_FLOCK': False" in r.stderr, r.stderr[-500:]
    under_pyodide = json.loads(r.stdout.strip().splitlines()[-1])
    on_cpython = json.loads(scenario.main(drivers))
    for driver in drivers:
        for key, value in on_cpython[driver].items():
            assert under_pyodide[driver][key] == value, (driver, key)
    assert on_cpython["overlay2"]["base"][1] == 501  # busybox's 42-way hard link counted once


def test_scenario_is_deterministic_on_cpython() -> None:
    """Two runs, same IDs: the comparison above is meaningful (no wall-clock leak)."""
    assert scenario.main(["vfs"]) == scenario.main(["vfs"])
