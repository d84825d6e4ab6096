"""Writes of notifications: ``notification_create`` for the areas above (review's ``notify``:
mentions, replies, decisions), and the catalogue's publishes heard through its ``version_published``
signal (``receivers.py``). The pushes to ``ws/notifications/`` (group ``user.<id>``) go out after
the creating transaction commits; a failed push is logged, never raised into the committing code.

Who hears of what:
- a version is published for review: the film's members who can decide (archivists, creators),
  except its author (here);
- a comment mentions ``@username``, replies to a comment, a decision is recorded: see
  ``webapp.review.notify``.

E-mail: a new notification whose recipient wants it by e-mail (``NotificationSettings``; an active
account with an address) is made ``email_due``; once the creating transaction commits it is sent as
a Celery message (``emails.EMAIL_TASK``, the ``cpu`` queue); the task (``notification_email_send``)
checks again, with the row locked, that it was not e-mailed yet and that the recipient may still
see its film, sends it and records ``emailed_at`` in the same transaction. A message that never
reached the broker, or was lost in it, is sent again by the jobs' sweep
(``notification_emails_resend``) for a day.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webapp.catalogue.access import ALLOWED_ROLES, Action
from webapp.catalogue.models import Invitation, Membership, ShotVersion
from webapp.notifications.emails import EMAIL_TASK, email_message
from webapp.notifications.models import Notification, NotificationKind, NotificationSettings
from webapp.notifications.selectors import (
    notification_email_wanted,
    notification_still_visible,
    notification_unread_count,
)
from webapp.notifications.serializers import NotificationSerializer
from webapp.realtime import broadcast, user_group

logger = logging.getLogger(__name__)

# Django usernames are letters, digits and @.+-_; "@name." at the end of a sentence drops the dot.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]+)")
EXCERPT_CHARS = 120
TEXT_CHARS = 500
# A due e-mail whose task went out this long ago and did not send is taken as lost and sent again
# (a duplicate finds it e-mailed and does nothing); after EMAIL_RESEND_FOR it is given up.
EMAIL_RESEND_AFTER = timedelta(minutes=15)
EMAIL_RESEND_FOR = timedelta(days=1)
EMAIL_RESEND_BATCH = 500


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
    ``decision``); pushed to them once the transaction commits, and e-mailed to those who want it.
    The text is cut to TEXT_CHARS."""
    recipients = get_user_model().objects.filter(pk__in=set(recipient_ids)).order_by("pk")
    saved = {row.user_id: row for row in NotificationSettings.objects.filter(user_id__in=set(recipient_ids))}
    rows = [Notification(recipient=user, kind=kind, film_id=film_id, text=text[:TEXT_CHARS], **subject)
            for user in recipients]
    for row in rows:
        choice = saved.get(row.recipient_id) or NotificationSettings(user_id=row.recipient_id)
        row.email_due = notification_email_wanted(notification=row, settings=choice)
    rows = Notification.objects.bulk_create(rows)
    if rows:
        ids = [row.pk for row in rows]
        _push_on_commit(lambda: _push_created(ids))
        _push_on_commit(lambda: notification_emails_enqueue(ids))
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


# E-mail ------------------------------------------------------------------------------------------


def notification_emails_enqueue(notification_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Send the e-mail task of each of these (committed) notifications that is still due; returns
    how many were sent to the broker. Never raises: a broker that is down leaves them due, for the
    sweep (``notification_emails_resend``), and never fails the write that caused them."""
    due = Notification.objects.filter(pk__in=list(notification_ids), email_due=True, emailed_at__isnull=True)
    task = current_app.tasks[EMAIL_TASK]  # registered with Django (NotificationsConfig.ready)
    queued = []
    for notification_id in due.order_by("pk").values_list("pk", flat=True):
        try:
            # The same short try as a job's message: a request never waits long on a dead broker.
            task.apply_async((notification_id,), queue="cpu", retry_policy=settings.JOB_DISPATCH_RETRY_POLICY)
        except Exception:  # noqa: BLE001 - the broker is down: the sweep sends it later
            logger.warning("Could not send the e-mail task of notification %s; it stays due", notification_id,
                           exc_info=True)
            break  # the rest would wait on the same dead broker
        queued.append(notification_id)
    if queued:
        Notification.objects.filter(pk__in=queued).update(email_queued_at=now or timezone.now())
    return len(queued)


def notification_emails_resend(*, now: datetime | None = None) -> int:
    """Send again the e-mail tasks of due notifications (made in the last EMAIL_RESEND_FOR) that
    never reached the broker, or went out more than EMAIL_RESEND_AFTER ago and did not send (a
    message lost in a broker restart); returns how many were sent. The oldest first."""
    now = now or timezone.now()
    stale = now - EMAIL_RESEND_AFTER
    due = (Notification.objects.filter(email_due=True, emailed_at__isnull=True, created_at__gte=now - EMAIL_RESEND_FOR,
                                       created_at__lt=stale)
           .filter(Q(email_queued_at__isnull=True) | Q(email_queued_at__lt=stale)))
    return notification_emails_enqueue(due.order_by("created_at").values_list("pk", flat=True)[:EMAIL_RESEND_BATCH],
                                       now=now)


def notification_email_send(*, notification_id: int) -> bool:
    """E-mail one notification, at most once: with its row locked, unless it was e-mailed already,
    its recipient no longer wants it (the settings may have changed since it was queued), has no
    address, is inactive, or may no longer see its film (or the invitation was answered). Returns
    whether an e-mail went out. A failing mail server raises (the task retries): nothing is recorded."""
    with transaction.atomic():
        row = Notification.objects.select_for_update().filter(pk=notification_id, emailed_at__isnull=True).first()
        if row is None:
            return False
        if not (notification_email_wanted(notification=row) and notification_still_visible(notification=row)):
            row.email_due = False  # nothing for the sweep to send again
            row.save(update_fields=["email_due"])
            return False
        # Sent inside the transaction that records it: a duplicate task waits on the lock, then
        # finds emailed_at set; a failed send rolls back and records nothing.
        email_message(row).send()
        row.emailed_at, row.email_due = timezone.now(), False
        row.save(update_fields=["emailed_at", "email_due"])
    return True


@transaction.atomic
def notification_settings_update(*, user: AbstractBaseUser, **changes: bool) -> NotificationSettings:
    """Change some of the user's e-mail switches (names of ``NotificationSettings`` fields); the row
    is created on the first change (two first changes at once: get_or_create takes the other's row)."""
    unknown = set(changes) - {"email_enabled", *NotificationSettings.KIND_FIELDS}
    if unknown:
        raise ValueError(f"not e-mail settings: {sorted(unknown)}")
    current, _ = NotificationSettings.objects.select_for_update().get_or_create(user_id=user.pk)
    for name, value in changes.items():
        setattr(current, name, bool(value))
    current.save()
    return current
