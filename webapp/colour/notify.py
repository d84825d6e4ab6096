"""Who hears of colour's writes (called inside the writing transaction; the notifications are
pushed once it commits, by the notifications area's ``notification_create``):

- a grade is proposed (by hand, imported or fitted): the film's members whose role must sign it
  under the approval policy (by default its creators and archivists), except its author;
- a grade is decided: its author, when still a member and not the reviewer.
"""

from __future__ import annotations

from webapp.catalogue.models import Membership
from webapp.colour.approval import approval_rules
from webapp.colour.models import Grade, GradeDecision, GradeVerdict
from webapp.colour.selectors import scene_shots
from webapp.notifications.models import Notification, NotificationKind
from webapp.notifications.services import excerpt, member_ids, notification_create

VERDICT_WORDS = {GradeVerdict.APPROVE: "approved", GradeVerdict.REJECT: "rejected",
                 GradeVerdict.CHANGES_REQUESTED: "requested changes on"}


def grade_label(grade: Grade) -> str:
    if grade.shot_id is not None:
        return f"grade {grade.number} of shot {grade.shot.number}"
    return f"grade {grade.number} of scene \u201c{grade.scene.name}\u201d"


def _subject_shot(grade: Grade):
    """The shot a notification opens: the grade's shot, or its scene's first shot."""
    return grade.shot if grade.shot_id is not None else scene_shots(grade.scene).first()


def notify_grade_ready(*, grade: Grade) -> list[Notification]:
    signers = Membership.objects.filter(film_id=grade.film_id,
                                        role__in=approval_rules().requirement(film_id=grade.film_id).roles)
    if grade.author_id is not None:
        signers = signers.exclude(user_id=grade.author_id)
    return notification_create(
        recipient_ids=signers.values_list("user_id", flat=True), kind=NotificationKind.GRADE_READY,
        film_id=grade.film_id, shot=_subject_shot(grade), grade=grade,
        text=f"{grade.film.title}: {grade_label(grade)} is waiting for your sign-off.",
    )


def notify_grade_decision(*, decision: GradeDecision) -> list[Notification]:
    grade = decision.grade
    if grade.author_id is None or grade.author_id == decision.reviewer_id:
        return []
    note = f": {excerpt(decision.note)}" if decision.note.strip() else "."
    return notification_create(
        recipient_ids=member_ids(grade.film_id, [grade.author_id]), kind=NotificationKind.GRADE_DECISION,
        film_id=grade.film_id, shot=decision.shot or _subject_shot(grade), grade=grade,
        text=f"{decision.reviewer.get_username()} ({decision.role}) {VERDICT_WORDS[decision.verdict]} your "
             f"{grade_label(grade)}{note}",
    )
