"""The committed notebooks: in step with their generator, executed, deterministic, and
passing nbval in strict mode (the slow test runs `pytest --nbval` on them)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import re
import shutil
import subprocess
import sys

import pytest

from tests.notebooks._util import NOTEBOOKS, REPO, notebook_paths

nbformat = pytest.importorskip("nbformat")

# the series, then the ContainerLab app
EXPECTED = [f"{i:02d}" for i in range(12)] + ["ap"]
#: notebooks that pull from a registry: offline they start Debian's `docker-registry`
REGISTRY_NOTEBOOKS = {"11"}


def _load(path):
    return nbformat.read(str(path), as_version=4)


def test_the_series_is_complete():
    assert [p.name[:2] for p in notebook_paths()] == EXPECTED


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name[:2])
def test_committed_executed(path):
    """nbval never compares a cell without an execution count: every code cell has one,
    in order, and no output is an error."""
    nb = _load(path)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts and None not in counts, (
        f"{path.name}: execute it (python tools/notebooks/build.py)"
    )
    assert counts == list(range(1, len(counts) + 1))
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", (
                f"{path.name}: {out.get('ename')}: {out.get('evalue')}"
            )
            assert not (out.output_type == "stream" and out.name == "stderr"), (
                f"{path.name}: stderr"
            )


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name[:2])
def test_deterministic_setup(path):
    """Every client is seeded, on the virtual clock and the user-space union; no output
    shows a temporary path or a memory address."""
    nb = _load(path)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    calls = re.findall(r"DockerClient\((.*)$", source, re.M)
    assert calls, path.name
    for args in calls:
        assert "seed=" in args and 'clock="virtual"' in args and 'mounts="user"' in args, args
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            # a host temp path (not an in-container one like /var/tmp/)
            assert not re.search(r"(?<![\w/])/tmp/", text), (path.name, text[:200])
            assert "dockerlayers-" not in text, (path.name, text[:200])
            assert not re.search(r" at 0x[0-9a-f]+", text), (path.name, text[:200])


def _build_module():
    spec = importlib.util.spec_from_file_location("nb_build", REPO / "tools/notebooks/build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_in_step_with_the_generator():
    """The committed cells are exactly what tools/notebooks/*.py generate."""
    build = _build_module()
    for mod in build.modules():
        committed = _load(NOTEBOOKS / mod.NAME)
        generated = build.to_notebook(mod)
        assert [(c.cell_type, c.source) for c in committed.cells] == [
            (c.cell_type, c.source) for c in generated.cells
        ], f"{mod.NAME}: run python tools/notebooks/build.py {build.number_of(mod)}"


@pytest.mark.slow
def test_nbval_strict():
    """`pytest --nbval --nbval-current-env notebooks/`: a fresh run of every notebook gives
    the committed outputs. Notebook 11 pulls from a local registry it starts
    (notebooks/conftest.py sets DOCKERLAYERS_REGISTRY=local): without `docker-registry`
    the others run and the test then skips, naming it."""
    pytest.importorskip("nbval")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    left_out = []
    if not shutil.which("docker-registry") and env.get("DOCKERLAYERS_REGISTRY", "local") == "local":
        left_out = [p for p in notebook_paths() if p.name[:2] in REGISTRY_NOTEBOOKS]
    targets = [str(p) for p in notebook_paths() if p not in left_out]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "-q",
            "-o",
            "addopts=",
            *targets,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    if left_out:
        pytest.skip(
            f"{', '.join(p.name for p in left_out)} not run: docker-registry "
            "(Debian package docker-registry) is not installed; the others pass"
        )


@pytest.mark.slow
def test_nbval_strict_as_an_unprivileged_user(tmp_path):
    """Issue 15: the same committed outputs when the notebooks run as uid 1000 (Binder's
    user), not root: nbval strict on a copy of the notebooks, in a child process that has
    dropped to uid/gid 1000."""
    pytest.importorskip("nbval")
    from tests.support.asuser import UNPRIVILEGED, need_root, workdir

    need_root()
    home = workdir()
    copy = os.path.join(home, "notebooks")
    shutil.copytree(NOTEBOOKS, copy)
    for dirpath, dirs, files in os.walk(home):
        for name in dirs + files:
            os.chown(os.path.join(dirpath, name), UNPRIVILEGED, UNPRIVILEGED)

    def drop() -> None:
        os.setgroups([])
        os.setgid(UNPRIVILEGED)
        os.setuid(UNPRIVILEGED)

    env = {
        **os.environ,
        "HOME": home,
        "TMPDIR": home,
        "JUPYTER_RUNTIME_DIR": os.path.join(home, ".jupyter-runtime"),
        "IPYTHONDIR": os.path.join(home, ".ipython"),
        "MPLCONFIGDIR": os.path.join(home, ".mpl"),
        "PYTHONPATH": str(REPO),
    }
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import dockerlayers, nbval"],
            preexec_fn=drop, env=env, capture_output=True, text=True, cwd=home,
        )  # fmt: skip
        why = probe.stderr[-300:] if probe.returncode else ""
    except OSError as e:  # the interpreter lives where uid 1000 cannot go (/root/...)
        why = str(e)
    if why:
        shutil.rmtree(home, ignore_errors=True)
        pytest.skip(f"uid {UNPRIVILEGED} cannot run this interpreter: {why}")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
             "-p", "no:cacheprovider", "-q", "-o", "addopts=", copy],
            preexec_fn=drop, env=env, cwd=home, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    finally:
        shutil.rmtree(home, ignore_errors=True)
