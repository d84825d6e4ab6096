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


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, dict]]:
    """(group, event) of every websocket event sent during the test, instead of sending it:
    ``broadcast`` (and so ``broadcast_on_commit``) and the notifications' pushes."""
    import importlib

    events: list[tuple[str, dict]] = []

    def record(groups, event, *, layer_alias=None):
        events.extend((group, event) for group in ([groups] if isinstance(groups, str) else groups))

    monkeypatch.setattr(importlib.import_module("webapp.realtime.broadcast"), "broadcast", record)
    monkeypatch.setattr(importlib.import_module("webapp.notifications.services"), "broadcast", record)
    return events
