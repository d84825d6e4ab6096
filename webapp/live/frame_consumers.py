"""Frames of a session's shots (``ws/sessions/<session_id>/frames/<shot_id>/``).

The viewer's frame socket, admitting the session's participants (guests included) for the
shots of its playlist only: a guest is no member of the film, so ``ws/shots/<id>/frames/``
refuses them. Everything else (messages, streaming, errors) is the review app's FrameConsumer.
Closed as the session's shot socket is (``session_shot_refusal_code``): 4403 once a guest's
invitation is revoked or expires, 4410 once the session ends, 4404 for a member removed from the film.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.live.consumers import session_shot_refusal_code
from webapp.live.selectors import session_shot_for_viewer
from webapp.realtime import CLOSE_NOT_FOUND, session_sockets_group
from webapp.review.frame_consumer import FrameConsumer
from webapp.review.frames import FrameSource, frame_sources


class SessionFrameConsumer(FrameConsumer):
    def _session_id(self) -> int:
        return int(self.scope["url_route"]["kwargs"]["session_id"])

    def access_groups(self) -> list[str]:
        return [session_sockets_group(self._session_id())]

    @database_sync_to_async
    def _sources_for(self, user, shot_id: int) -> list[FrameSource] | None:
        shot = session_shot_for_viewer(user=user, session_id=self._session_id(), shot_id=shot_id)
        return None if shot is None else frame_sources(shot=shot)

    async def refusal_code(self, user) -> int:
        refusal = await database_sync_to_async(session_shot_refusal_code)(
            user=user, session_id=self._session_id(), shot_id=self._shot_id())
        return CLOSE_NOT_FOUND if refusal is None else refusal
