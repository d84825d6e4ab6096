"""Writes of notifications. Other areas' writes call the ``notify_*`` functions inside their
transaction; the pushes to ``ws/notifications/`` (group ``user.<id>``) go out after it commits.

Who hears of what:
- a version is published for review: the film's members who can decide (archivists, creators),
  except its author;
- a comment mentions ``@username``: that user, when a member of the film (not the author);
  a guest of a live session may write one too, and is named by their invitation's name, "(guest)";
- a comment replies to another: the replied-to comment's author (not when it is their own reply,
  and once only when they are also mentioned);
- a decision is recorded: the version's author, when still a member and not the reviewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from webapp.catalogue.access import ALLOWED_ROLES, Action, person_label
from webapp.catalogue.models import Membership, ShotVersion
from webapp.notifications.models import Notification, NotificationKind
from webapp.notifications.selectors import notification_unread_count
from webapp.notifications.serializers import NotificationSerializer
from webapp.realtime import broadcast, user_group
from webapp.review.models import Comment, Decision, Verdict

# Django usernames are letters, digits and @.+-_; "@name." at the end of a sentence drops the dot.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]+)")
VERDICT_WORDS = {Verdict.APPROVE: "approved", Verdict.REJECT: "rejected", Verdict.CHANGES_REQUESTED: "requested changes on"}
EXCERPT_CHARS = 120
TEXT_CHARS = 500



def mentioned_usernames(text: str) -> set[str]:
    return {match.rstrip(".") for match in MENTION.findall(text)} - {""}


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _version_label(version: ShotVersion) -> str:
    return f"shot {version.shot.number} v{version.number}"


def _member_ids(film_id: int, user_ids: Iterable[int]) -> set[int]:
    return set(Membership.objects.filter(film_id=film_id, user_id__in=list(user_ids)).values_list("user_id", flat=True))


def _push(event_type: str, recipient_ids: Iterable[int], payloads: dict[int, dict] | None = None) -> None:
    for user in get_user_model().objects.filter(pk__in=list(recipient_ids)):
        event = {"type": event_type, "unread": notification_unread_count(user=user)}
        if payloads and user.pk in payloads:
            event["notification"] = payloads[user.pk]
        broadcast(user_group(user.pk), event)


def _create(*, recipient_ids: Iterable[int], kind: str, film_id: int, text: str, **subject) -> list[Notification]:
    rows = Notification.objects.bulk_create(
        Notification(recipient_id=user_id, kind=kind, film_id=film_id, text=text[:TEXT_CHARS], **subject)
        for user_id in sorted(set(recipient_ids))
    )
    if rows:
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: _push_created(ids))
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
    return _create(
        recipient_ids=deciders.values_list("user_id", flat=True), kind=NotificationKind.VERSION_READY,
        film_id=shot.film_id, shot=shot, version=version,
        text=f"{shot.film.title}: {_version_label(version)} is waiting for your review.",
    )


def notify_comment(*, comment: Comment) -> list[Notification]:
    version = comment.version
    film_id = version.shot.film_id
    author = comment.author
    who = person_label(author)
    where = f"{_version_label(version)} at frame {comment.frame}"
    names = mentioned_usernames(comment.text)
    mentioned = set(
        Membership.objects.filter(film_id=film_id, user__username__in=names)
        .exclude(user_id=author.pk).values_list("user_id", flat=True)
    ) if names else set()
    rows = _create(
        recipient_ids=mentioned, kind=NotificationKind.MENTION, film_id=film_id, shot=version.shot, version=version,
        comment=comment, text=f"{who} mentioned you on {where}: {_excerpt(comment.text)}",
    )
    parent = comment.reply_to
    if parent is not None and parent.author_id != author.pk and parent.author_id not in mentioned:
        rows += _create(
            recipient_ids=_member_ids(film_id, [parent.author_id]), kind=NotificationKind.COMMENT_REPLY,
            film_id=film_id, shot=version.shot, version=version, comment=comment,
            text=f"{who} replied to your comment on {where}: {_excerpt(comment.text)}",
        )
    return rows


def notify_decision(*, decision: Decision) -> list[Notification]:
    version = decision.version
    film_id = version.shot.film_id
    if version.author_id is None or version.author_id == decision.reviewer_id:
        return []
    verdict = VERDICT_WORDS[decision.verdict]
    note = f": {_excerpt(decision.note)}" if decision.note.strip() else "."
    return _create(
        recipient_ids=_member_ids(film_id, [version.author_id]), kind=NotificationKind.DECISION, film_id=film_id,
        shot=version.shot, version=version, decision=decision,
        text=f"{decision.reviewer.get_username()} ({decision.role}) {verdict} your {_version_label(version)}{note}",
    )


@transaction.atomic
def notification_mark_read(*, notification: Notification, user: AbstractBaseUser) -> Notification:
    """Mark one of the user's own notifications read (the caller fetched it through the selector)."""
    if notification.recipient_id != user.pk:
        raise ValueError("a notification is marked read by its recipient only")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        transaction.on_commit(lambda: _push("notification.read", [user.pk]))
    return notification


@transaction.atomic
def notification_mark_all_read(*, user: AbstractBaseUser) -> int:
    marked = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        transaction.on_commit(lambda: _push("notification.read", [user.pk]))
    return marked
