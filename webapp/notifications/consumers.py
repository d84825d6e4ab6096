"""The user's notifications over a websocket (``ws/notifications/``, group ``user.<id>``).

On connect the user gets ``{"type": "notifications.state", "unread": n}``; then
``notification.created`` (with the notification) and ``notification.read`` (after marking), each
carrying the new unread count. The socket is read-only.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.notifications.selectors import notification_unread_count
from webapp.realtime import GroupConsumer, user_group


class NotificationConsumer(GroupConsumer):
    read_only_detail = "This socket is read-only: mark notifications read with POST /api/notifications/<id>/read/."
    relayed = frozenset({"notification.created", "notification.read"})

    async def admit(self, user) -> str:
        return user_group(user.pk)

    async def welcome(self, user) -> dict:
        unread = await database_sync_to_async(notification_unread_count)(user=user)
        return {"type": "notifications.state", "unread": unread}
