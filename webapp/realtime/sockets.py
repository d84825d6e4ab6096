"""What every websocket of the app shares: close codes, client-message errors and parsing, and
``GroupConsumer``, the base of the sockets that admit a user to one channel group and relay its events.

Close codes: 4401 anonymous, 4403 refused (the user's role does not allow it, or a guest's
invitation ended), 4404 not visible (missing, or of a film the user is not a member of: the
same answer), 4410 ended (a live session): final, a client does not retry them. 4503
unavailable: the server could not reach Redis to join the socket's group; the client retries
(with backoff) like after any other drop. Client messages are JSON objects; a bad one is
answered with ``{"type": "error", "code", "detail", ...}`` from a ``SocketError``.

Redis going away never closes a ``GroupConsumer``'s socket once it is open: the layer's receive
waits for it (``layers.py``), a client message whose handler meets a Redis error is answered
``{"type": "error", "code": "unavailable"}``, a group event's handler that does is logged and
skipped, and after Redis may have lost events the socket sends its client its state again.
"""

from __future__ import annotations

import json
import logging

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.realtime.layers import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_ENDED = 4410
CLOSE_UNAVAILABLE = 4503


class SocketError(Exception):
    """A refused client message: ``code`` is machine-readable, ``detail`` names the problem,
    ``fields`` (optional) maps field names to their errors as the API does."""

    def __init__(self, code: str, detail: str, fields: dict | None = None):
        super().__init__(detail)
        self.code, self.detail, self.fields = code, detail, fields


def json_object_parse(text: str | None, *, max_bytes: int) -> dict:
    """One client message as a dict, or SocketError ``malformed`` / ``too_large``."""
    if text is None:
        raise SocketError("malformed", "Send JSON text messages; binary messages are not accepted.")
    # Bytes, not characters: what the limit protects is the wire and the parser.
    size = len(text.encode("utf-8", errors="replace"))
    if size > max_bytes:
        raise SocketError("too_large", f"The message has {size} bytes; at most {max_bytes}.")
    try:
        message = json.loads(text)
    except ValueError as error:
        raise SocketError("malformed", f"The message is not JSON (not valid JSON: {error}).") from None
    if not isinstance(message, dict):
        raise SocketError("malformed", "The message must be a JSON object with a type.")
    return message


class GroupConsumer(AsyncJsonWebsocketConsumer):
    """A socket for signed-in users that ``admit`` lets into one channel group.

    Subclasses give ``admit`` (the group's name, or a close code), optionally ``welcome`` (the
    first message: the state the client starts from), ``relayed`` (group event types sent on to
    the client unchanged) and ``read_only_detail`` (set: the client may send nothing, and is told
    so with that detail).

    After Redis may have lost events for the socket (``realtime.resync`` from the layer) the
    client gets its state again: the welcome with ``"resync": true``, or ``{"type": "resync"}``
    from a socket without a welcome, on which clients reload what they show.
    """

    read_only_detail: str | None = None
    relayed: frozenset[str] = frozenset()
    group: str | None = None
    accepted = False

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        admission = await self.admit(user)
        if isinstance(admission, int):
            await self.close(code=admission)
            return
        # The layer has retried a Redis error a few times before it raises one (layers.py).
        await self.channel_layer.group_add(admission, self.channel_name)
        self.group = admission
        await self.accept()
        first = await self.welcome(user)
        if first is not None:
            await self.send_json(first)

    async def accept(self, subprotocol=None, headers=None):
        await super().accept(subprotocol, headers)
        self.accepted = True

    async def admit(self, user) -> str | int:
        """The group the user joins, or the close code refusing them."""
        raise NotImplementedError

    async def welcome(self, user) -> dict | None:
        """The first message, sent once the user is in the group (None: nothing)."""
        return None

    async def disconnect(self, code):
        if self.group is not None:
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except TRANSIENT_ERRORS:  # the stale membership expires with the group
                logger.info("Could not leave %s: Redis unreachable", self.group, exc_info=True)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.read_only_detail is None:
            await super().receive(text_data, bytes_data, **kwargs)
            return
        # Not decoded at all: a read-only socket has no use for what the client says, valid JSON or not.
        await self.send_json({"type": "error", "code": "read_only", "detail": self.read_only_detail})

    async def dispatch(self, message):
        try:
            # Relayed group events go to the client as they are, without a handler method per type.
            if message["type"] in self.relayed:
                await self.send_json(message)
                return
            await super().dispatch(message)
        except TRANSIENT_ERRORS as error:
            await self._redis_failed(message["type"], error)

    async def _redis_failed(self, kind: str, error: BaseException) -> None:
        """A handler met Redis unreachable or slow: the socket stays open if it is."""
        logger.warning("%s: Redis failed while handling %s (%s: %s)", type(self).__name__, kind,
                       type(error).__name__, error)
        if kind == "websocket.connect":
            # Accepted first, so that the client gets the code (a refused handshake reads as 1006).
            if not self.accepted:
                await self.accept()
            await self.close(code=CLOSE_UNAVAILABLE)
        elif kind == "websocket.disconnect":
            raise StopConsumer()
        elif kind == "websocket.receive":
            await self.send_json({"type": "error", "code": "unavailable",
                                  "detail": "The server could not reach its message store just now; try again."})
        # A group event's handler: skipped; the client resyncs once Redis is back.

    async def realtime_resync(self, event):
        first = await self.welcome(self.scope["user"])
        await self.send_json({**first, "resync": True} if first is not None else {"type": "resync"})
