"""What every websocket of the app shares: close codes, client-message errors, limits and parsing,
and ``GroupConsumer``, the base of every socket of the app.

Close codes: 4401 anonymous (or logged out since the socket opened), 4403 refused (the user's role
does not allow it, or a guest's invitation ended), 4404 not visible (missing, or of a film the user
is not a member of: the same answer), 4410 ended (a live session): final, a client does not retry
them. 4429 flooding (the client kept sending faster than the socket's rate) and 4503 unavailable
(the server could not reach Redis to join the socket's group): the client retries (with backoff)
like after any other drop. A refusal is always sent on an accepted socket (accept, then close with
the code): a refused handshake reads as 1006 in a browser, which clients retry forever.

Client messages are JSON objects of at most the socket's size and ``MAX_JSON_DEPTH`` deep, at most
the socket's ``rate``; a bad one is answered with ``{"type": "error", "code", "detail", ...}`` from a
``SocketError`` (``rate_limited``, ``too_large``, ``too_deep``, ``malformed``, ...), never by ending
the socket with 1011.

Access is checked on connect and again while the socket lives: on its client's messages and on
the group events it relays, from a check cached for at most ``access_recheck_ns`` (subclasses
check afresh before a write), at once when told that it changed (``access.py``: a membership
changed, an invitation was revoked, a session ended, the user logged out), and after Redis may have
lost such a message (``realtime.resync``); each time, the login that opened the socket must still
be signed in (its session not expired nor ended). Lost access closes the socket with its final code.

Redis going away never closes a ``GroupConsumer``'s socket once it is open: the layer's receive
waits for it (``layers.py``), a client message whose handler meets a Redis error is answered
``{"type": "error", "code": "unavailable"}``, a group event's handler that does is logged and
skipped, and after Redis may have lost events the socket sends its client its state again.
"""

from __future__ import annotations

import json
import logging
import time
from importlib import import_module

from channels.auth import get_user
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from webapp.json_depth import json_depth_exceeds
from webapp.realtime.access import login_tag
from webapp.realtime.groups import user_sockets_group
from webapp.realtime.layers import RESYNC_EVENT, TRANSIENT_ERRORS
from webapp.realtime.rate import NANOS_PER_SECOND, MessageRate, TokenBucket, Verdict

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_ENDED = 4410
CLOSE_TOO_MANY = 4429
CLOSE_UNAVAILABLE = 4503

# Group events that check access themselves (afresh): any other is sent on only while it holds.
ACCESS_EVENTS = frozenset({"access.changed", "access.logged_out", RESYNC_EVENT})

# Deeper than any message of the app (a comment's drawing is 6 levels), far below what would
# exhaust Python's recursion while parsing or serialising it (about 1,000).
MAX_JSON_DEPTH = 32


class SocketError(Exception):
    """A refused client message: ``code`` is machine-readable, ``detail`` names the problem,
    ``fields`` (optional) maps field names to their errors as the API does, ``request`` (optional)
    is the id the client gave the refused message."""

    def __init__(self, code: str, detail: str, fields: dict | None = None, *, request=None):
        super().__init__(detail)
        self.code, self.detail, self.fields, self.request = code, detail, fields, request


def json_object_parse(text: str | None, *, max_bytes: int) -> dict:
    """One client message as a dict, or SocketError ``malformed`` / ``too_large`` / ``too_deep``:
    the one parser of every socket's messages."""
    if text is None:
        raise SocketError("malformed", "Send JSON text messages; binary messages are not accepted.")
    # Bytes, not characters: what the limit protects is the wire and the parser.
    size = len(text.encode("utf-8", errors="replace"))
    if size > max_bytes:
        raise SocketError("too_large", f"The message has {size} bytes; at most {max_bytes}.")
    # Counted before parsing: the parser itself recurses once per level.
    if json_depth_exceeds(text, MAX_JSON_DEPTH):
        raise SocketError("too_deep", f"The message nests objects and lists more than {MAX_JSON_DEPTH} deep.")
    try:
        message = json.loads(text)
    except ValueError as error:
        raise SocketError("malformed", f"The message is not JSON (not valid JSON: {error}).") from None
    if not isinstance(message, dict):
        raise SocketError("malformed", "The message must be a JSON object with a type.")
    return message


