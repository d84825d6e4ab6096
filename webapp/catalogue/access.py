"""Who may do what on a film. One place for the rules; APIs, pages and consumers call it.

A user who is not a member of a film must not learn that the film (or anything in it)
exists: that is a 404, never a 403. A member whose role does not allow the action gets 403.
Staff users administer everything.
"""

from __future__ import annotations

from enum import Enum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from webapp.catalogue.models import Film, Membership, Role


class Action(str, Enum):
    VIEW = "view"  # see the film, its shots, versions, comments, decisions, jobs
    COMMENT = "comment"  # write comments and drawings
    PUBLISH = "publish"  # ingest, create and publish versions, run jobs
    DECIDE = "decide"  # approve / reject / request changes
    MANAGE_MEMBERS = "manage_members"
    EDIT_FILM = "edit_film"


ALLOWED_ROLES: dict[Action, frozenset[str]] = {
    Action.VIEW: frozenset(Role.values),
    Action.COMMENT: frozenset(Role.values),
    Action.PUBLISH: frozenset({Role.RESTORER, Role.ARCHIVIST}),
    Action.DECIDE: frozenset({Role.ARCHIVIST, Role.CREATOR}),
    Action.MANAGE_MEMBERS: frozenset({Role.ARCHIVIST}),
    Action.EDIT_FILM: frozenset({Role.ARCHIVIST}),
}


def film_role(*, user: AbstractBaseUser | AnonymousUser, film_id: int) -> str | None:
    """The user's role on the film, or None when they are not a member."""
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user_id=user.pk, film_id=film_id).values_list("role", flat=True).first()


def can(*, user: AbstractBaseUser | AnonymousUser, film_id: int, action: Action, role: str | None = None) -> bool:
    """Whether the user may do ``action`` on the film (pass ``role`` when already looked up)."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    role = role if role is not None else film_role(user=user, film_id=film_id)
    return role is not None and role in ALLOWED_ROLES[action]


def visible_films(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Film]:
    """Films the user may see: all for staff, their memberships otherwise."""
    if not user.is_authenticated:
        return Film.objects.none()
    if user.is_staff:
        return Film.objects.all()
    return Film.objects.filter(memberships__user_id=user.pk)


def can_create_film(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Staff, and archivists of any film (who become the new film's archivist), add films."""
    if not user.is_authenticated:
        return False
    return user.is_staff or Membership.objects.filter(user_id=user.pk, role=Role.ARCHIVIST).exists()
