"""The live review session socket (``ws/sessions/<session_id>/``), channel group ``review-session.<id>``.

On connect a participant (a member of the film, or a guest with a valid invitation) receives
everything at once in ``session.state``: the playlist, the shared state, who is here and who
they are. Then ``state`` (with a ``version`` that only grows), ``presence`` and
``control.requested`` messages as things happen. The shared state lives in the state store
(Redis in production), never in this process, so participants on different servers see one
session. See ``messages.py`` for what clients may send.

Close codes: 4401 anonymous (or logged out), 4403 a guest whose invitation expired or was
revoked, 4404 not visible (no such session, or a film the user is not a member of: also a member
removed from the film while in the session), 4410 the session has ended. Access is read again
for every message from a participant whose access may have changed (``GroupConsumer``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from channels.db import database_sync_to_async
from django.utils import timezone

from webapp.live import selectors, services
from webapp.live.messages import Message, initial_state, message_parse, state_changes_resolve
from webapp.live.models import PlaylistItem
from webapp.live.state import NotHost, StateMissing, StateStore, VersionConflict, get_state_store, now_ms
from webapp.realtime import (
    CLOSE_ENDED,
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    GroupConsumer,
    MessageRate,
    SocketError,
    session_group,
)

# Concurrent writers (a host with two tabs) can make an optimistic update fail; it is retried.
UPDATE_ATTEMPTS = 5


def session_refusal_code(*, user, session_id: int) -> int:
    """The close code for a user the session does not admit: 4404 when it does not exist for them,
    4410 when their guest link's session has ended, 4403 when their invitation expired or was revoked."""
    refusal = selectors.guest_refusal_for(user=user, session_id=session_id)
    return {None: CLOSE_NOT_FOUND, "ended": CLOSE_ENDED}.get(refusal, CLOSE_FORBIDDEN)


def session_shot_admission(*, user, session_id: int, shot_id: int) -> selectors.SessionAccess | int:
    """How the user takes part in the session, for a shot of its playlist (its comments, its
    frames); or the close code refusing them."""
    access = selectors.session_access(user=user, session_id=session_id)
    if access is None:
        return session_refusal_code(user=user, session_id=session_id)
    if access.session.ended_at is not None:
        return CLOSE_ENDED
    if not PlaylistItem.objects.filter(session=access.session, version__shot_id=shot_id).exists():
        return CLOSE_NOT_FOUND  # another shot of the film, or of another film: as if it did not exist
    return access


def session_shot_refusal_code(*, user, session_id: int, shot_id: int) -> int | None:
    """``session_shot_admission``'s close code, or None when it admits the user."""
    admission = session_shot_admission(user=user, session_id=session_id, shot_id=shot_id)
    return admission if isinstance(admission, int) else None


def person_of(user, *, guest: bool) -> dict:
    name = user.get_full_name() or user.first_name or user.get_username()
    initials = "".join(part[0] for part in name.split()[:2]).upper() or name[:1].upper()
    return {"user": user.pk, "name": name, "initials": initials, "guest": guest}


