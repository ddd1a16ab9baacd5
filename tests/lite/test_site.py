"""The series in the browser with no server: the JupyterLite site built by
`tools/build_site.py`, served by a local static server, opened in Debian's chromium (Python
playwright, no browser download) with every request outside that server blocked. Each
notebook is opened in JupyterLab-in-the-browser, all its cells are run by the Pyodide
kernel, and every code cell's outputs are compared with the committed `.ipynb` (execution
counts, metadata and widget model ids aside; plot cells are listed in PLOT_CELLS and must
print the matplotlib-missing sentence instead). Then notebook 03's ContainerLab is clicked
through: create, start, exec (write a file), restart; the file survives, the mount-id stays.

Needs chromium, playwright, node/npm (npm `pyodide`), the lite requirements
(`lite/requirements.txt`, in `.venv-lite/` or the running Python; `.ci/run` installs them)
and PyPI at build time; skips with the reason when one is missing. For speed while
developing, `DOCKERLAYERS_LITE_SITE=/path/to/_site` reuses a built site;
`DOCKERLAYERS_LITE_TIMINGS=file.json` writes the timings (site ready, kernel ready, each
notebook's run, one panel click) the README quotes.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from dockerlayers.viz._figure import MATPLOTLIB_MISSING
from tests.notebooks._util import NOTEBOOKS, REPO, notebook_paths

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # a second wall behind the route below: no name resolves but the local server's
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
PANEL_NOTEBOOK = "03-restart-keeps-the-rw-layer.ipynb"
#: code cells (0-based among the code cells) whose committed output is a plot: offline the
#: site has no matplotlib (it is built for WebAssembly by Pyodide's distribution, which
#: the build cannot fetch), so in the browser they print MATPLOTLIB_MISSING instead
PLOT_CELLS = {
    "00-start-here.ipynb": [3],
    "01-images-are-stacks-of-layers.ipynb": [10],
    "04-copy-up-whiteouts-opaque.ipynb": [11],
    "05-commit-and-build.ipynb": [6],
    "06-storage-drivers-compared.ipynb": [4],
    "07-container-lifecycle.ipynb": [11],
}
#: notebooks that cannot run in the page: 11 pulls from a registry, which needs the network
#: (Docker Hub, whose API a browser's CORS rules keep out of reach) or a local
#: `docker-registry` process (a browser starts no processes)
NOT_IN_BROWSER = {"11-pull-a-real-image.ipynb"}
#: what a cell's outputs are compared on: its text (the rest is pictures or front-end state)
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
TIMEOUT_MS = 300_000  # a whole notebook on a loaded 2-core machine

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TIMINGS: dict[str, float] = {}


def _lite_python() -> str | None:
    """A Python that has the lite requirements (jupyterlite-core and the pyodide kernel)."""
    candidates = [
        os.environ.get("DOCKERLAYERS_LITE_PYTHON"),
        str(REPO / ".venv-lite" / "bin" / "python"),
        sys.executable,
    ]
    for py in candidates:
        if not py or not Path(py).exists():
            continue
        probe = [py, "-c", "import jupyterlite_core, jupyterlite_pyodide_kernel"]
        if subprocess.run(probe, capture_output=True).returncode == 0:
            return py
    return None


def _pypi_reachable() -> str | None:
    """None if the package index answers, else why not."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/").rstrip("/")
    try:
        urllib.request.urlopen(index + "/pip/", timeout=15).close()
        return None
    except Exception as e:
        return f"{index}: {e}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("DOCKERLAYERS_LITE_SITE")
    if given:
        path = Path(given)
        assert (path / "lab" / "index.html").exists(), f"not a built site: {path}"
        return path
    py = _lite_python()
    if py is None:
        pytest.skip(
            "the lite requirements are not installed: python3 -m venv .venv-lite && "
            ".venv-lite/bin/pip install -r lite/requirements.txt (.ci/run does it)"
        )
    has_pyodide = (REPO / "lite" / "node_modules" / "pyodide" / "pyodide.asm.wasm").exists()
    if not has_pyodide and (shutil.which("npm") is None or shutil.which("node") is None):
        pytest.skip("node/npm are missing (apt-get install nodejs npm): no npm pyodide")
    why = _pypi_reachable()
    if why is not None:
        pytest.skip(f"PyPI is needed to build the site and does not answer ({why})")
    out = tmp_path_factory.mktemp("lite") / "_site"
    t0 = time.monotonic()
    r = subprocess.run(
        [py, str(REPO / "tools" / "build_site.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    TIMINGS["site build (s)"] = time.monotonic() - t0
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class Browser:
    """One chromium; the site on a local static server (or, with `base`, a running
    JupyterLab to compare with); every request elsewhere is aborted and remembered in
    `blocked`."""

    def __init__(self, site: Path | None = None, base: str | None = None) -> None:
        self.server = None
        if site is not None:
            handler = functools.partial(_Quiet, directory=str(site))
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            threading.Thread(target=self.server.serve_forever, daemon=True).start()
            base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        assert base is not None
        self.base = base
        self.lite = site is not None
        self.blocked: list[str] = []
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)

    def _route(self, route) -> None:
        url = route.request.url
        if not url.startswith(self.base):
            self.blocked.append(url)
            route.abort()
        elif url.split("?")[0] == self.base + "jupyter-lite.json":
            # the app on window (to read the notebook's model and run commands) and every
            # cell rendered (JupyterLab renders only the cells in view by default); the
            # site on disk is left as published
            response = route.fetch()
            config = response.json()
            data = config["jupyter-config-data"]
            data["exposeAppInBrowser"] = "true"
            data.setdefault("settingsOverrides", {})["@jupyterlab/notebook-extension:tracker"] = {
                "windowingMode": "none"
            }
            route.fulfill(response=response, json=config)
        else:
            route.continue_()

    def open(self, name: str):
        """A page with notebook `name` open and its kernel idle; timings in `page.timings`.
        Each in a new context: JupyterLite keeps its workspace and files in the browser's
        storage, and would reopen the notebooks of the page before."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", self._route)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        t0 = time.monotonic()
        if self.lite:
            page.goto(f"{self.base}lab/index.html?path={name}")
        else:
            page.goto(f"{self.base}lab/tree/{name}")
        page.wait_for_function("() => window.jupyterapp !== undefined")
        page.evaluate("async () => { await window.jupyterapp.restored; }")
        site_ready = time.monotonic() - t0
        page.wait_for_function(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " return w && w.context && w.context.path.endsWith(" + json.dumps(name) + ")"
            " && w.sessionContext.session && w.sessionContext.session.kernel; }"
        )
        page.evaluate(
            "async () => { const w = window.jupyterapp.shell.currentWidget;"
            " await w.context.ready; await w.sessionContext.ready; }"
        )
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
        page.timings = {"site ready": site_ready, "kernel ready": time.monotonic() - t0}
        return page

    @staticmethod
    def done(page) -> None:
        page.context.close()

    def close(self) -> None:
        self.browser.close()
        self._pw.stop()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest):
    if CHROMIUM is None:
        pytest.skip("no chromium (apt-get install -y chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("python package 'playwright' is not installed")
    b = Browser(request.getfixturevalue("site"))  # built only once the browser is there
    yield b
    b.close()
    out = os.environ.get("DOCKERLAYERS_LITE_TIMINGS")
    if out:
        Path(out).write_text(json.dumps(TIMINGS, indent=1, sort_keys=True) + "\n")
    # the site is whole: nothing it loads comes from elsewhere (it would fail offline)
    assert b.blocked == [], b.blocked


def run_all(page) -> dict:
    """Run every cell (JupyterLab's "Run All Cells") and return the notebook as JSON."""
    # resolves when the last cell has run (false after an error: the outputs then show it)
    page.evaluate("async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')")
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.toJSON()")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def normalize(outputs: list[dict]) -> list:
    """What is compared: stream texts (consecutive chunks joined), the text forms of
    results and displays, a marker for a widget or a picture, errors' name and value."""
    out: list = []
    for o in outputs:
        kind = o["output_type"]
        if kind == "stream":
            text = _text(o["text"])
            if out and out[-1][0] == "stream" and out[-1][1] == o["name"]:
                out[-1] = ("stream", o["name"], out[-1][2] + text)
            else:
                out.append(("stream", o["name"], text))
        elif kind in ("execute_result", "display_data"):
            data = o["data"]
            texts = {k: _text(v) for k, v in sorted(data.items()) if k in TEXT_MIMES}
            extra = sorted(k for k in data if k not in TEXT_MIMES)
            out.append(("data", texts, extra))
        elif kind == "error":
            out.append(("error", o["ename"], o["evalue"]))
        else:
            out.append((kind,))
    return out


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def compare(name: str, ran: dict) -> list[str]:
    """The differences between the committed notebook and the one run in the browser."""
    committed = code_cells(json.loads((NOTEBOOKS / name).read_text()))
    got = code_cells(ran)
    assert len(got) == len(committed), (len(got), len(committed))
    problems = []
    for i, (want, have) in enumerate(zip(committed, got)):
        if i in PLOT_CELLS.get(name, []):
            streams = [o for o in have["outputs"] if o["output_type"] == "stream"]
            if not any(MATPLOTLIB_MISSING in _text(o["text"]) for o in streams):
                problems.append(f"plot cell {i}: no matplotlib sentence: {have['outputs']}")
            continue
        if normalize(want["outputs"]) != normalize(have["outputs"]):
            problems.append(
                f"code cell {i}:\n  committed: {normalize(want['outputs'])}\n"
                f"  browser:   {normalize(have['outputs'])}"
            )
    return problems


_OPEN_03: list = []  # notebook 03's page, run, kept for the panel test


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name[:2])
def test_notebook_outputs_match_the_committed_ones(browser: Browser, path: Path) -> None:
    name = path.name
    if name in NOT_IN_BROWSER:
        pytest.skip(f"{name} needs a registry: not in the browser (see NOT_IN_BROWSER)")
    page = browser.open(name)
    t0 = time.monotonic()
    ran = run_all(page)
    elapsed = time.monotonic() - t0
    TIMINGS[f"{name[:2]} run all (s)"] = elapsed
    if name == PANEL_NOTEBOOK:
        TIMINGS.update({f"{k} (s)": v for k, v in page.timings.items()})
        _OPEN_03.append(page)
    else:
        browser.done(page)
    problems = compare(name, ran)
    assert not problems, "\n".join(problems)


def _field(panel, label):
    """The <input> of the ipywidgets Text whose description is exactly `label`."""
    return (
        panel.locator(".widget-text")
        .filter(has=panel.page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")))
        .locator("input")
    )


def drive_panel(page) -> tuple[str, str, dict[str, float]]:
    """Notebook 03's ContainerLab (run already), clicked as a reader would: name, create,
    start, exec (write a file), restart, exec `ls /`. Returns the status before and after
    the restart and the time from a click to what it changes."""
    timings = {}
    panel = (
        page.locator(".widget-vbox").filter(has=page.locator("button", has_text="restart")).first
    )
    panel.wait_for()
    status = panel.locator(".widget-html").filter(has_text="clock").first

    def click(text):
        panel.locator("button.widget-button", has_text=re.compile(f"^{text}$")).click()

    def wait_text(js_test: str) -> None:
        page.wait_for_function(js_test, polling=50)

    def body_has(text: str) -> str:
        return f"() => document.body.innerText.includes({json.dumps(text)})"

    def textarea_has(*texts: str) -> str:
        cond = " && ".join(f"t.value.includes({json.dumps(t)})" for t in texts)
        return f"() => [...document.querySelectorAll('textarea')].some(t => {cond})"

    def run_exec(cmd: str) -> None:
        box = _field(panel, "exec")
        box.fill(cmd)
        box.press("Enter")
        click("run exec")

    assert "(no containers)" in status.inner_text()
    name = _field(panel, "name")
    name.fill("browser")
    name.press("Enter")
    click("create")
    status.filter(has_text=re.compile(r"browser\s+\w+\s+Created")).wait_for()
    t0 = time.monotonic()
    click("start")
    status.filter(has_text=re.compile(r"browser\s+\w+\s+Up")).wait_for()
    timings["panel click: start -> status Up"] = time.monotonic() - t0
    wait_text(textarea_has("container start"))  # the events box
    run_exec("sh -c 'echo survives > /kept.txt'")
    wait_text(textarea_has("exit code 0"))
    wait_text(body_has("/kept.txt"))  # the map (a picture, or as text: it names the file)
    before = status.inner_text()
    t0 = time.monotonic()
    click("restart")
    wait_text(body_has("docker restart browser"))  # "What Docker did"
    timings["panel click: restart -> trace"] = time.monotonic() - t0
    wait_text(textarea_has("container restart"))
    run_exec("ls /")
    wait_text(textarea_has("$ ls /", "kept.txt"))
    return before, status.inner_text(), timings


def test_container_lab_panel_restart_keeps_the_file(browser: Browser) -> None:
    """Notebook 03's panel clicked through: the status, the events, the trace and the map
    (as text: no matplotlib) change, and the file written survives the restart."""
    if _OPEN_03:
        page = _OPEN_03.pop()
    else:
        page = browser.open(PANEL_NOTEBOOK)
        run_all(page)
    try:
        before, after, timings = drive_panel(page)
        TIMINGS.update({f"{k} (s)": v for k, v in timings.items()})
        assert "This plot needs matplotlib" not in page.locator("body").inner_text()
        assert "as text: matplotlib is missing here" in page.locator("body").inner_text()
    except Exception:
        page.screenshot(path=str(Path(os.environ.get("TMPDIR", "/tmp")) / "lite-panel.png"))
        raise
    finally:
        browser.done(page)
    assert re.search(r"browser\s+\w+\s+Up", after), after
    mount = re.compile(r"browser\s+\w+\s+.*?mount-id (\w+)")
    assert mount.search(before) and mount.search(before)[1] == mount.search(after)[1], (
        before,
        after,
    )
