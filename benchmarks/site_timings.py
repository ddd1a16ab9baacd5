"""Timings of the series in a browser (headless chromium): the JupyterLite site (no server:
the kernel is Pyodide in the page) beside JupyterLab (a server and an ipykernel).

    python benchmarks/site_timings.py [--site _site] [--runs 3] [--no-jupyterlab]

For each, from a cold page: **site ready** (the page opened until the app is restored),
**kernel ready** (until notebook 03's kernel is idle), **notebook 03 run** (Run All Cells,
25 code cells) and **one panel click** (notebook 03's ContainerLab: `start` until the status
shows Up, `restart` until "What Docker did" shows it). Medians of `--runs`. The site is
built with tools/build_site.py unless `--site` names a built one (the build needs the lite
requirements, `lite/requirements.txt`). Every request outside the local servers is blocked.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lite.test_site import PANEL_NOTEBOOK, Browser, drive_panel, run_all  # noqa: E402
from tests.notebooks._util import NOTEBOOKS, free_port  # noqa: E402
from tests.notebooks.test_browser import _serve, _stop  # noqa: E402

ROWS = [
    "site ready",
    "kernel ready",
    "notebook 03 run",
    "panel click: start -> status Up",
    "panel click: restart -> trace",
]


def measure(browser: Browser) -> dict[str, float]:
    page = browser.open(PANEL_NOTEBOOK)
    try:
        times = dict(page.timings)
        t0 = time.monotonic()
        run_all(page)
        times["notebook 03 run"] = time.monotonic() - t0
        _, _, clicks = drive_panel(page)
        times.update(clicks)
    finally:
        browser.done(page)
    return times


def jupyterlab(tmp: Path):
    """A JupyterLab server on a copy of the notebooks, as tests/notebooks/test_browser.py."""
    work = tmp / "nb"
    shutil.copytree(NOTEBOOKS, work)
    home = tmp / "home"
    env = dict(os.environ, HOME=str(home), PYTHONPATH=str(ROOT))
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = str(home / var.lower())
    env["MPLCONFIGDIR"] = str(home / "mpl")
    settings = home / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env["JUPYTERLAB_SETTINGS_DIR"] = str(home / "lab-settings")
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root"]
    cmd += [f"--port={port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1"]
    cmd += ["--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={work}"]
    cmd += ["--LabApp.expose_app_in_browser=True"]
    server = _serve(cmd, env, work, f"http://127.0.0.1:{port}/lab")
    return server, f"http://127.0.0.1:{port}/"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", help="a built site (default: build one)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-jupyterlab", action="store_true")
    args = ap.parse_args(argv)
    results: dict[str, list[dict[str, float]]] = {"JupyterLite": [], "JupyterLab": []}
    with tempfile.TemporaryDirectory(prefix="site-timings-") as tmp:
        site = Path(args.site) if args.site else Path(tmp) / "_site"
        if not args.site:
            build = [sys.executable, str(ROOT / "tools" / "build_site.py"), "--out", str(site)]
            subprocess.run(build, check=True)
        b = Browser(site)
        try:
            for i in range(args.runs):
                results["JupyterLite"].append(measure(b))
                print("JupyterLite", i, results["JupyterLite"][-1], flush=True)
        finally:
            b.close()
        assert b.blocked == [], b.blocked
        if not args.no_jupyterlab:
            server, base = jupyterlab(Path(tmp))
            try:
                b = Browser(base=base)
                try:
                    for i in range(args.runs):
                        results["JupyterLab"].append(measure(b))
                        print("JupyterLab", i, results["JupyterLab"][-1], flush=True)
                finally:
                    b.close()
            finally:
                _stop(server)
    print()
    print("| in headless chromium | JupyterLite site | JupyterLab |")
    print("| --- | ---: | ---: |")
    for row in ROWS:
        cells = []
        for kind in ("JupyterLite", "JupyterLab"):
            runs = [r[row] for r in results[kind]]
            cells.append(f"{statistics.median(runs):.2f} s" if runs else "")
        print(f"| {row} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
