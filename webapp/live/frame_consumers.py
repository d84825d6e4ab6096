"""Frames of a session's shots (``ws/sessions/<session_id>/frames/<shot_id>/``).

The viewer's frame socket, admitting the session's participants (guests included) for the
shots of its playlist only: a guest is no member of the film, so ``ws/shots/<id>/frames/``
refuses them. Everything else (messages, streaming, errors) is the review app's FrameConsumer.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.live.selectors import session_shot_for_viewer
from webapp.review.frame_consumer import FrameConsumer
from webapp.review.frames import FrameSource, frame_sources


class SessionFrameConsumer(FrameConsumer):
    @database_sync_to_async
    def _sources_for(self, user, shot_id: int) -> list[FrameSource] | None:
        session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        shot = session_shot_for_viewer(user=user, session_id=session_id, shot_id=shot_id)
        return None if shot is None else frame_sources(shot=shot)