class GroupConsumer(AsyncJsonWebsocketConsumer):
    """A socket for signed-in users that ``admit`` lets in, usually into one channel group.

    Subclasses give ``admit`` (the group's name, None to let in without a group, or a close code),
    ``recheck_access`` (the close code once the user may no longer use the socket, or None),
    optionally ``access_groups`` (more groups whose ``access.changed`` concerns the socket),
    ``welcome`` (the first message: the state the client starts from), ``relayed`` (group event
    types sent on to the client unchanged), ``read_only_detail`` (set: the client may send nothing,
    and is told so with that detail), ``receive_message`` (a client message that passed the rate
    and access checks), ``rate`` and ``stop_work`` (cancel what the socket does on its own).

    After Redis may have lost events for the socket (``realtime.resync`` from the layer) the
    client gets its state again: the welcome with ``"resync": true``, or ``{"type": "resync"}``
    from a socket without a welcome, on which clients reload what they show.
    """

    read_only_detail: str | None = None
    relayed: frozenset[str] = frozenset()
    # Whether error replies carry the refused message's ``request`` id (null when unknown).
    errors_name_request = False
    rate = MessageRate(per_second=10, burst=20, flood=100)
    # The longest a cached "may still use the socket" stands before a message or event re-reads it.
    access_recheck_ns = 30 * NANOS_PER_SECOND
    # Integer nanoseconds for the rate and the access cache (tests put a clock of their own here).
    clock = staticmethod(time.monotonic_ns)
    group: str | None = None
    accepted = False
    closing = False
    login: str | None = None

    async def connect(self):
        self.bucket = TokenBucket(self.rate, now=self.clock())
        self.joined: list[str] = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        admission = await self.admit(user)
        if isinstance(admission, int):
            await self.refuse(admission)
            return
        session = self.scope.get("session")
        self.login = login_tag(getattr(session, "session_key", None))
        # The layer has retried a Redis error a few times before it raises one (layers.py).
        for group in [*([admission] if admission else []), user_sockets_group(user.pk), *self.access_groups()]:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        self.group = admission
        self.access_checked_at = self.clock()
        await self.accept()
        first = await self.welcome(user)
        if first is not None:
            await self.send_json(first)

    async def accept(self, subprotocol=None, headers=None):
        await super().accept(subprotocol, headers)
        self.accepted = True

    async def refuse(self, code: int) -> None:
        """Close the socket with ``code``, accepted first so that the client reads the code."""
        if self.closing:
            return
        self.closing = True
        await self.stop_work()
        if not self.accepted:
            await self.accept()
        await self.close(code=code)

    async def admit(self, user) -> str | int | None:
        """The group the user joins (None: none), or the close code refusing them."""
        raise NotImplementedError

    async def recheck_access(self, user) -> int | None:
        """The close code once ``user`` may no longer use this socket, or None (read afresh)."""
        return None

    def access_groups(self) -> list[str]:
        """Groups besides the user's whose ``access.changed`` concerns this socket (after ``admit``)."""
        return []

    async def welcome(self, user) -> dict | None:
        """The first message, sent once the user is in the group (None: nothing)."""
        return None

    async def stop_work(self) -> None:
        """Stop what the socket does on its own (streaming), as it closes."""

    async def disconnect(self, code):
        await self.stop_work()
        for group in getattr(self, "joined", []):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except TRANSIENT_ERRORS:  # the stale membership expires with the group
                logger.info("Could not leave %s: Redis unreachable", group, exc_info=True)

    # Access ----------------------------------------------------------------------------------------

    async def access_lapsed(self, *, fresh: bool = False) -> bool:
        """Whether the user has lost access to the socket (it is then closing with its code): the
        cached answer while younger than ``access_recheck_ns``, read again when older or ``fresh``."""
        if self.closing:
            return True
        now = self.clock()
        if not fresh and now - self.access_checked_at < self.access_recheck_ns:
            return False
        user = self.scope["user"]
        refusal = CLOSE_UNAUTHENTICATED if await self.login_lapsed(user) else await self.recheck_access(user)
        self.access_checked_at = now
        if refusal is None:
            return False
        await self.refuse(refusal)
        return True

    async def login_lapsed(self, user) -> bool:
        """Whether the login that opened the socket has ended since: its session expired (an idle
        timeout), was deleted, or no longer names this user (logged out, password changed). Read
        afresh from the session store, as the next HTTP request of that login would."""
        key = getattr(self.scope.get("session"), "session_key", None)
        if not key:
            return False  # opened without a session (a test's scope): nothing to follow
        store = import_module(settings.SESSION_ENGINE).SessionStore(key)
        return (await get_user({"session": store})).pk != user.pk

    async def access_changed(self, event):
        await self.access_lapsed(fresh=True)

    async def access_logged_out(self, event):
        # Only this login's sockets: the user may still be signed in in another browser.
        if event.get("login") in (None, self.login):
            await self.refuse(CLOSE_UNAUTHENTICATED)

    # Client messages -------------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.closing:
            return
        verdict = self.bucket.take(now=self.clock())
        if verdict is Verdict.FLOOD:
            logger.info("%s: closing a flooding socket of user %s", type(self).__name__, self.scope["user"].pk)
            await self.refuse(CLOSE_TOO_MANY)
            return
        if verdict is Verdict.REFUSED:
            await self.send_error(SocketError(
                "rate_limited", f"Too many messages: at most {self.rate.per_second} a second on this socket "
                                f"({self.rate.burst} at once). This one was dropped."))
            return
        if self.read_only_detail is not None:
            # Not decoded at all: a read-only socket has no use for what the client says, valid JSON or not.
            await self.send_error(SocketError("read_only", self.read_only_detail))
            return
        if await self.access_lapsed():
            return
        try:
            await self.receive_message(text_data, bytes_data)
        except SocketError as error:
            await self.send_error(error)
        except TRANSIENT_ERRORS:
            raise  # dispatch answers "unavailable"
        except Exception:  # noqa: BLE001 - a client's message never ends the socket with 1011
            logger.exception("%s: a client message failed", type(self).__name__)
            await self.send_error(SocketError("server_error", "The server could not handle this message."))

    async def receive_message(self, text_data: str | None, bytes_data: bytes | None) -> None:
        """One client message that passed the rate and access checks; SocketError refuses it."""
        raise SocketError("unknown_type", "This socket accepts no messages.")

    def error_reply(self, error: SocketError) -> dict:
        reply = {"type": "error", "code": error.code, "detail": error.detail}
        if self.errors_name_request:
            reply["request"] = error.request
        if error.fields:
            reply["fields"] = error.fields
        return reply

    async def send_error(self, error: SocketError) -> None:
        await self.send_json(self.error_reply(error))

    # Group events ----------------------------------------------------------------------------------

    async def dispatch(self, message):
        try:
            kind = message["type"]
            if not kind.startswith("websocket.") and kind not in ACCESS_EVENTS:
                # A group event: nothing more once closing, nor for a user who lost access.
                if await self.access_lapsed():
                    return
                # Relayed group events go to the client as they are, without a handler method per type.
                if kind in self.relayed:
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
            await self.refuse(CLOSE_UNAVAILABLE)
        elif kind == "websocket.disconnect":
            raise StopConsumer()
        elif kind == "websocket.receive":
            await self.send_error(SocketError(
                "unavailable", "The server could not reach its message store just now; try again."))
        # A group event's handler: skipped; the client resyncs once Redis is back.

    async def realtime_resync(self, event):
        # An access.changed may have been lost with the other events.
        if await self.access_lapsed(fresh=True):
            return
        first = await self.welcome(self.scope["user"])
        await self.send_json({**first, "resync": True} if first is not None else {"type": "resync"})
