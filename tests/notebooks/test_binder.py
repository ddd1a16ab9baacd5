"""Binder's files, and a stand-in for Binder: a fresh venv built only from binder/
(runtime.txt's Python, requirements.txt, postBuild) executes every notebook.

repo2docker cannot run here (it needs a container engine); this follows its steps.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from importlib import metadata

import pytest

from tests.notebooks._util import BINDER, REPO, notebook_paths


def _pins() -> dict[str, str]:
    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and line != ".":
            name, _, version = line.partition("==")
            assert version, f"pin {line!r} with =="
            pins[name] = version
    return pins


def test_binder_files():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [ln.strip() for ln in (BINDER / "requirements.txt").read_text().splitlines()]
    assert "." in lines or "-e ." in lines, "binder/requirements.txt must install the package"
    post = BINDER / "postBuild"
    assert post.read_text().startswith("#!"), "postBuild needs a shebang"
    assert post.stat().st_mode & stat.S_IXUSR, "postBuild needs the run bit"
    assert "fetchNews" in post.read_text()


def test_pins_match_this_environment():
    """Binder pins what CI installs: every pinned package, where installed here, has the
    pinned version (skips those this environment does not have)."""
    missing = []
    for name, version in _pins().items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        assert have == version, f"{name}: binder pins {version}, this environment has {have}"
    if len(missing) == len(_pins()):
        pytest.skip("none of the pinned packages is installed here")


def _python311() -> str | None:
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    return shutil.which("python3.11")


@pytest.mark.slow
def test_fresh_binder_env_runs_every_notebook(tmp_path):
    py = _python311()
    if py is None:
        pytest.skip("no Python 3.11 (binder/runtime.txt) on this machine")
    # repo2docker copies the repository; installing `.` builds in the source tree, so work
    # on a copy and leave the checkout clean.
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("pyproject.toml", "README.md", "dockerlayers", "binder", "notebooks"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(
                src, repo / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
            )
        else:
            shutil.copy2(src, repo / name)
    venv = tmp_path / "binder-venv"
    subprocess.run([py, "-m", "venv", str(venv)], check=True)
    vpy = str(venv / "bin" / "python")
    pip = subprocess.run(
        [vpy, "-m", "pip", "install", "-q", "-r", str(BINDER / "requirements.txt")],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if pip.returncode != 0 and re.search(
        r"(?i)could not (find|fetch)|connection|resolve", pip.stderr
    ):
        pytest.skip("no package index reachable: " + pip.stderr.strip().splitlines()[-1])
    assert pip.returncode == 0, pip.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    home = tmp_path / "home"
    home.mkdir()
    for var in (
        "HOME",
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_DATA_DIR",
        "JUPYTER_RUNTIME_DIR",
        "IPYTHONDIR",
        "MPLCONFIGDIR",
    ):
        env[var] = str(home / var.lower())
    env["HOME"] = str(home)
    # notebook 11 from a local registry it starts (not Docker Hub, whatever CI can reach)
    env["DOCKERLAYERS_REGISTRY"] = "local"
    subprocess.run([str(repo / "binder" / "postBuild")], cwd=repo, env=env, check=True)
    leftovers = [
        p.name for p in repo.iterdir() if p.name == "build" or p.name.endswith(".egg-info")
    ]
    assert leftovers == [], f"the install left {leftovers} in the learner's home"
    overrides = subprocess.run(
        [vpy, "-c", "import sys; print(sys.prefix)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with open(os.path.join(overrides, "share/jupyter/lab/settings/overrides.json")) as f:
        settings = json.load(f)
    assert settings["@jupyterlab/apputils-extension:notification"]["checkForUpdates"] is False
    out = tmp_path / "executed"
    proc = subprocess.run(
        [
            vpy,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=300",
            "--output-dir",
            str(out),
            *[str(repo / "notebooks" / p.name) for p in notebook_paths()],
        ],
        cwd=repo / "notebooks",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert sorted(p.name for p in out.glob("*.ipynb")) == [p.name for p in notebook_paths()]
