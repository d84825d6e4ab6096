"""Reads of live sessions: who may see a session, in which capacity, and its playlist.

A session is seen by the members of its film (any role), by staff, and by the guests invited to
it while their invitation is valid (not revoked, not expired, session not ended). Anyone else is
told it does not exist (404 / close code 4404), as for every other object of a film.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from webapp.catalogue.access import Action, can, film_role, visible_films
from webapp.catalogue.models import Film, Role, Shot, ShotVersion, VersionStatus
from webapp.catalogue.selectors import shot_numbering
from webapp.live.models import GuestInvite, PlaylistItem, ReviewSession
from webapp.review.frames import frame_sources


class Capacity(str, Enum):
    MEMBER = "member"
    GUEST = "guest"


@dataclass(frozen=True)
class SessionAccess:
    session: ReviewSession
    capacity: Capacity
    role: str | None  # the film role of a member (None for staff who are not members and for guests)
    may_manage: bool  # end the session, list and revoke guest links
    may_invite_guests: bool = False  # create a guest link (``may_invite_guests``)


def session_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[ReviewSession]:
    """Sessions of the films the user is a member of (guests use their link, not the list)."""
    return (ReviewSession.objects.filter(film__in=visible_films(user=user).values("pk"))
            .select_related("film", "host", "created_by").prefetch_related("items"))


def versions_awaiting_review(*, film: Film, limit: int) -> list[ShotVersion]:
    """The film's versions in review in film order: the playlist a session opened from the
    sessions page starts with."""
    return list(ShotVersion.objects.filter(shot__film=film, status=VersionStatus.IN_REVIEW)
                .select_related("shot").order_by("shot__number", "number")[:limit])


def invite_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def guest_invite_for_token(*, token: str) -> GuestInvite | None:
    return GuestInvite.objects.select_related("session__film", "user").filter(
        token_hash=invite_token_hash(token)).first()


def _guest_invite_of(user: AbstractBaseUser, session_id: int) -> GuestInvite | None:
    return GuestInvite.objects.select_related("session").filter(user_id=user.pk, session_id=session_id).first()


def guest_invite_valid_for(*, user: AbstractBaseUser | AnonymousUser, session_id: int) -> GuestInvite | None:
    """The user's guest invitation to this session when it still lets them in."""
    if not user.is_authenticated:
        return None
    invite = _guest_invite_of(user, session_id)
    return invite if invite is not None and invite_refusal(invite=invite) is None else None


def guest_refusal_for(*, user: AbstractBaseUser, session_id: int) -> str | None:
    """Why the user's invitation to this session no longer lets them in; None when they have none."""
    invite = _guest_invite_of(user, session_id)
    return None if invite is None else invite_refusal(invite=invite)


def invite_refusal(*, invite: GuestInvite) -> str | None:
    """Why an invitation no longer lets its guest in, or None while it does."""
    if invite.revoked_at is not None:
        return "revoked"
    if invite.session.ended_at is not None:
        return "ended"
    if invite.expires_at <= timezone.now():
        return "expired"
    return None


def session_access(*, user: AbstractBaseUser | AnonymousUser, session_id: int) -> SessionAccess | None:
    """How the user may take part in the session, or None when it does not exist for them."""
    if not user.is_authenticated:
        return None
    session = ReviewSession.objects.select_related("film", "host", "created_by").filter(pk=session_id).first()
    if session is None:
        return None
    role = film_role(user=user, film_id=session.film_id)
    if role is not None or user.is_staff:
        return SessionAccess(session=session, capacity=Capacity.MEMBER, role=role,
                             may_manage=session_may_manage(user=user, session=session, role=role),
                             may_invite_guests=may_invite_guests(user=user, session=session, role=role))
    if guest_invite_valid_for(user=user, session_id=session_id) is not None:
        return SessionAccess(session=session, capacity=Capacity.GUEST, role=None, may_manage=False)
    return None


# Members who may hand out guest links as a session's host, where the film lets hosts do it: never a
# viewer (who watches and comments, and must not let outsiders in).
GUEST_INVITING_HOST_ROLES = frozenset({Role.CREATOR, Role.RESTORER})


def may_invite_guests(*, user: AbstractBaseUser, session: ReviewSession, role: str | None) -> bool:
    """Create a guest link into the session: the film's archivists and staff; and its current host
    when the film lets hosts invite guests (``Film.hosts_may_invite_guests``, off by default) and
    their role is creator or restorer. Never into a session a viewer hosts (``host_is_viewer``)."""
    if host_is_viewer(session=session):
        return False
    if can(user=user, film_id=session.film_id, action=Action.MANAGE_MEMBERS, role=role or ""):
        return True
    return (session.film.hosts_may_invite_guests and user.pk == session.host_id
            and role in GUEST_INVITING_HOST_ROLES)


def host_is_viewer(*, session: ReviewSession) -> bool:
    """Whether the session's current host is a viewer of its film (who may not host guests)."""
    return film_role(user=session.host, film_id=session.film_id) == Role.VIEWER


def session_may_manage(*, user: AbstractBaseUser, session: ReviewSession, role: str | None) -> bool:
    """End the session, list and revoke guest links: its creator, its host, the film's archivists, staff."""
    return (user.pk in {session.created_by_id, session.host_id}
            or can(user=user, film_id=session.film_id, action=Action.MANAGE_MEMBERS, role=role or ""))


def playlist_items(*, session: ReviewSession) -> list[dict]:
    """The playlist in order, each item with its shot and the sources a viewer may compare (the
    frame socket's own list: the original scan and the shot's versions that have frames)."""
    items = list(PlaylistItem.objects.filter(session=session).select_related("version__shot__source")
                 .order_by("position"))
    sources_by_shot: dict[int, list[dict]] = {}
    playlist = []
    for item in items:
        version, shot = item.version, item.version.shot
        numbering = shot_numbering(shot=shot, film_start=session.film.frame_number_start)
        if shot.pk not in sources_by_shot:
            sources_by_shot[shot.pk] = [{"id": source.name, "label": source.label, "status": source.status}
                                        for source in frame_sources(shot=shot)]
        playlist.append({
            "position": item.position,
            "version": version.pk,
            "version_number": version.number,
            "shot": shot.pk,
            "shot_number": shot.number,
            "frame_count": shot.frame_count,
            "fps": shot.fps,
            # What the viewer shows for shot frame 0 (display only), as the shot's review page shows it.
            **numbering.viewer_fields(),
            "sources": sources_by_shot[shot.pk],
            "frames_socket": f"/ws/sessions/{session.pk}/frames/{shot.pk}/",
        })
    return playlist


def playlist_versions_of_shot(*, session_id: int, shot_id: int) -> list[dict]:
    """The status of each version of the shot in the session's playlist, by number: what the live
    page shows beside the version on screen, and the versions a guest hears decisions on."""
    versions = (ShotVersion.objects.filter(review_sessions=session_id, shot_id=shot_id).distinct()
                .order_by("number").values("pk", "number", "status"))
    return [{"version": v["pk"], "number": v["number"], "status": v["status"]} for v in versions]


def session_shot_for_viewer(*, user: AbstractBaseUser | AnonymousUser, session_id: int, shot_id: int) -> Shot | None:
    """A shot of the session's playlist, for a participant of a session that has not ended."""
    access = session_access(user=user, session_id=session_id)
    if access is None or access.session.ended_at is not None:
        return None
    return (Shot.objects.select_related("film", "source")
            .filter(pk=shot_id, versions__review_sessions=session_id).distinct().first())
