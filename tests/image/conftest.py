"""Fixtures for the image tests: a daemon-like root with a layer store and an image
service (builders and views: tests/support/images.py)."""

from __future__ import annotations

import pytest

from dockerlayers.image import ImageService
from tests.support.images import make_service


@pytest.fixture
def service(tmp_path) -> ImageService:
    return make_service(str(tmp_path / "root"))


@pytest.fixture
def other(tmp_path) -> ImageService:
    return make_service(str(tmp_path / "other"), seed=2)
