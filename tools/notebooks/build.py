"""Write the notebook series from the `nbNN_*.py` modules (and the apps, `app_*.py`: a
panel on its own, for Voila), and optionally execute it.

    python tools/notebooks/build.py               # write and execute all (what is committed)
    python tools/notebooks/build.py 03 05         # only notebooks 03 and 05
    python tools/notebooks/build.py app           # only the apps
    python tools/notebooks/build.py --no-execute  # cells only, no outputs (never commit that)

The notebooks are committed executed (every code cell with its count and output) so that
`pytest --nbval notebooks/` compares a fresh run against them in strict mode.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NOTEBOOKS = REPO / "notebooks"

sys.path.insert(0, str(HERE))

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def modules() -> list:
    names = sorted(p.stem for p in HERE.glob("nb[0-9][0-9]_*.py"))
    names += sorted(p.stem for p in HERE.glob("app_*.py"))
    return [importlib.import_module(n) for n in names]


def number_of(mod) -> str:
    """`03` for nb03_restart, `app` for the apps."""
    return "app" if mod.__name__.startswith("app_") else mod.__name__[2:4]


def to_notebook(mod) -> nbformat.NotebookNode:
    """The notebook for one module, with stable cell ids (`<NN>-<index>`)."""
    number = number_of(mod)
    cells = []
    for i, cell in enumerate(mod.CELLS):
        make = (
            nbformat.v4.new_markdown_cell if cell.kind == "markdown" else nbformat.v4.new_code_cell
        )
        c = make(cell.source)
        c["id"] = f"c{number}-{i:02d}"
        cells.append(c)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
    }
    return nb


def execute(nb: nbformat.NotebookNode) -> None:
    from nbclient import NotebookClient

    env_path = os.environ.get("PYTHONPATH", "")
    if str(REPO) not in env_path.split(os.pathsep):  # run against this checkout
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env_path) if p)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        record_timing=False,
        store_widget_state=False,
    )
    client.execute()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--execute", action="store_true", default=True, help=argparse.SUPPRESS)
    ap.add_argument(
        "--no-execute",
        dest="execute",
        action="store_false",
        help="write cells without running them",
    )
    ap.add_argument("only", nargs="*", help="notebook numbers (or `app`) to build (default: all)")
    args = ap.parse_args(argv)
    NOTEBOOKS.mkdir(exist_ok=True)
    for mod in modules():
        number = number_of(mod)
        if args.only and number not in args.only:
            continue
        nb = to_notebook(mod)
        t = time.monotonic()
        if args.execute:
            execute(nb)
        out = NOTEBOOKS / mod.NAME
        nbformat.write(nb, str(out))
        print(f"{out.relative_to(REPO)}  {time.monotonic() - t:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
