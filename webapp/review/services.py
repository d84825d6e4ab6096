"""Writes of review data: comments (with drawings) and append-only decisions.

A decision moves the version (and through it the shot) according to the film's approval policy:
``approval_outcome`` is a pure function of the version's decisions and the film's approval
requirement at decision time (``policy.py``), which is recorded with the decision.
Every write notifies the people concerned and is announced to the shot's websocket group
once its transaction commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from webapp.catalogue.access import ALLOWED_ROLES, Action, can, can_comment, film_role
from webapp.catalogue.models import Film, Shot, ShotVersion, VersionStatus
from webapp.catalogue.status import shot_status_update, version_status_set
from webapp.colour.services import grade_decisions_reapply
from webapp.review.drawing import DrawingError, validate_drawing
from webapp.review.events import comment_announce, decision_announce
from webapp.review.models import ApprovalPolicy, ApprovalPolicyChange, Comment, CommentRevision, Decision, Verdict
from webapp.review.notify import notify_comment, notify_decision
from webapp.review.policy import ApprovalRequirement, approval_met, approval_requirement
from webapp.review.selectors import current_decisions

# Comments ------------------------------------------------------------------------------------

MAX_COMMENT_CHARS = 10_000  # a long note is a page or two; a megabyte is not a comment


def _check_frames(*, version: ShotVersion, frame: int, frame_end: int | None) -> None:
    frame_count = version.shot.frame_count
    if not 0 <= frame < frame_count:
        raise ValidationError({"frame": f"Frame {frame} is outside the shot (frames 0 to {frame_count - 1})."})
    if frame_end is not None:
        if frame_end < frame:
            raise ValidationError({"frame_end": "The range ends before it starts."})
        if frame_end >= frame_count:
            raise ValidationError(
                {"frame_end": f"Frame {frame_end} is outside the shot (frames 0 to {frame_count - 1})."}
            )


def _check_drawing(drawing) -> None:
    if drawing is None:
        return
    try:
        validate_drawing(drawing)
    except DrawingError as error:
        raise ValidationError({"drawing": f"Invalid drawing: {error}."}) from None


def _check_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError({"text": "A comment needs some text."})
    if len(text) > MAX_COMMENT_CHARS:
        raise ValidationError({"text": f"A comment is at most {MAX_COMMENT_CHARS} characters; this one has {len(text)}."})
    return text


@transaction.atomic
def comment_create(
    *,
    version: ShotVersion,
    author: AbstractBaseUser,
    frame: int,
    text: str,
    frame_end: int | None = None,
    drawing: list | None = None,
    reply_to: Comment | None = None,
) -> Comment:
    """A comment by a member whose role allows it, or by a guest on their session's playlist."""
    if not can_comment(user=author, version=version):
        raise PermissionDenied("You may not comment on this version.")
    _check_text(text)
    _check_frames(version=version, frame=frame, frame_end=frame_end)
    _check_drawing(drawing)
    if reply_to is not None and reply_to.version_id != version.pk:
        raise ValidationError({"reply_to": "The comment replied to is on another version."})
    comment = Comment.objects.create(
        version=version, author=author, frame=frame, frame_end=frame_end, text=text, drawing=drawing,
        reply_to=reply_to,
    )
    notify_comment(comment=comment)
    comment_announce(comment=comment, created=True)
    return comment


@transaction.atomic
def comment_update(
    *, comment: Comment, editor: AbstractBaseUser, text: str | None = None, resolved: bool | None = None
) -> Comment:
    """Authors edit their own text and resolve their comments; archivists (and staff) resolve any.
    Either way only while they may comment on the version (a guest's invitation ends that). Each
    change of text keeps the text it replaces as a ``CommentRevision``."""
    film_id = comment.version.shot.film_id
    is_author = comment.author_id == editor.pk
    if not can_comment(user=editor, version=comment.version):
        raise PermissionDenied("You may no longer comment on this version.")
    if text is not None and not is_author:
        raise PermissionDenied("Only the author can edit a comment's text.")
    if resolved is not None and not is_author and not can(user=editor, film_id=film_id, action=Action.EDIT_FILM):
        raise PermissionDenied("Only the author or an archivist can resolve a comment.")
    fields = []
    if text is not None and _check_text(text) != comment.text:
        # The text it replaces is kept (the comment's history): an edit never loses what others read.
        CommentRevision.objects.create(comment=comment, previous_text=comment.text, editor=editor)
        comment.text = text
        fields.append("text")
    if resolved is not None:
        comment.resolved = resolved
        fields.append("resolved")
    if fields:
        comment.save(update_fields=[*fields, "updated_at"])
        comment_announce(comment=comment, created=False)
    return comment


