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
from webapp.catalogue.status import (
    CLOSED_VERSION_STATUSES,
    OPEN_VERSION_STATUSES,
    shot_status_update,
    version_newer_in_review,
    version_status_set,
)
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

    Only the decisions since the version was last reopened count. Any current reject rejects; any
    current "changes requested" sets it to changes requested (its reviewers may still change their
    minds); otherwise it is approved once the requirement is met (``policy.approval_met``: an
    approval in every required role by a member holding it; never while a required role is unfilled).
    """
    current = current_decisions(decisions)
    verdicts = {d.verdict for d in current}
    if Verdict.REJECT in verdicts:
        return VersionStatus.REJECTED
    if Verdict.CHANGES_REQUESTED in verdicts:
        return VersionStatus.CHANGES_REQUESTED
    if approval_met(current=current, requirement=requirement):
        return VersionStatus.APPROVED
    return VersionStatus.IN_REVIEW


@transaction.atomic
def decision_record(*, version: ShotVersion, reviewer: AbstractBaseUser, verdict: str, note: str = "",
                    frame: int | None = None, drawing: list | None = None) -> Decision:
    """Record a verdict with the reviewer's role at this moment, then apply the film's approval policy.

    A decision speaks for a role on the film, so the reviewer needs a deciding role there;
    staff without one cannot decide (they can join the film as archivist or creator). A verdict
    may point at a frame of the shot and a drawing over it (a change request's "here"). A
    ``reopen`` (``_reopen_check``) puts an approved or rejected version back into review. The
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
    _check_decision_place(version=version, verdict=verdict, frame=frame, drawing=drawing)
    requirement = approval_requirement(film_id=film_id)
    if verdict == Verdict.REOPEN:
        _reopen_check(version=version, role=role, note=note, requirement=requirement)
    else:
        _decidable_check(version=version)
    decision = Decision(
        version=version, reviewer=reviewer, role=role, verdict=verdict, note=note, frame=frame, drawing=drawing,
        required_roles=requirement.roles_record(), required_members=requirement.members_record(),
    )
    if verdict == Verdict.REOPEN:
        decision.outcome = VersionStatus.IN_REVIEW
    else:
        decision.outcome = approval_outcome(decisions=[*version.decisions.all(), decision], requirement=requirement)
    decision.save(force_insert=True)
    if verdict == Verdict.REOPEN:
        shot = _reopen_apply(version=version)
    else:
        shot = _outcome_set(version=version, outcome=decision.outcome)
    notify_decision(decision=decision)
    decision_announce(decision=decision, version=version, shot=shot)
    return decision


def _check_decision_place(*, version: ShotVersion, verdict: str, frame: int | None, drawing) -> None:
    """A decision's frame is one of the shot's; its drawing (valid, like a comment's) is on that frame."""
    if verdict == Verdict.REOPEN and (frame is not None or drawing is not None):
        raise ValidationError({"frame": "A reopen is about the whole version: it takes no frame or drawing."})
    if frame is not None:
        _check_frames(version=version, frame=frame, frame_end=None)
    if drawing is not None:
        if frame is None:
            raise ValidationError({"drawing": "A drawing needs the frame it is on."})
        _check_drawing(drawing)


def _decidable_check(*, version: ShotVersion) -> None:
    """Approve, request changes and reject are for a version still open for review."""
    if version.status in OPEN_VERSION_STATUSES:
        return
    hint = ""
    if version.status in CLOSED_VERSION_STATUSES:
        hint = " (a required decider may reopen it, with a reason)"
    elif version.status == VersionStatus.SUPERSEDED:
        hint = " (a newer version of the shot is in review: decide on that one)"
    raise ValidationError({"version": f"Only a version in review can be decided; this one is {version.status}{hint}."})


def _reopen_check(*, version: ShotVersion, role: str, note: str, requirement: ApprovalRequirement) -> None:
    """A reopen: with a reason, on an approved or rejected version, by a role the film's approval
    policy requires, and not while a newer version of the shot waits for review."""
    if not note.strip():
        raise ValidationError({"note": "Reopening a version needs a reason."})
    if version.status not in CLOSED_VERSION_STATUSES:
        raise ValidationError({"verdict": f"Only an approved or rejected version can be reopened; "
                                          f"this one is {version.status}."})
    required = requirement.roles
    if role not in required:
        raise PermissionDenied(f"Reopening is for the roles whose approval this film requires "
                               f"({', '.join(sorted(required))}); yours is {role}.")
    newer = version_newer_in_review(version=version)
    if newer is not None:
        raise ValidationError({"version": f"v{newer.number} of this shot is in review: decide on it instead."})


def _reopen_apply(*, version: ShotVersion) -> Shot:
    """Put the (locked, closed) version back into review; when it was the shot's approved
    version, the shot falls back to its latest other approved version, if any."""
    shot = Shot.objects.select_for_update().get(pk=version.shot_id)
    version_status_set(version=version, status=VersionStatus.IN_REVIEW)
    if shot.approved_version_id == version.pk:
        shot.approved_version = (ShotVersion.objects.filter(shot=shot, status=VersionStatus.APPROVED)
                                 .exclude(pk=version.pk).order_by("-number").first())
        shot.save(update_fields=["approved_version", "updated_at"])
    shot_status_update(shot=shot)
    return shot


def _outcome_set(*, version: ShotVersion, outcome: str) -> Shot:
    """Move the (locked, open for review) version and its shot to ``outcome``."""
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
    waiting = ShotVersion.objects.select_for_update().filter(shot__film=film, status__in=OPEN_VERSION_STATUSES)
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
