"""Drive `dockerlayers.cli.main` in-process on a temporary root, with a seed and a
persisted virtual clock so IDs, names and times are the same on every run."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from dockerlayers.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """cli("ps", "-a") -> Result(code, out, err)."""
    root = tmp_path / "root"
    monkeypatch.setenv("DOCKERLAYERS_ROOT", str(root))
    monkeypatch.setenv("DOCKERLAYERS_CLOCK", "virtual")
    monkeypatch.setenv("DOCKERLAYERS_SEED", "7")
    monkeypatch.setenv("DOCKERLAYERS_MOUNTS", "user")
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()

    def run(*argv: str, stdin: str = "") -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin))
        return Result(code, out.getvalue(), err.getvalue())

    run.root = root  # type: ignore[attr-defined]
    return run
