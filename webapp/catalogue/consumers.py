"""Everything happening to a film, live: ``ws/films/<film_id>/``, channel group ``film.<id>``.

Members of the film (any role) hear ``job.progress`` / ``job.finished`` (the job's state, as on
``ws/jobs/<id>/``), ``shot.status``, ``version.created``, and colour's ``grade.created`` and
``grade.decided``. Anonymous users are closed with 4401,
non-members (and films that do not exist) with 4404. The socket is read-only. A member removed
from the film while listening is closed with 4404 (``GroupConsumer`` checks again).

``film_close_code`` is the film-membership check every other socket of the app builds on.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from webapp.catalogue.access import Action, can, film_role
from webapp.catalogue.models import Film
from webapp.realtime import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, GroupConsumer, film_group


def film_close_code(user, film_id: int) -> int | None:
    """The close code refusing ``user`` the film's events, or None when they may view it."""
    role = film_role(user=user, film_id=film_id)
    # A film the user is not a member of is as absent as one that does not exist (staff see
    # every film that exists; a member's film exists).
    if role is None and not (user.is_staff and Film.objects.filter(pk=film_id).exists()):
        return CLOSE_NOT_FOUND
    if not can(user=user, film_id=film_id, action=Action.VIEW, role=role):
        return CLOSE_FORBIDDEN
    return None


class FilmConsumer(GroupConsumer):
    read_only_detail = "This socket is read-only: it only reports the film's events."
    # grade.*: the colour area's events (webapp/colour/events.py), sent to the film's group.
    relayed = frozenset({"job.progress", "job.finished", "shot.status", "version.created", "grade.created",
                         "grade.decided"})
    film_id: int | None = None

    async def admit(self, user) -> str | int:
        self.film_id = int(self.scope["url_route"]["kwargs"]["film_id"])
        refusal = await database_sync_to_async(film_close_code)(user, self.film_id)
        return film_group(self.film_id) if refusal is None else refusal

    async def recheck_access(self, user) -> int | None:
        return await database_sync_to_async(film_close_code)(user, self.film_id)

    async def welcome(self, user) -> dict:
        return {"type": "film.subscribed", "film": self.film_id}
