"""The base of every film-scoped ViewSet (the catalogue's and those of the areas above it):
parsing, pagination, filtering and the role check.

Querysets come from selectors that start at ``access.visible_films(user)``, so a film the user
is not a member of (and everything in it) is a 404 on detail and absent from lists. Once the
object is visible, ``require`` asks access.py whether the user's role allows the action: 403 if not.
"""

from __future__ import annotations

from rest_framework import exceptions, viewsets
from rest_framework.filters import SearchFilter

from webapp.api.filters import StrictFilterBackend, StrictOrderingFilter
from webapp.api.pagination import StandardPagination
from webapp.catalogue.access import Action, can, film_role

ACTION_WORDS = {
    Action.VIEW: "viewing this film",
    Action.COMMENT: "commenting",
    Action.PUBLISH: "creating or publishing versions",
    Action.DECIDE: "deciding on versions",
    Action.GRADE: "editing colour grades",
    Action.MANAGE_MEMBERS: "managing members",
    Action.EDIT_FILM: "editing the film",
}


def require_film_action(*, user, film_id: int, action: Action) -> str | None:
    """The user's role on the film when it allows ``action``; otherwise 404 (not a member) or 403."""
    role = film_role(user=user, film_id=film_id)
    if role is None and not user.is_staff:
        raise exceptions.NotFound()
    if not can(user=user, film_id=film_id, action=action, role=role or ""):
        raise exceptions.PermissionDenied(f"Your role on this film ({role}) does not allow {ACTION_WORDS[action]}.")
    return role


class FilmScopedViewSet(viewsets.GenericViewSet):
    """``object_actions`` maps a ViewSet action (``update``, ``publish``...) to the access Action
    it needs on the object's film; it is checked when the object is fetched, before the body is
    validated. Creates name their film in the body, so they call ``require`` themselves."""

    pagination_class = StandardPagination
    filter_backends = [StrictFilterBackend, SearchFilter, StrictOrderingFilter]
    object_actions: dict[str, Action] = {}

    def film_id_of(self, obj) -> int:
        raise NotImplementedError

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        needed = self.object_actions.get(self.action)
        if needed is not None:
            self.require(film_id=self.film_id_of(obj), action=needed)

    def require(self, *, film_id: int, action: Action) -> str | None:
        return require_film_action(user=self.request.user, film_id=film_id, action=action)
