"""Pictures and panels of the model: plots (matplotlib) and widgets (ipywidgets).

Each plot is a pair: a data function returning the model it draws (tested on its own) and a
`plot_*` function returning a matplotlib Figure (no pyplot, works outside notebooks).
Widgets are imported on first use, so the plots work without ipywidgets.
"""

from __future__ import annotations

from typing import Any

from dockerlayers.viz._figure import to_png
from dockerlayers.viz.analysis import ImageAnalysis, analyze_image, plot_image_analysis
from dockerlayers.viz.disktree import DiskTree, disk_tree, plot_disk_tree
from dockerlayers.viz.drivers import DriverComparison, compare_drivers, plot_driver_comparison
from dockerlayers.viz.filemap import FileLayerMatrix, file_layer_matrix, plot_file_layer_map
from dockerlayers.viz.lifecycle import Lifecycle, lifecycle, plot_lifecycle
from dockerlayers.viz.scenes import layered_image
from dockerlayers.viz.snapshot import Snapshot, diff_snapshots, take_snapshot
from dockerlayers.viz.stack import LayerStack, layer_stack, plot_layer_stack
from dockerlayers.viz.trace import Trace, run_traced

_WIDGETS = {
    "ContainerLab": "dockerlayers.viz.lab",
    "ImageExplorer": "dockerlayers.viz.explorer",
    "DriverCompare": "dockerlayers.viz.explorer",
    "PanelRunner": "dockerlayers.viz.testing",
    "PullProgress": "dockerlayers.viz.pullprogress",
}


def __getattr__(name: str) -> Any:
    if name in _WIDGETS:
        import importlib

        return getattr(importlib.import_module(_WIDGETS[name]), name)
    raise AttributeError(f"module 'dockerlayers.viz' has no attribute {name!r}")


__all__ = [
    "ContainerLab",
    "DiskTree",
    "DriverCompare",
    "DriverComparison",
    "FileLayerMatrix",
    "ImageAnalysis",
    "ImageExplorer",
    "LayerStack",
    "Lifecycle",
    "PanelRunner",
    "PullProgress",
    "Snapshot",
    "Trace",
    "analyze_image",
    "compare_drivers",
    "diff_snapshots",
    "disk_tree",
    "file_layer_matrix",
    "layer_stack",
    "layered_image",
    "lifecycle",
    "plot_disk_tree",
    "plot_driver_comparison",
    "plot_file_layer_map",
    "plot_image_analysis",
    "plot_layer_stack",
    "plot_lifecycle",
    "run_traced",
    "take_snapshot",
    "to_png",
]
