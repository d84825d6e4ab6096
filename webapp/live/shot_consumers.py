"""Comments and decisions of a session's shot (``ws/sessions/<session_id>/shots/<shot_id>/``), group ``shot.<id>``.

The review app's ShotConsumer (the same ``comment.create`` message, serializer and service, and
the same ``comment.created`` / ``comment.updated`` / ``decision.recorded`` events), admitting the
session's participants for the shots of its playlist: a guest is no member of the film, so
``ws/shots/<id>/`` refuses them. The first message, ``playlist.versions``, gives the status of the
playlist's versions of this shot, read once subscribed, so the page shows where each decision
stands even after a reconnect or a decision made while another shot was on screen.

What a guest may comment on is ``access.can_comment``'s rule (their playlist's versions); they
hear only of comments and decisions on those versions, and of a decision only what moved the
version (``guest_decision_event``), and the socket closes (4403) once their invitation ends, and
every participant's closes (4410) once the session ends.
Deciding is the REST API's ``POST /api/decisions/`` (members with a deciding role), as on the shot
page. Close codes as the session socket's: 4403 refused guest, 4404 not visible, 4410 ended.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.catalogue.access import guest_versions
from webapp.live import selectors
from webapp.live.consumers import session_shot_admission, session_shot_refusal_code
from webapp.realtime import CLOSE_FORBIDDEN, session_sockets_group, shot_group
from webapp.review.consumers import ShotConsumer

# Of a decision, a guest hears which verdict of which role moved the version and to what status:
# not who decided nor their note (the decision record is the members'; /api/decisions/ answers a
# guest 404), nor the shot's status or approved version (which name versions outside the playlist).
GUEST_DECISION_FIELDS = ("version", "verdict", "role", "created_at")


def guest_decision_event(event: dict) -> dict:
    """The ``decision.recorded`` event as a guest receives it."""
    decision = event["decision"]
    return {"type": event["type"], "decision": {key: decision[key] for key in GUEST_DECISION_FIELDS},
            "version_status": event["version_status"]}


class SessionShotConsumer(ShotConsumer):
    relayed = frozenset({"comment.created", "comment.updated", "decision.recorded"})
    guest = False
    session_id: int | None = None

    async def admit(self, user) -> str | int:
        kwargs = self.scope["url_route"]["kwargs"]
        refusal = await self._load(user, int(kwargs["session_id"]), int(kwargs["shot_id"]))
        return shot_group(self.shot_id) if refusal is None else refusal

    @database_sync_to_async
    def _load(self, user, session_id: int, shot_id: int) -> int | None:
        access = session_shot_admission(user=user, session_id=session_id, shot_id=shot_id)
        if isinstance(access, int):
            return access
        self.session_id, self.shot_id, self.film_id = session_id, shot_id, access.session.film_id
        self.guest = access.capacity == selectors.Capacity.GUEST
        return None

    def access_groups(self) -> list[str]:
        return [session_sockets_group(self.session_id)]

    async def recheck_access(self, user) -> int | None:
        return await database_sync_to_async(session_shot_refusal_code)(
            user=user, session_id=self.session_id, shot_id=self.shot_id)

    async def welcome(self, user) -> dict:
        versions = await database_sync_to_async(selectors.playlist_versions_of_shot)(
            session_id=self.session_id, shot_id=self.shot_id)
        return {"type": "playlist.versions", "shot": self.shot_id, "versions": versions}

    async def dispatch(self, message):
        kind = message["type"]
        if self.guest and kind in self.relayed:
            subject = message["decision"] if kind == "decision.recorded" else message["comment"]
            shown = await self._guest_sees(subject["version"])
            if shown is None:
                await self.refuse(CLOSE_FORBIDDEN)
                return
            if not shown:
                return
            if kind == "decision.recorded":
                message = guest_decision_event(message)
        await super().dispatch(message)

    @database_sync_to_async
    def _guest_sees(self, version_id: int) -> bool | None:
        """Whether the guest may hear of a comment or decision on this version; None once their
        invitation has ended (they then hear nothing of this shot). One query per event: they are rare."""
        versions = set(guest_versions(user=self.scope["user"]).filter(shot_id=self.shot_id)
                       .values_list("pk", flat=True))
        return (version_id in versions) if versions else None
