"""Fixtures for every web-app test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory) -> Path:
    """Each test gets its own empty MEDIA_ROOT: no test reads the developer's var/media, or
    (deleting an asset frees its files) removes anything from it."""
    root = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = root
    return root
