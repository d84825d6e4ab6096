"""Live progress of one job over a websocket (``ws/jobs/<job_id>/``).

Members of the job's film (any role: VIEW) receive the job's current state on connect, then a
``job.progress`` / ``job.finished`` message each time the worker reports. The socket is
read-only: anything the client sends is answered with an error message.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.catalogue.access import Action, can, film_role
from webapp.jobs.models import RestorationJob
from webapp.jobs.events import job_group_name, job_state

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


class JobConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        job_id = int(self.scope["url_route"]["kwargs"]["job_id"])
        verdict, state = await self._job_state_for(user, job_id)
        if verdict is not None:
            await self.close(code=verdict)
            return
        self.group = job_group_name(job_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "job.state", **state})

    @database_sync_to_async
    def _job_state_for(self, user, job_id: int) -> tuple[int | None, dict | None]:
        job = RestorationJob.objects.filter(pk=job_id).first()
        # A job of a film the user is not a member of is as absent as a job that does not exist.
        if job is None or (film_role(user=user, film_id=job.film_id) is None and not user.is_staff):
            return CLOSE_NOT_FOUND, None
        if not can(user=user, film_id=job.film_id, action=Action.VIEW):
            return CLOSE_FORBIDDEN, None
        return None, job_state(job)

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Not decoded at all: a read-only socket has no use for what the client says, valid JSON or not.
        await self.send_json({"type": "error", "code": "read_only",
                              "detail": "This socket is read-only: it only reports progress."})

    async def job_progress(self, event):
        await self.send_json(event)

    async def job_finished(self, event):
        await self.send_json(event)
