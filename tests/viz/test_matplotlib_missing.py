"""Where matplotlib cannot be imported (a JupyterLite site built offline), a plot cell prints
one clear sentence instead of a traceback; other errors still show their traceback."""

from __future__ import annotations

import subprocess
import sys

CELLS = r"""
import sys
sys.modules["matplotlib"] = None  # as in a Python without it
from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
ip.run_cell("from dockerlayers import DockerClient")
ip.run_cell("from dockerlayers.viz import plot_layer_stack")
ip.run_cell("client = DockerClient(seed=0, clock='virtual', mounts='user', driver='vfs')")
ip.run_cell("plot_layer_stack(client)")
ip.run_cell("import no_such_module_here")
ip.run_cell("client.close()")
"""


def test_plot_cell_says_matplotlib_is_missing() -> None:
    r = subprocess.run([sys.executable, "-c", CELLS], capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert "This plot needs matplotlib" in out, out[-2000:]
    assert "Traceback" not in out.split("This plot needs matplotlib")[0][-400:]
    assert "No module named 'no_such_module_here'" in out  # other errors: as before
