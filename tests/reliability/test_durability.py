"""Durability, sampled for CI (the full part: `python tools/reliability.py durability`):
`kill -9` of a CLI `load` and `commit` at random moments, then the root reopens with no
violation, in each mount mode (issue 21, item 10: kernel overlay mounts a killed command
leaves behind are cleaned by the next daemon)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("mounts", ["user", "kernel"])
def test_kill_9_mid_command_leaves_a_root_that_reopens(mounts):
    if mounts == "kernel":
        from dockerlayers.graphdriver.kernel import overlay_supported

        if os.geteuid() != 0 or not overlay_supported():
            pytest.skip("kernel overlay mounts need root and overlayfs (CI has both)")
    p = subprocess.run(
        [sys.executable, "tools/reliability.py", "durability", "--runs", "4", "--mb", "4",
         "--mounts", mounts, "--seed", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "0 with violations" in p.stdout
