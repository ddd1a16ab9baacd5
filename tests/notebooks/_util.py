"""Shared helpers for the notebook tests: paths, the notebook list, free ports."""

from __future__ import annotations

import socket
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
BINDER = REPO / "binder"


def notebook_paths() -> list[Path]:
    """The series (`NN-*.ipynb`), then the apps (`app-*.ipynb`, what Voila opens)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")) + sorted(NOTEBOOKS.glob("app-*.ipynb"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
