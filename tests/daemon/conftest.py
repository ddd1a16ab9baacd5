"""Fixtures for the daemon suites: clients on a virtual clock (helpers in daemontest.py)."""

from __future__ import annotations

import os

import pytest

from dockerlayers import DockerClient


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """Metadata is written atomically with fsync (ioutils); durability against power loss is
    not what these suites test, and fsync dominates their time on some disks. Renames,
    and so what a crash (a copy of the root) leaves, are unchanged."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture
def make_client(tmp_path):
    """make_client(name="root", **kw) -> a DockerClient on tmp_path/name (virtual clock,
    user-space mounts, seed 1 unless told otherwise); all are closed at teardown."""
    made: list[DockerClient] = []

    def factory(name: str = "root", **kw) -> DockerClient:
        kw.setdefault("seed", 1)
        kw.setdefault("clock", "virtual")
        kw.setdefault("mounts", "user")
        c = DockerClient(root=str(tmp_path / name), **kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        try:
            c.close()
        except Exception:
            pass


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def base(client):
    return client.images.base()
