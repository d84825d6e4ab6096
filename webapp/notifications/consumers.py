"""The user's notifications over a websocket (``ws/notifications/``, group ``user.<id>``).

On connect the user gets ``{"type": "notifications.state", "unread": n}``; then
``notification.created`` (with the notification) and ``notification.read`` (after marking), each
carrying the new unread count. The socket is read-only.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.notifications.selectors import notification_unread_count
from webapp.notifications.services import user_group_name

CLOSE_UNAUTHENTICATED = 4401


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group_name(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        unread = await database_sync_to_async(notification_unread_count)(user=user)
        await self.send_json({"type": "notifications.state", "unread": unread})

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        await self.send_json({
            "type": "error", "code": "read_only",
            "detail": "This socket is read-only: mark notifications read with POST /api/notifications/<id>/read/.",
        })

    async def notification_created(self, event):
        await self.send_json(event)

    async def notification_read(self, event):
        await self.send_json(event)
