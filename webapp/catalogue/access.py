"""Who may do what on a film. One place for the rules; APIs, pages and consumers call it.

A user who is not a member of a film must not learn that the film (or anything in it)
exists: that is a 404, never a 403. A member whose role does not allow the action gets 403.
Staff users administer everything.

Guests (an outside creator let into one live session by a link) are no member of any film. While
their invitation lets them in they see and comment on the versions of that session's playlist
(``guest_versions``) and nothing else: no other shot or film, no decisions, no resolving or
editing what others wrote. Their names carry a "(guest)" mark. Which users are guests, and what
they take part in, the area that invites them (live) tells these rules through a ``GuestAccess``
it registers (``guest_access_register``, in its ``AppConfig.ready``): the catalogue imports no area
above it. Without one, nobody is a guest.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Protocol

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from webapp.catalogue.models import Film, Membership, Role, ShotVersion


class Action(str, Enum):
    VIEW = "view"  # see the film, its shots, versions, comments, decisions, jobs
    COMMENT = "comment"  # write comments and drawings
    PUBLISH = "publish"  # ingest, create and publish versions, run jobs
    DECIDE = "decide"  # approve / reject / request changes (versions, and grades: colour sign-off)
    GRADE = "grade"  # propose, fit, import and record colour grades
    MANAGE_MEMBERS = "manage_members"
    EDIT_FILM = "edit_film"


ALLOWED_ROLES: dict[Action, frozenset[str]] = {
    Action.VIEW: frozenset(Role.values),
    Action.COMMENT: frozenset(Role.values),
    Action.PUBLISH: frozenset({Role.RESTORER, Role.ARCHIVIST}),
    Action.DECIDE: frozenset({Role.ARCHIVIST, Role.CREATOR}),
    Action.GRADE: frozenset({Role.RESTORER, Role.ARCHIVIST}),
    Action.MANAGE_MEMBERS: frozenset({Role.ARCHIVIST}),
    Action.EDIT_FILM: frozenset({Role.ARCHIVIST}),
}


class GuestAccess(Protocol):
    """What the area that lets guests in tells the access rules about them."""

    def versions(self, user: AbstractBaseUser) -> QuerySet[ShotVersion]:
        """The versions a signed-in user takes part in as a guest while their invitation lets them in
        (empty for anyone else)."""

    def invite_of(self, user: AbstractBaseUser) -> Any | None:
        """The invitation (with a ``display_name``) that made this user, valid or not; None for a
        user who is no guest. Without a query when it was selected along with the user."""


_guest_access: GuestAccess | None = None


def guest_access_register(provider: GuestAccess | None) -> None:
    """Install the guest rules (one provider: the last registered; None removes it)."""
    global _guest_access
    _guest_access = provider


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


def guest_versions(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[ShotVersion]:
    """What a guest takes part in: the versions of the playlist of the session their invitation
    opens, while it lets them in (not revoked, not expired, session not ended). Empty for anyone
    who is not such a guest."""
    if not user.is_authenticated or _guest_access is None:
        return ShotVersion.objects.none()
    return _guest_access.versions(user)


def commentable_versions(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[ShotVersion]:
    """Versions the user may comment on (text, drawing, replies): every version of the films where
    their role allows commenting (of every film for staff), and a guest's ``guest_versions``."""
    if not user.is_authenticated:
        return ShotVersion.objects.none()
    if user.is_staff:
        return ShotVersion.objects.all()
    films = Membership.objects.filter(user_id=user.pk, role__in=ALLOWED_ROLES[Action.COMMENT]).values("film_id")
    return ShotVersion.objects.filter(Q(shot__film_id__in=films) | Q(pk__in=guest_versions(user=user).values("pk")))


def can_comment(*, user: AbstractBaseUser | AnonymousUser, version: ShotVersion) -> bool:
    """Whether the user may write a comment (or a reply, or a drawing) on this version."""
    return commentable_versions(user=user).filter(pk=version.pk).exists()


def can_comment_on_shot(*, user: AbstractBaseUser | AnonymousUser, film_id: int, shot_id: int) -> bool:
    """Whether the user may comment on the shot at all: a member whose role allows commenting on
    its film (staff), or a guest with a version of the shot in their playlist. Which version is
    ``can_comment``'s question."""
    return (can(user=user, film_id=film_id, action=Action.COMMENT)
            or guest_versions(user=user).filter(shot_id=shot_id).exists())


def guest_invite_of(user: AbstractBaseUser) -> Any | None:
    """The invitation that made this user, when they are a guest (valid or not). Select
    ``guest_invite`` along with users in lists: a guest-less user then costs no query either."""
    if _guest_access is None or not user.is_authenticated:
        return None
    return _guest_access.invite_of(user)


def person_label(user: AbstractBaseUser) -> str:
    """How a person is named beside what they wrote: a member by their username, a guest by the
    name on their invitation, marked as a guest ("Ana Ruiz (guest)")."""
    invite = guest_invite_of(user)
    return user.get_username() if invite is None else f"{invite.display_name} (guest)"
