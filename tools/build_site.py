"""Build the JupyterLite site (the series in the browser, no server) into `_site/`.

    python tools/build_site.py [--out _site]

Offline at run time: everything the kernel loads is in the site. At build time it needs
jupyterlite-core and jupyterlite-pyodide-kernel (pinned in lite/requirements.txt), npm's
`pyodide` (lite/package.json, `npm ci` is run if missing) and PyPI for the pure-Python
wheels Pyodide's distribution would otherwise serve (micropip, IPython and their
dependencies) and the panels' ipywidgets (its front end, jupyterlab_widgets, is a lab
extension in lite/requirements.txt); not matplotlib, which is built for WebAssembly by
Pyodide: plot cells then print a sentence, see dockerlayers/viz/_figure.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LITE = ROOT / "lite"
# what the kernel itself loads from Pyodide's distribution, plus the notebooks' imports
KERNEL_PACKAGES = ["micropip", "ipython", "jedi"]
# what pyodide-kernel installs with piplite and its bundled index lacks
PIPLITE_EXTRA = ["comm"]
# the panels' widgets (the versions pyproject's `notebooks` extra pins; the front end is
# jupyterlab_widgets' lab extension, in lite/requirements.txt): pure Python, put in the
# lock as a dependency of dockerlayers, so the kernel loads them with it (`from
# dockerlayers.viz import ContainerLab` imports ipywidgets, which no cell names itself)
WIDGETS = {"ipywidgets": ("8.1.9", ["traitlets", "ipython"])}


def run(cmd: list[str], **kw) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def npm_pyodide() -> Path:
    pyodide = LITE / "node_modules" / "pyodide"
    if not (pyodide / "pyodide.asm.wasm").exists():
        run(["npm", "ci", "--no-audit", "--no-fund"], cwd=LITE)
    return pyodide


def build_wheel(dest: Path) -> Path:
    """The project's wheel, built from a copy of the checkout (leaves no build/ in it)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        ignore = shutil.ignore_patterns(
            ".git", ".venv*", "node_modules", "_site", "notebooks", "tests", "benchmarks", "build"
        )
        shutil.copytree(ROOT, src, ignore=ignore)
        run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dest), str(src)])
    (whl,) = dest.glob("dockerlayers-*.whl")
    return whl


def pip_download(lock: dict) -> list[str]:
    """pip download of pure-Python wheels for Pyodide's Python (not this one's)."""
    py = ".".join(lock["info"]["python"].split(".")[:2])
    return [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:"] + [
        "--python-version",
        py,
        "--platform",
        "any",
    ]


def closure(lock: dict, names: list[str]) -> list[str]:
    """`names` and all they depend on, as the lock's keys."""
    keys = {k.lower().replace("_", "-"): k for k in lock["packages"]}
    todo, seen = list(names), []
    while todo:
        n = keys[todo.pop().lower().replace("_", "-")]
        if n in seen:
            continue
        seen.append(n)
        todo.extend(lock["packages"][n]["depends"])
    return sorted(seen)


def fill_distribution(static_pyodide: Path, lock: dict, wheel: Path) -> None:
    """Put the pure-Python wheels the kernel needs beside Pyodide (from PyPI, the versions
    its lock names; the lock's hash follows the file if PyPI's differs) and add the project's
    wheel to the lock, so `loadPyodide({packages: ["dockerlayers"]})` prefetches it."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in closure(lock, KERNEL_PACKAGES):
            entry = lock["packages"][name]
            if not entry["file_name"].endswith("-none-any.whl"):
                raise SystemExit(f"{name} is not pure Python: it needs Pyodide's distribution")
            spec = f"{entry['name']}=={entry['version']}"
            run([*pip_download(lock), "-d", tmp, spec])
            stem = entry["file_name"].split("-")[0].lower().replace("-", "_")
            (got,) = [p for p in Path(tmp).glob("*.whl") if p.name.lower().startswith(stem + "-")]
            target = static_pyodide / entry["file_name"]
            shutil.move(str(got), target)
            entry["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
        for name, (version, depends) in WIDGETS.items():
            run([*pip_download(lock), "-d", tmp, f"{name}=={version}"])
            (got,) = Path(tmp).glob(f"{name}-{version}-*.whl")
            target = static_pyodide / got.name
            shutil.move(str(got), target)
            lock["packages"][name] = {
                "name": name,
                "version": version,
                "file_name": got.name,
                "install_dir": "site",
                "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
                "package_type": "package",
                "imports": [name],
                "depends": depends,
                "unvendored_tests": False,
            }
    shutil.copy(wheel, static_pyodide / wheel.name)
    version = wheel.name.split("-")[1]
    lock["packages"]["dockerlayers"] = {
        "name": "dockerlayers",
        "version": version,
        "file_name": wheel.name,
        "install_dir": "site",
        "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "package_type": "package",
        "imports": ["dockerlayers"],
        "depends": sorted(WIDGETS),
        "unvendored_tests": False,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "_site"))
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    pyodide = npm_pyodide()
    with tempfile.TemporaryDirectory(prefix="dockerlayers-lite-") as tmp:
        lite_dir = Path(tmp) / "lite"
        lite_dir.mkdir()
        for name in ("jupyter-lite.json", "jupyter_lite_config.json"):
            shutil.copy(LITE / name, lite_dir / name)
        static_pyodide = lite_dir / "static" / "pyodide"
        shutil.copytree(pyodide, static_pyodide, ignore=shutil.ignore_patterns("*.map", "*.d.ts"))
        wheels = Path(tmp) / "wheels"
        wheel = build_wheel(wheels)
        lock = json.loads((static_pyodide / "pyodide-lock.json").read_text())
        fill_distribution(static_pyodide, lock, wheel)
        (static_pyodide / "pyodide-lock.json").write_text(json.dumps(lock))
        piplite = Path(tmp) / "piplite"
        run([*pip_download(lock), "-d", str(piplite), *PIPLITE_EXTRA])
        contents = Path(tmp) / "contents"
        shutil.copytree(ROOT / "notebooks", contents, ignore=shutil.ignore_patterns(".*"))
        if out.exists():
            shutil.rmtree(out)
        cmd = [sys.executable, "-m", "jupyter", "lite", "build", "--lite-dir", str(lite_dir)]
        cmd += ["--contents", str(contents), "--output-dir", str(out)]
        for w in sorted(piplite.glob("*.whl")):
            cmd += ["--piplite-wheels", str(w)]
        run(cmd, cwd=lite_dir)
    print(f"site: {out} (serve it with any static server, e.g. python -m http.server -d {out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
