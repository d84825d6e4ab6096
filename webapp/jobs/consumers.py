"""Live progress of one job over a websocket (``ws/jobs/<job_id>/``).

Members of the job's film (any role: VIEW) receive the job's current state on connect, then a
``job.progress`` / ``job.finished`` message each time the worker reports. The socket is
read-only: anything the client sends is answered with an error message.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.catalogue.consumers import film_close_code
from webapp.jobs.events import job_state
from webapp.jobs.models import RestorationJob
from webapp.realtime import CLOSE_NOT_FOUND, GroupConsumer, job_group


class JobConsumer(GroupConsumer):
    read_only_detail = "This socket is read-only: it only reports progress."
    relayed = frozenset({"job.progress", "job.finished"})
    state: dict | None = None
    film_id: int | None = None

    async def admit(self, user) -> str | int:
        job_id = int(self.scope["url_route"]["kwargs"]["job_id"])
        refusal, self.state = await self._job_state_for(user, job_id)
        return job_group(job_id) if refusal is None else refusal

    async def recheck_access(self, user) -> int | None:
        return await database_sync_to_async(film_close_code)(user, self.film_id)

    async def welcome(self, user) -> dict:
        return {"type": "job.state", **self.state}

    @database_sync_to_async
    def _job_state_for(self, user, job_id: int) -> tuple[int | None, dict | None]:
        job = RestorationJob.objects.filter(pk=job_id).first()
        if job is None:
            return CLOSE_NOT_FOUND, None
        self.film_id = job.film_id
        refusal = film_close_code(user, job.film_id)
        return refusal, job_state(job) if refusal is None else None