class SessionConsumer(GroupConsumer):
    channel_layer_alias = services.LIVE_CHANNEL_LAYER
    # Set through ``as_asgi(store=...)`` to give a server its own store client (tests, bench).
    store: StateStore | None = None
    # The host's viewer sends its state at most every 60 ms, plus heartbeats and control requests.
    rate = MessageRate(per_second=30, burst=60, flood=300)
    # Set once the socket is closed (by us, or by the client): group events still on their way
    # (presence changes as the others leave an ended session) have no one left to reach.
    closed = False

    async def close(self, code=None, reason=None):
        self.closed = True
        await super().close(code=code, reason=reason)

    async def websocket_disconnect(self, message):
        self.closed = True
        await super().websocket_disconnect(message)

    async def send(self, text_data=None, bytes_data=None, close=False):
        # Sending on a closed connection raises in the server ("Attempt to send on a closed protocol").
        if self.closed:
            return
        await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def send_json(self, content, close=False):
        if self.closed:  # (the JSON consumer's send_json does not go through send above)
            return
        await super().send_json(content, close=close)

    async def admit(self, user) -> str | int:
        self.store = self.store or get_state_store()
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        refusal = await self._load(user)
        return session_group(self.session_id) if refusal is None else refusal

    async def welcome(self, user) -> dict:
        # Read once subscribed, so no change falls between the two; clients keep the highest
        # ``version`` they have seen.
        state = await self.store.initialise(self.key, initial_state(host_id=self.host_id, playlist=self.playlist))
        await self.store.presence_join(self.key, self.channel_name, self.person)
        participants = await self.store.participants(self.key)
        # Events are handled one at a time: this participant's own copy arrives after the welcome.
        await self.channel_layer.group_send(self.group, {"type": "presence.changed", "participants": participants})
        return {
            "type": "session.state", "session": self.session_info, "playlist": self.playlist, "state": state,
            "participants": participants, "you": self.person, "server_time": now_ms(),
        }

    async def recheck_access(self, user) -> int | None:
        return await database_sync_to_async(self._refusal)(user)

    def _refusal(self, user) -> int | None:
        access = selectors.session_access(user=user, session_id=self.session_id)
        if access is None:
            return session_refusal_code(user=user, session_id=self.session_id)
        return CLOSE_ENDED if access.session.ended_at is not None else None

    @database_sync_to_async
    def _load(self, user) -> int | None:
        access = selectors.session_access(user=user, session_id=self.session_id)
        if access is None:
            return session_refusal_code(user=user, session_id=self.session_id)
        session = access.session
        self.playlist = selectors.playlist_items(session=session)
        # A playlist whose versions were all deleted has nothing left to show: as good as ended.
        if session.ended_at is not None or not self.playlist:
            return CLOSE_ENDED
        self.guest = access.capacity == selectors.Capacity.GUEST
        self.invite_expires_at = user.guest_invite.expires_at if self.guest else None
        self.person = person_of(user, guest=self.guest)
        self.key = str(session.state_key)
        self.host_id = session.host_id
        self.session_info = {"id": session.pk, "title": session.title, "film": session.film_id,
                             "film_title": session.film.title, "may_manage": access.may_manage,
                             "frame_number_start": session.film.frame_number_start}
        return None

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.group is None:
            return
        await self.store.presence_leave(self.key, self.channel_name)
        await self._announce_presence()

    async def _announce_presence(self) -> None:
        participants = await self.store.participants(self.key)
        await self.channel_layer.group_send(self.group, {"type": "presence.changed", "participants": participants})

    # Client messages ---------------------------------------------------------------------------

    async def receive_message(self, text_data, bytes_data):
        await self._handle(message_parse(text_data, bytes_data))

    async def _handle(self, message: Message) -> None:
        user_id = self.person["user"]
        if message.type == "heartbeat":
            if self.invite_expires_at is not None and self.invite_expires_at <= timezone.now():
                await self.refuse(CLOSE_FORBIDDEN)
                return
            if not await self.store.presence_beat(self.key, self.channel_name):
                await self.store.presence_join(self.key, self.channel_name, self.person)  # dropped as silent
                await self._announce_presence()
        elif message.type == "state":
            state = await self._update(lambda state: state_changes_resolve(
                message.body["changes"], state=state, playlist=self.playlist), host=user_id)
            await self._broadcast_state(state)
        elif message.type == "control.request":
            await self.channel_layer.group_send(self.group, {"type": "control.requested", "user": self.person})
        elif message.type == "control.hand_over":
            if await self.access_lapsed(fresh=True):  # it writes the session's host to the database
                return
            target = message.body["to"]
            present = {person["user"] for person in await self.store.participants(self.key)}
            if target not in present:
                raise SocketError("not_present", f"User {target} is not in this session.")
            state = await self._update(lambda state: {"host": target}, host=user_id)
            await database_sync_to_async(services.session_host_record)(session_id=self.session_id, host_id=target)
            await self._broadcast_state(state)
        elif message.type == "control.take":
            if self.guest:
                raise SocketError("not_allowed", "Guests cannot take control; ask the host to hand it over.")
            if await self.access_lapsed(fresh=True):  # it writes the session's host to the database
                return

            present = {person["user"] for person in await self.store.participants(self.key)}

            def take(state: dict) -> dict:
                if state["host"] in present and state["host"] != user_id:
                    raise SocketError("host_present", "The host is here: ask them to hand over control.")
                return {"host": user_id}

            state = await self._update(take)
            await database_sync_to_async(services.session_host_record)(session_id=self.session_id, host_id=user_id)
            await self._broadcast_state(state)

    async def _update(self, changes_for: Callable[[dict], dict], *, host: int | None = None) -> dict:
        """Read, validate against what was read (``changes_for`` raises SocketError or gives the
        fields to write), write only if nothing moved in between."""
        for _ in range(UPDATE_ATTEMPTS):
            state = await self.store.read(self.key)
            if state is None:
                raise SocketError("gone", "The session's live state is gone; reload the page.")
            if host is not None and state["host"] != host:
                raise SocketError("not_host", "Only the host controls playback; ask for control.")
            changes = changes_for(state)
            try:
                return await self.store.update(self.key, changes, host=host, expect_version=state["version"])
            except VersionConflict:
                continue
            except NotHost:
                raise SocketError("not_host", "Only the host controls playback; ask for control.") from None
            except StateMissing:
                raise SocketError("gone", "The session's live state is gone; reload the page.") from None
        raise SocketError("busy", "The state kept changing; try again.")

    async def _broadcast_state(self, state: dict) -> None:
        # Serialised once here rather than by each of the (many) receiving consumers.
        text = json.dumps({"type": "state", "state": state, "by": self.person["user"], "server_time": now_ms()})
        await self.channel_layer.group_send(self.group, {"type": "state.changed", "text": text})

    # Group events ------------------------------------------------------------------------------

    async def state_changed(self, event):
        await self.send(text_data=event["text"])

    async def presence_changed(self, event):
        await self.send_json({"type": "presence", "participants": event["participants"]})

    async def control_requested(self, event):
        await self.send_json({"type": "control.requested", "user": event["user"]})

    async def session_ended(self, event):
        await self.send_json({"type": "session.ended"})
        await self.refuse(CLOSE_ENDED)
        # Every connected server gets here; deleting twice is harmless, and the TTL catches the rest.
        await self.store.delete(self.key)

    async def participant_removed(self, event):
        if event["user"] == self.person["user"]:
            await self.send_json({"type": "error", "code": "removed", "detail": "Your invitation was revoked."})
            await self.refuse(CLOSE_FORBIDDEN)
