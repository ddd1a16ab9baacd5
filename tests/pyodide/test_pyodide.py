"""The library under Pyodide (Node + npm `pyodide`, the project's wheel installed offline, with
pyodide-kernel's empty flock): the core scenario gives the same IDs, sizes and layer tars as
on CPython, on every driver; and the test suite itself passes there (run_pytest.mjs, with
pyodide-kernel's own mocks). Needs `node` and `npm ci` in tests/pyodide/ (.ci/run does both);
the suite run also needs PyPI for its pure-Python wheels (pytest, hypothesis...)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
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


# What the suite run covers: the pure-Python parts (layer store, archive, graph drivers in user
# space, image store, union file system properties, builder, daemon verbs through the Python API,
# containerd mode, process model, filters). Left out for time, not features (WebAssembly runs
# them minutes each): the tests marked slow, the union file system's state machine
# (test_union_model) and the 128-layer mounts. Left out as folders made of what Pyodide cannot
# do: the CLI in subprocesses, the real engine and registry, notebooks and browsers, crash and
# concurrency tests in child processes. What remains and still needs a missing feature skips
# itself, with the reason (tests/conftest.py).
SUITE = [
    "tests/archive",
    "tests/builder",
    "tests/containerd",
    "tests/daemon",
    "tests/graphdriver",
    "tests/image",
    "tests/layer",
    "tests/process",
    "tests/test_client.py",
    "tests/test_digest.py",
    "tests/test_filters.py",
    "tests/test_idtools.py",
    "tests/test_platform.py",
]
# Known to fail under Pyodide, out until fixed: the default devices (test_devices,
# test_endless_devices_into_a_pipe). runc binds the host's null, zero, full, random and
# urandom into /dev (daemon/mounts.py DeviceFS); Emscripten's /dev has no zero nor full and
# gives random/urandom other numbers (64,0 and 65,0), so reads of /dev/zero fail there. /dev
# is a tmpfs, never in a layer: no ID or size depends on it. (Fixed, issue 20 item 1: owners
# and modes, kept by the model where there are no xattrs and chown is a no-op, idtools;
# hard-link tests compare platform.inode_key.)
KNOWN_FAILING = "test_devices or test_endless_devices_into_a_pipe"
DESELECT = f"not test_union_model and not test_128_layers_mount and not ({KNOWN_FAILING})"
MIN_PASSED = 1250  # 1284 passed in the run that set it: losing a module is caught


def _pins(path: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


@pytest.fixture(scope="module")
def wheels(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheels to install into Pyodide: the project's, pytest's and hypothesis' pure-Python
    ones (tests/pyodide/requirements.txt) and pyodide-kernel's, whose mocks the runner applies
    (from jupyterlite-pyodide-kernel at the version lite/requirements.txt pins)."""
    out = tmp_path_factory.mktemp("wheels")
    shutil.copy(wheel, out)
    (kernel,) = (p for p in _pins(ROOT / "lite" / "requirements.txt") if "pyodide-kernel" in p)
    pure = ["--only-binary=:all:", "--no-deps", "--platform", "any", "--implementation", "py"]
    pure += ["--python-version", "3.14"]  # npm pyodide 314's Python
    got = tmp_path_factory.mktemp("download")
    cmd = [sys.executable, "-m", "pip", "download", "-q", *pure, "-d", str(got)]
    r = subprocess.run(
        [*cmd, *_pins(HERE / "requirements.txt"), kernel],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if r.returncode != 0:
        pytest.skip(f"the suite's wheels could not be downloaded: {r.stderr.strip()[-300:]}")
    for whl in got.glob("*.whl"):
        if whl.name.startswith("jupyterlite_pyodide_kernel-"):
            with zipfile.ZipFile(whl) as z:
                (inner,) = (n for n in z.namelist() if re.search(r"/pyodide_kernel-[^/]*\.whl$", n))
                (out / inner.rsplit("/", 1)[1]).write_bytes(z.read(inner))
        else:
            shutil.copy(whl, out)
    return out


def test_suite_under_pyodide(wheels: Path) -> None:
    """The suite's pure-Python part under Pyodide: pytest exits 0, nothing fails or errors,
    and at least MIN_PASSED tests pass (what does not apply there skips, with the reason)."""
    r = subprocess.run(
        ["node", str(HERE / "run_pytest.mjs"), str(wheels), str(ROOT)]
        + ["-p", "no:cacheprovider", "-q", "-rfEs", "-m", "not slow", "-k", DESELECT, *SUITE],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=HERE,
    )
    summary = re.search(r"^run_pytest\.mjs summary: (.*)$", r.stderr, re.M)
    assert summary, (r.stdout[-3000:], r.stderr[-3000:])
    counts = json.loads(summary.group(1))
    assert r.returncode == 0, r.stdout[-6000:]
    assert counts.get("failed", 0) == 0 and counts.get("error", 0) == 0, counts
    assert counts.get("passed", 0) >= MIN_PASSED, counts
    # it ran where it should: no hard links, no flock (pyodide-kernel's empty fcntl)
    assert "'HAS_LINK': False" in r.stderr and "'HAS_FLOCK': False" in r.stderr
