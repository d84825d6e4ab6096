"""Writes of notifications: ``notification_create`` for the areas above (review's ``notify``:
mentions, replies, decisions), and the catalogue's publishes heard through its ``version_published``
signal (``receivers.py``). The pushes to ``ws/notifications/`` (group ``user.<id>``) go out after
the creating transaction commits; a failed push is logged, never raised into the committing code.

Who hears of what:
- a version is published for review: the film's members who can decide (archivists, creators),
  except its author (here);
- a comment mentions ``@username``, replies to a comment, a decision is recorded: see
  ``webapp.review.notify``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from webapp.catalogue.access import ALLOWED_ROLES, Action
from webapp.catalogue.models import Invitation, Membership, ShotVersion
from webapp.notifications.models import Notification, NotificationKind
from webapp.notifications.selectors import notification_unread_count
from webapp.notifications.serializers import NotificationSerializer
from webapp.realtime import broadcast, user_group

# Django usernames are letters, digits and @.+-_; "@name." at the end of a sentence drops the dot.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]+)")
EXCERPT_CHARS = 120
TEXT_CHARS = 500


def mentioned_usernames(text: str) -> set[str]:
    return {match.rstrip(".") for match in MENTION.findall(text)} - {""}


def excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def version_label(version: ShotVersion) -> str:
    return f"shot {version.shot.number} v{version.number}"


def member_ids(film_id: int, user_ids: Iterable[int]) -> set[int]:
    return set(Membership.objects.filter(film_id=film_id, user_id__in=list(user_ids)).values_list("user_id", flat=True))


def _push_on_commit(push: Callable[[], None]) -> None:
    """Run ``push`` once the current transaction commits. It reads the database (unread counts, the
    new rows) there, after the commit: a failure is logged (``robust``), never raised into the
    committing code; the rows stay the truth."""
    transaction.on_commit(push, robust=True)


def _push(event_type: str, recipient_ids: Iterable[int], payloads: dict[int, dict] | None = None) -> None:
    for user in get_user_model().objects.filter(pk__in=list(recipient_ids)):
        event = {"type": event_type, "unread": notification_unread_count(user=user)}
        if payloads and user.pk in payloads:
            event["notification"] = payloads[user.pk]
        broadcast(user_group(user.pk), event)


def notification_create(
    *, recipient_ids: Iterable[int], kind: str, film_id: int, text: str, **subject
) -> list[Notification]:
    """One notification per recipient (each once), about ``subject`` (``shot``, ``version``, ``comment``,
    ``decision``); pushed to them once the transaction commits. The text is cut to TEXT_CHARS."""
    rows = Notification.objects.bulk_create(
        Notification(recipient_id=user_id, kind=kind, film_id=film_id, text=text[:TEXT_CHARS], **subject)
        for user_id in sorted(set(recipient_ids))
    )
    if rows:
        ids = [row.pk for row in rows]
        _push_on_commit(lambda: _push_created(ids))
    return rows


def _push_created(ids: list[int]) -> None:
    rows = Notification.objects.filter(pk__in=ids).select_related("film", "shot", "version", "comment")
    payloads = {row.recipient_id: dict(NotificationSerializer(row).data) for row in rows}
    _push("notification.created", payloads.keys(), payloads)


def notify_version_ready(*, version: ShotVersion) -> list[Notification]:
    shot = version.shot
    deciders = Membership.objects.filter(film_id=shot.film_id, role__in=ALLOWED_ROLES[Action.DECIDE])
    if version.author_id is not None:
        deciders = deciders.exclude(user_id=version.author_id)
    return notification_create(
        recipient_ids=deciders.values_list("user_id", flat=True), kind=NotificationKind.VERSION_READY,
        film_id=shot.film_id, shot=shot, version=version,
        text=f"{shot.film.title}: {version_label(version)} is waiting for your review.",
    )


def notify_invitation(*, invitation: Invitation) -> list[Notification]:
    """The invited user hears of an invitation that reached their account."""
    if invitation.user_id is None:
        return []
    by = invitation.invited_by.get_username() if invitation.invited_by is not None else "An archivist"
    return notification_create(
        recipient_ids=[invitation.user_id], kind=NotificationKind.INVITATION, film_id=invitation.film_id,
        invitation=invitation,
        text=f"{by} invites you to join {invitation.film.title} as {invitation.get_role_display().lower()}.",
    )


@transaction.atomic
def notification_mark_read(*, notification: Notification, user: AbstractBaseUser) -> Notification:
    """Mark one of the user's own notifications read (the caller fetched it through the selector)."""
    if notification.recipient_id != user.pk:
        raise ValueError("a notification is marked read by its recipient only")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        _push_on_commit(lambda: _push("notification.read", [user.pk]))
    return notification


@transaction.atomic
def notification_mark_all_read(*, user: AbstractBaseUser) -> int:
    marked = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        _push_on_commit(lambda: _push("notification.read", [user.pk]))
    return marked
