"""Notebook 03 in a real browser (Debian's chromium driven by Python playwright; no
browser download): in JupyterLab, run all, then click create / start / exec (write a
file) / restart in the ContainerLab and check that the status and the file list show the
file surviving the restart; then the same notebook under Voila.

Needs `apt-get install -y chromium` and `pip install playwright voila jupyterlab`;
skips with the reason when one is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.notebooks._util import NOTEBOOKS, REPO, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOTEBOOK = "03-restart-keeps-the-rw-layer.ipynb"
#: notebook 10 has the same panel on the containerd image store
NOTEBOOK_C8D = "10-docker-29-containerd-image-store.ipynb"
APP = "app-containerlab.ipynb"  # what the README's Voila badge opens
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _need(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        pytest.skip(f"python package {module!r} is not installed")


@pytest.fixture
def workdir(tmp_path):
    if CHROMIUM is None:
        pytest.skip("no chromium (apt-get install -y chromium)")
    _need("playwright")
    work = tmp_path / "nb"
    work.mkdir()
    for name in (NOTEBOOK, NOTEBOOK_C8D, APP):  # autosave rewrites the copies, not ours
        shutil.copy(NOTEBOOKS / name, work / name)
    env = dict(os.environ)
    home = tmp_path / "home"
    for var in (
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_DATA_DIR",
        "JUPYTER_RUNTIME_DIR",
        "IPYTHONDIR",
        "MPLCONFIGDIR",
    ):
        env[var] = str(home / var.lower())
    env["HOME"] = str(home)
    # JupyterLab 4 renders only the cells in view ("windowing"); the panel is the last
    # output of a long notebook, so render every cell
    settings = home / "lab-settings"
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return work, env


def _serve(cmd, env, cwd, url, timeout=60.0):
    # the server's log goes to a file: an unread pipe fills up and blocks the server
    log = open(os.path.join(cwd, "..", "server.log"), "wb")  # noqa: SIM115 (closed with the server)
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    proc.log = log
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.close()
            with open(log.name, "rb") as f:
                raise RuntimeError(f"server exited: {f.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc
        except Exception:
            time.sleep(0.3)
    _stop(proc)
    raise RuntimeError(f"server did not answer at {url}")


def _stop(proc):
    try:
        _terminate(proc)
    finally:
        proc.log.close()


def _terminate(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _field(panel, label):
    """The <input> of the ipywidgets Text whose description is exactly `label`."""
    return (
        panel.locator(".widget-text")
        .filter(has=panel.page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")))
        .locator("input")
    )


def _drive_lab(page, timeout_ms=60_000):
    """Create / start / exec / restart in the ContainerLab; return (status, file list)."""
    panel = (
        page.locator(".widget-vbox").filter(has=page.locator("button", has_text="restart")).first
    )
    panel.wait_for(timeout=timeout_ms)

    def click(text):
        panel.locator("button.widget-button", has_text=re.compile(f"^{text}$")).click()

    def run_exec(cmd):
        box = _field(panel, "exec")
        box.fill(cmd)
        box.press("Enter")
        click("run exec")

    status = panel.locator(".widget-html").filter(has_text="clock").first
    output = (
        panel.locator(".widget-textarea")
        .filter(has=page.locator("label", has_text="output"))
        .locator("textarea")
    )
    name = _field(panel, "name")
    name.fill("browser")
    name.press("Enter")
    click("create")
    page.wait_for_function(
        "() => document.body.innerText.includes('browser')", timeout=timeout_ms, polling=250
    )
    click("start")
    status.filter(has_text=re.compile(r"browser\s+\w+\s+Up")).wait_for(timeout=timeout_ms)
    run_exec("sh -c 'echo survives > /kept.txt'")
    page.wait_for_function(
        "() => [...document.querySelectorAll('textarea')]"
        ".some(t => t.value.includes('exit code 0'))",
        timeout=timeout_ms,
        polling=250,
    )
    before = status.inner_text()
    click("restart")
    page.wait_for_function(
        "() => document.body.innerText.includes('docker restart browser')", timeout=timeout_ms
    )
    run_exec("ls /")
    page.wait_for_function(
        "() => [...document.querySelectorAll('textarea')]"
        ".some(t => t.value.includes('$ ls /') && t.value.includes('kept.txt'))",
        timeout=timeout_ms,
        polling=250,
    )
    return before, status.inner_text(), output.input_value()


def _mount_id(status_text):
    """The RW layer's name on the status line: its mount-id, or (containerd store) its
    snapshot key and `snapshots/<N>`."""
    m = re.search(r"browser\s+\w+\s+.*?mount-id (\w+)", status_text)
    if m:
        return m.group(1)
    m = re.search(r"browser\s+\w+\s+.*?snapshot (\w+) in (snapshots/\d+)", status_text)
    return m.groups() if m else None


def _launch(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS)


@pytest.mark.parametrize("notebook", [NOTEBOOK, NOTEBOOK_C8D], ids=["03", "10"])
def test_jupyterlab_container_lab_restart_keeps_the_file(workdir, notebook):
    _need("jupyterlab")
    from playwright.sync_api import sync_playwright

    work, env = workdir
    port = free_port()
    server = _serve(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={work}",
            "--LabApp.expose_app_in_browser=True",
        ],
        env,
        work,
        f"http://127.0.0.1:{port}/lab",
    )
    try:
        with sync_playwright() as p:
            browser = _launch(p)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/lab/tree/{notebook}")
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
                timeout=90_000
            )
            page.wait_for_function(
                "async () => { await window.jupyterapp.restored; return true; }", timeout=90_000
            )
            page.locator(".jp-Notebook").first.click()  # the notebook is the current widget
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
            try:
                before, after, files = _drive_lab(page, timeout_ms=120_000)
            except Exception:
                page.screenshot(path=str(work.parent / "failure.png"))
                raise
            browser.close()
    finally:
        _stop(server)
    assert re.search(r"browser\s+\w+\s+Up", after), after
    assert _mount_id(before) and _mount_id(before) == _mount_id(after), (before, after)
    assert "kept.txt" in files, files


def test_voila_container_lab_restart_keeps_the_file(workdir):
    _need("voila")
    from playwright.sync_api import sync_playwright

    work, env = workdir
    port = free_port()
    server = _serve(
        [
            sys.executable,
            "-m",
            "voila",
            APP,
            "--no-browser",
            "--Voila.ip=127.0.0.1",
            f"--port={port}",
            "--Voila.port_retries=0",
        ],
        env,
        work,
        f"http://127.0.0.1:{port}/",
        timeout=120,
    )
    try:
        with sync_playwright() as p:
            browser = _launch(p)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            try:
                before, after, files = _drive_lab(page, timeout_ms=120_000)
            except Exception:
                page.screenshot(path=str(work.parent / "failure.png"))
                raise
            browser.close()
    finally:
        _stop(server)
    assert re.search(r"browser\s+\w+\s+Up", after), after
    assert _mount_id(before) and _mount_id(before) == _mount_id(after), (before, after)
    assert "kept.txt" in files, files
