"""Fixtures for every web-app test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def media_root_in_tmp(settings, tmp_path_factory):
    """Each test gets its own MEDIA_ROOT: no test reads the developer's var/media, or (deleting an
    asset frees its files) removes anything from it. Tests that need a known folder set their own."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
