"""Writes of live sessions: create and end a session, hand over hosting, invite and revoke guests.

The live playback state is not written here: the session socket changes it in the state store
(``state.py``). What is written here is what must outlast the session: the playlist, the host,
the invitations. Events go to the session's channel group once the transaction has committed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from webapp.catalogue.access import Action, can, film_role
from webapp.catalogue.models import Film, ShotVersion
from webapp.live.models import GuestInvite, PlaylistItem, ReviewSession
from webapp.live.selectors import host_is_viewer, invite_token_hash, may_invite_guests
from webapp.realtime import (
    LIVE_CHANNEL_LAYER,
    broadcast_on_commit,
    session_ended_on_commit,
    session_group,
    user_access_changed_on_commit,
)

MAX_PLAYLIST_LENGTH = 200
MAX_INVITE_HOURS = 7 * 24





def _send_on_commit(session_id: int, event: dict) -> None:
    broadcast_on_commit(session_group(session_id), event, layer_alias=LIVE_CHANNEL_LAYER)


@transaction.atomic
def session_create(*, film: Film, created_by: AbstractBaseUser, title: str,
                   versions: Sequence[ShotVersion]) -> ReviewSession:
    """A session hosted by its creator, with ``versions`` as its playlist in this order."""
    if not can(user=created_by, film_id=film.pk, action=Action.COMMENT):
        raise PermissionDenied("Your role on this film does not allow hosting review sessions.")
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "A session needs a title."})
    if not versions:
        raise ValidationError({"versions": "A session needs at least one version in its playlist."})
    if len(versions) > MAX_PLAYLIST_LENGTH:
        raise ValidationError({"versions": f"A playlist holds at most {MAX_PLAYLIST_LENGTH} versions."})
    ids = [version.pk for version in versions]
    if len(set(ids)) != len(ids):
        raise ValidationError({"versions": "A version appears more than once in the playlist."})
    foreign = [version.pk for version in versions if version.shot.film_id != film.pk]
    if foreign:
        raise ValidationError({"versions": f"Versions {foreign} are not of this film."})
    session = ReviewSession.objects.create(film=film, title=title, created_by=created_by, host=created_by)
    PlaylistItem.objects.bulk_create(
        PlaylistItem(session=session, version=version, position=position) for position, version in enumerate(versions)
    )
    return session


@transaction.atomic
def session_end(*, session: ReviewSession, ended_by: AbstractBaseUser) -> ReviewSession:
    """End the session for everyone: sockets are told and closed, guest links stop working."""
    session = ReviewSession.objects.select_for_update().get(pk=session.pk)
    if session.ended_at is not None:
        raise ValidationError("The session has already ended.")
    session.ended_at = timezone.now()
    session.save(update_fields=["ended_at"])
    _send_on_commit(session.pk, {"type": "session.ended", "by": ended_by.pk})
    session_ended_on_commit(session_id=session.pk)  # its shot and frame sockets
    return session


def session_host_record(*, session_id: int, host_id: int) -> None:
    """Keep the durable host in step with the live state after a hand-over (the state store
    decides who hosts; this row is what a session restarts from when its live state is gone)."""
    ReviewSession.objects.filter(pk=session_id).update(host_id=host_id)


@transaction.atomic
def guest_invite_create(*, session: ReviewSession, created_by: AbstractBaseUser, display_name: str,
                        expires_in_hours: int = 24) -> tuple[GuestInvite, str]:
    """An invitation and its secret token (shown once; only its hash is stored). The guest gets a
    user of their own with no password and no film membership. Only who ``may_invite_guests``
    hands out links: the film's archivists (and staff), and a creator or restorer hosting the
    session when the film lets hosts invite guests; nobody while a viewer hosts it."""
    session = ReviewSession.objects.select_related("film", "host").get(pk=session.pk)
    if host_is_viewer(session=session):
        raise PermissionDenied("A viewer hosts this session: take control (or hand it to another member) "
                               "before inviting guests.")
    if not may_invite_guests(user=created_by, session=session,
                             role=film_role(user=created_by, film_id=session.film_id)):
        raise PermissionDenied(
            "Only the film's archivists invite guests"
            + (" (and its sessions' hosts, which this film allows to creators and restorers)."
               if session.film.hosts_may_invite_guests else "; the film does not let hosts invite them.")
        )
    display_name = (display_name or "").strip()
    if not display_name:
        raise ValidationError({"display_name": "A guest needs a name that the others will see."})
    if not 1 <= expires_in_hours <= MAX_INVITE_HOURS:
        raise ValidationError({"expires_in_hours": f"Between 1 and {MAX_INVITE_HOURS} hours."})
    if session.ended_at is not None:
        raise ValidationError("The session has ended: nobody can be invited to it.")
    token = secrets.token_urlsafe(32)
    guest = get_user_model()(username=f"guest-{secrets.token_hex(8)}", first_name=display_name[:150])
    guest.set_unusable_password()
    guest.save()
    invite = GuestInvite.objects.create(
        session=session, token_hash=invite_token_hash(token), display_name=display_name, user=guest,
        created_by=created_by, expires_at=timezone.now() + timedelta(hours=expires_in_hours),
    )
    return invite, token


@transaction.atomic
def guest_invite_revoke(*, invite: GuestInvite) -> GuestInvite:
    """The link stops working and the guest's open sockets are closed."""
    invite = GuestInvite.objects.select_for_update().get(pk=invite.pk)
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])
        _send_on_commit(invite.session_id, {"type": "participant.removed", "user": invite.user_id})
        user_access_changed_on_commit(user_id=invite.user_id)  # their shot and frame sockets
    return invite
