"""Figures without pyplot (no global state, works under any backend), and PNG bytes."""

from __future__ import annotations

import io
from typing import Any

DPI = 80


def new_figure(width: float, height: float) -> Any:
    """A matplotlib Figure with an Agg canvas attached (never registered with pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout=None)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Any, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes, without timestamps (same bytes on every run)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


_WARM = False


def warm() -> None:
    """Load matplotlib and its fonts and draw once (~0.5 s the first time in a process),
    so that a panel's first click does not pay for it. Cheap after the first call."""
    global _WARM
    if _WARM:
        return
    fig = new_figure(1.0, 1.0)
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.imshow([[0, 1]], aspect="auto", interpolation="nearest")
    ax.scatter([0], [0], marker="s")
    fig.text(0.5, 0.5, "warm", family="monospace", fontsize=8)
    fig.text(0.5, 0.2, "warm", fontsize=8, fontweight="bold")
    to_png(fig)
    _WARM = True


def row_labels(
    ax: Any, labels: list[str], marked: list[bool], row_h: float, fontsize: float = 8
) -> None:
    """Right-aligned monospace labels left of `ax`, one per row of height `row_h` inches
    (marked ones red and bold). Drawn as two multi-line texts: one text per row would cost
    a few ms each."""
    if not labels:
        return
    fig = ax.get_figure()
    probe = fig.text(0, 0, "lp", fontsize=fontsize, family="monospace", linespacing=1.0)
    line_px = probe.get_window_extent(fig.canvas.get_renderer()).height
    probe.remove()
    spacing = row_h * fig.dpi / line_px if line_px else 1.2
    plain = "\n".join("" if m else t for t, m in zip(labels, marked))
    red = "\n".join(t if m else "" for t, m in zip(labels, marked))
    common = dict(
        transform=ax.transAxes,
        ha="right",
        va="center",
        fontsize=fontsize,
        family="monospace",
        linespacing=spacing,
        multialignment="right",
    )
    ax.text(-0.01, 0.5, plain, color="black", **common)
    if any(marked):
        ax.text(-0.01, 0.5, red, color="#d62728", fontweight="bold", **common)


MATPLOTLIB_MISSING = (
    "This plot needs matplotlib, which this Python does not have (in the browser, JupyterLite "
    "loads it from Pyodide's distribution: run `%pip install matplotlib` with a network, or "
    "open the notebook on Binder). The cells without plots work as they are."
)


def has_matplotlib() -> bool:
    """Whether matplotlib can be imported (not under a JupyterLite site built offline)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _say_matplotlib_missing() -> None:
    """Where matplotlib cannot be imported (a JupyterLite site built offline), a plot cell
    shows one clear sentence instead of a traceback (an IPython handler, installed once)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pass
    else:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return

    def handler(shell: Any, etype: Any, value: Any, tb: Any, tb_offset: Any = None) -> None:
        if (getattr(value, "name", None) or "").split(".")[0] == "matplotlib":
            print(MATPLOTLIB_MISSING)
        else:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)

    ip.set_custom_exc((ImportError,), handler)


_say_matplotlib_missing()
