"""Comments of a session's shot (``ws/sessions/<session_id>/shots/<shot_id>/``), group ``shot.<id>``.

The review app's ShotConsumer (the same ``comment.create`` message, serializer and service, and
the same ``comment.created`` / ``comment.updated`` events), admitting the session's participants
for the shots of its playlist: a guest is no member of the film, so ``ws/shots/<id>/`` refuses
them. What a guest may comment on is ``access.can_comment``'s rule (their playlist's versions);
they hear only of comments on those versions, and the socket closes (4403) once their invitation
ends. Close codes as the session socket's: 4403 refused guest, 4404 not visible, 4410 ended.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.catalogue.access import guest_versions
from webapp.live import selectors
from webapp.live.consumers import session_refusal_code
from webapp.live.models import PlaylistItem
from webapp.realtime import CLOSE_ENDED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND
from webapp.review.consumers import ShotConsumer
from webapp.review.events import shot_group_name


class SessionShotConsumer(ShotConsumer):
    relayed = frozenset({"comment.created", "comment.updated"})
    guest = False

    async def admit(self, user) -> str | int:
        kwargs = self.scope["url_route"]["kwargs"]
        refusal = await self._load(user, int(kwargs["session_id"]), int(kwargs["shot_id"]))
        return shot_group_name(self.shot_id) if refusal is None else refusal

    @database_sync_to_async
    def _load(self, user, session_id: int, shot_id: int) -> int | None:
        access = selectors.session_access(user=user, session_id=session_id)
        if access is None:
            return session_refusal_code(user=user, session_id=session_id)
        if access.session.ended_at is not None:
            return CLOSE_ENDED
        in_playlist = PlaylistItem.objects.filter(session=access.session, version__shot_id=shot_id).exists()
        if not in_playlist:  # another shot of the film, or of another film: as if it did not exist
            return CLOSE_NOT_FOUND
        self.shot_id, self.film_id = shot_id, access.session.film_id
        self.guest = access.capacity == selectors.Capacity.GUEST
        return None

    async def dispatch(self, message):
        if self.guest and message["type"] in self.relayed:
            shown = await self._guest_sees(message["comment"]["version"])
            if shown is None:
                await self.close(code=CLOSE_FORBIDDEN)
                return
            if not shown:
                return
        await super().dispatch(message)

    @database_sync_to_async
    def _guest_sees(self, version_id: int) -> bool | None:
        """Whether the guest may see a comment on this version; None once their invitation has
        ended (they then see nothing of this shot). One query per comment event: they are rare."""
        versions = set(guest_versions(user=self.scope["user"]).filter(shot_id=self.shot_id)
                       .values_list("pk", flat=True))
        return (version_id in versions) if versions else None
