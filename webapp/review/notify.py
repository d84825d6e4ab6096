"""Who hears of review's writes (called inside the writing transaction; the notifications are
pushed once it commits):

- a comment mentions ``@username``: that user, when a member of the film (not the author);
  a guest of a live session may write one too, and is named by their invitation's name, "(guest)";
- a comment replies to another: the replied-to comment's author (not when it is their own reply,
  and once only when they are also mentioned);
- a decision is recorded: the version's author, when still a member and not the reviewer.

The rows and their pushes are the notifications area's (``notification_create``); what they say
about comments and decisions is review's, so notifications need not know review's models.
"""

from __future__ import annotations

from webapp.catalogue.access import person_label
from webapp.catalogue.models import Membership
from webapp.notifications.models import Notification, NotificationKind
from webapp.notifications.services import (
    excerpt,
    member_ids,
    mentioned_usernames,
    notification_create,
    version_label,
)
from webapp.review.models import Comment, Decision, Verdict

VERDICT_WORDS = {Verdict.APPROVE: "approved", Verdict.REJECT: "rejected", Verdict.CHANGES_REQUESTED: "requested changes on",
                 Verdict.REOPEN: "reopened"}


def notify_comment(*, comment: Comment) -> list[Notification]:
    version = comment.version
    film_id = version.shot.film_id
    author = comment.author
    who = person_label(author)
    where = f"{version_label(version)} at frame {comment.frame}"
    names = mentioned_usernames(comment.text)
    mentioned = set(
        Membership.objects.filter(film_id=film_id, user__username__in=names)
        .exclude(user_id=author.pk).values_list("user_id", flat=True)
    ) if names else set()
    rows = notification_create(
        recipient_ids=mentioned, kind=NotificationKind.MENTION, film_id=film_id, shot=version.shot, version=version,
        comment=comment, text=f"{who} mentioned you on {where}: {excerpt(comment.text)}",
    )
    parent = comment.reply_to
    if parent is not None and parent.author_id != author.pk and parent.author_id not in mentioned:
        rows += notification_create(
            recipient_ids=member_ids(film_id, [parent.author_id]), kind=NotificationKind.COMMENT_REPLY,
            film_id=film_id, shot=version.shot, version=version, comment=comment,
            text=f"{who} replied to your comment on {where}: {excerpt(comment.text)}",
        )
    return rows


def notify_decision(*, decision: Decision) -> list[Notification]:
    version = decision.version
    film_id = version.shot.film_id
    if version.author_id is None or version.author_id == decision.reviewer_id:
        return []
    verdict = VERDICT_WORDS[decision.verdict]
    note = f": {excerpt(decision.note)}" if decision.note.strip() else "."
    return notification_create(
        recipient_ids=member_ids(film_id, [version.author_id]), kind=NotificationKind.DECISION, film_id=film_id,
        shot=version.shot, version=version, decision=decision,
        text=f"{decision.reviewer.get_username()} ({decision.role}) {verdict} your {version_label(version)}{note}",
    )
