"""Everything happening to a film, live: ``ws/films/<film_id>/``, channel group ``film.<id>``.

Members of the film (any role) hear ``job.progress`` / ``job.finished`` (the job's state, as on
``ws/jobs/<id>/``), ``shot.status`` and ``version.created``. Anonymous users are closed with 4401,
non-members (and films that do not exist) with 4404. The socket is read-only.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.jobs.events import film_group_name
from webapp.realtime import GroupConsumer, film_close_code


class FilmConsumer(GroupConsumer):
    read_only_detail = "This socket is read-only: it only reports the film's events."
    relayed = frozenset({"job.progress", "job.finished", "shot.status", "version.created"})
    film_id: int | None = None

    async def admit(self, user) -> str | int:
        self.film_id = int(self.scope["url_route"]["kwargs"]["film_id"])
        refusal = await database_sync_to_async(film_close_code)(user, self.film_id)
        return film_group_name(self.film_id) if refusal is None else refusal

    async def welcome(self, user) -> dict:
        return {"type": "film.subscribed", "film": self.film_id}
