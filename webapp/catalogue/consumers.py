"""Everything happening to a film, live: ``ws/films/<film_id>/``, channel group ``film.<id>``.

Members of the film (any role) hear ``job.progress`` / ``job.finished`` (the job's state, as on
``ws/jobs/<id>/``), ``shot.status`` and ``version.created``. Anonymous users are closed with 4401,
non-members (and films that do not exist) with 4404. The socket is read-only.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.catalogue.access import Action, can, film_role
from webapp.jobs.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from webapp.jobs.events import film_group_name


class FilmConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        film_id = int(self.scope["url_route"]["kwargs"]["film_id"])
        if not await self._may_view(user, film_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = film_group_name(film_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "film.subscribed", "film": film_id})

    @database_sync_to_async
    def _may_view(self, user, film_id: int) -> bool:
        # A film the user is not a member of is as absent as one that does not exist.
        if film_role(user=user, film_id=film_id) is None and not user.is_staff:
            return False
        from webapp.catalogue.models import Film

        return Film.objects.filter(pk=film_id).exists() and can(user=user, film_id=film_id, action=Action.VIEW)

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        await self.send_json({"type": "error", "code": "read_only",
                              "detail": "This socket is read-only: it only reports the film's events."})

    async def job_progress(self, event):
        await self.send_json(event)

    async def job_finished(self, event):
        await self.send_json(event)

    async def shot_status(self, event):
        await self.send_json(event)

    async def version_created(self, event):
        await self.send_json(event)