# Decisions ----------------------------------------------------------------------------------

def approval_outcome(*, decisions: Sequence[Decision], requirement: ApprovalRequirement) -> str:
    """The version status the decisions lead to (pure: reads and writes nothing).

    Any current reject rejects; any current "changes requested" keeps the version in review;
    otherwise it is approved once the requirement is met (``policy.approval_met``: an approval in
    every required role by a member holding it; never while a required role is unfilled).
    """
    current = current_decisions(decisions)
    verdicts = {d.verdict for d in current}
    if Verdict.REJECT in verdicts:
        return VersionStatus.REJECTED
    if Verdict.CHANGES_REQUESTED in verdicts:
        return VersionStatus.IN_REVIEW
    if approval_met(current=current, requirement=requirement):
        return VersionStatus.APPROVED
    return VersionStatus.IN_REVIEW


@transaction.atomic
def decision_record(*, version: ShotVersion, reviewer: AbstractBaseUser, verdict: str, note: str = "") -> Decision:
    """Record a verdict with the reviewer's role at this moment, then apply the film's approval policy.

    A decision speaks for a role on the film, so the reviewer needs a deciding role there;
    staff without one cannot decide (they can join the film as archivist or creator). The
    decision is written once, with what the policy required then and the outcome it led to.
    """
    version = ShotVersion.objects.select_for_update().select_related("shot").get(pk=version.pk)
    film_id = version.shot.film_id
    role = film_role(user=reviewer, film_id=film_id)
    if role not in ALLOWED_ROLES[Action.DECIDE]:
        raise PermissionDenied(
            "Deciding needs the archivist or creator role on this film"
            + (f"; yours is {role}." if role else "; you are not a member of it.")
        )
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": f"Must be one of {', '.join(Verdict.values)}."})
    if not isinstance(note, str):
        raise ValidationError({"note": "Must be text."})
    if version.status != VersionStatus.IN_REVIEW:
        raise ValidationError({"version": f"Only a version in review can be decided; this one is {version.status}."})
    requirement = approval_requirement(film_id=film_id)
    decision = Decision(
        version=version, reviewer=reviewer, role=role, verdict=verdict, note=note,
        required_roles=requirement.roles_record(), required_members=requirement.members_record(),
    )
    decision.outcome = approval_outcome(decisions=[*version.decisions.all(), decision], requirement=requirement)
    decision.save(force_insert=True)
    shot = _outcome_set(version=version, outcome=decision.outcome)
    notify_decision(decision=decision)
    decision_announce(decision=decision, version=version, shot=shot)
    return decision


def _outcome_set(*, version: ShotVersion, outcome: str) -> Shot:
    """Move the (locked, in review) version and its shot to ``outcome``."""
    shot = Shot.objects.select_for_update().get(pk=version.shot_id)
    if outcome != version.status:
        version_status_set(version=version, status=outcome)
        if outcome == VersionStatus.APPROVED:
            shot.approved_version = version
            shot.save(update_fields=["approved_version", "updated_at"])
        shot_status_update(shot=shot)
    return shot


@transaction.atomic
def approval_policy_save(
    *, film: Film, archivist_required: bool, creator_required: bool, changed_by: AbstractBaseUser | None
) -> ApprovalPolicy:
    """Set which roles must approve the film's versions (and its grades), then apply the new rule
    to the versions in review and the open grades (their recorded decisions may now be enough,
    or no longer the deciding ones). The change is recorded (``ApprovalPolicyChange``) with the
    members who held the roles then and what it decided."""
    if not (archivist_required or creator_required):
        raise ValidationError({"non_field_errors": ["At least one role (archivist or creator) must approve."]})
    policy, _ = ApprovalPolicy.objects.select_for_update().update_or_create(
        film=film, defaults={"archivist_required": archivist_required, "creator_required": creator_required}
    )
    requirement = approval_requirement(film_id=film.pk)
    decided = []
    waiting = ShotVersion.objects.select_for_update().filter(shot__film=film, status=VersionStatus.IN_REVIEW)
    for version in waiting.order_by("shot_id", "number"):
        outcome = approval_outcome(decisions=list(version.decisions.all()), requirement=requirement)
        if outcome != version.status:
            _outcome_set(version=version, outcome=outcome)
            decided.append({"version": version.pk, "status": str(outcome)})
    # one policy for both decision tracks
    decided += [{"grade": grade.pk, "status": grade.status} for grade in grade_decisions_reapply(film=film)]
    ApprovalPolicyChange.objects.create(
        film=film, changed_by=changed_by, archivist_required=archivist_required, creator_required=creator_required,
        required_members=requirement.members_record(), decided=decided,
    )
    return policy
