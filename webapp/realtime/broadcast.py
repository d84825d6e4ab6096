"""Sending events to channel groups: the one way the app tells websocket listeners anything.

Sending is a courtesy: the database row stays the truth and a client that missed an event
resyncs from it. So a failed send (Redis down, a timeout) is logged, never raised into the code
that made the change, and events about a write go out only once its transaction has committed,
so a listener never hears of a row that was rolled back, and a broken broadcast never undoes
one that was committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def broadcast(groups: str | Iterable[str], event: dict[str, Any], *, layer_alias: str | None = None) -> None:
    """Send ``event`` (a dict with a ``type``) to each group now; failures are logged and swallowed."""
    from asgiref.sync import async_to_sync
    from channels.layers import DEFAULT_CHANNEL_LAYER, get_channel_layer

    layer = get_channel_layer(layer_alias or DEFAULT_CHANNEL_LAYER)
    if layer is None:
        return
    for group in [groups] if isinstance(groups, str) else groups:
        try:
            async_to_sync(layer.group_send)(group, event)
        except Exception:  # noqa: BLE001 - live updates are a courtesy; the row stays the truth
            logger.warning("Could not send %s to %s", event.get("type"), group, exc_info=True)


def broadcast_on_commit(groups: str | Iterable[str], event: dict[str, Any], *, layer_alias: str | None = None) -> None:
    """``broadcast`` once the current transaction commits (at once outside a transaction); nothing
    if it rolls back."""
    groups = [groups] if isinstance(groups, str) else list(groups)
    transaction.on_commit(lambda: broadcast(groups, event, layer_alias=layer_alias), robust=True)
