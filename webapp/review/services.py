"""Writes of review data: comments (with drawings) and append-only decisions.

A decision moves the version (and through it the shot) according to an approval policy: a pure
function of the version's decisions, so the rule can be swapped without touching the recording.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from webapp.catalogue.access import ALLOWED_ROLES, Action, can, film_role
from webapp.catalogue.models import Role, Shot, ShotVersion, VersionStatus
from webapp.catalogue.services import shot_status_refresh
from webapp.review.drawing import DrawingError, validate_drawing
from webapp.review.models import Comment, Decision, Verdict

# Comments ------------------------------------------------------------------------------------


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
    _check_text(text)
    _check_frames(version=version, frame=frame, frame_end=frame_end)
    _check_drawing(drawing)
    if reply_to is not None and reply_to.version_id != version.pk:
        raise ValidationError({"reply_to": "The comment replied to is on another version."})
    return Comment.objects.create(
        version=version, author=author, frame=frame, frame_end=frame_end, text=text, drawing=drawing,
        reply_to=reply_to,
    )


@transaction.atomic
def comment_update(
    *, comment: Comment, editor: AbstractBaseUser, text: str | None = None, resolved: bool | None = None
) -> Comment:
    """Authors edit their own text and resolve their comments; archivists (and staff) resolve any."""
    film_id = comment.version.shot.film_id
    is_author = comment.author_id == editor.pk
    if text is not None and not is_author:
        raise PermissionDenied("Only the author can edit a comment's text.")
    if resolved is not None and not is_author and not can(user=editor, film_id=film_id, action=Action.EDIT_FILM):
        raise PermissionDenied("Only the author or an archivist can resolve a comment.")
    fields = []
    if text is not None:
        comment.text = _check_text(text)
        fields.append("text")
    if resolved is not None:
        comment.resolved = resolved
        fields.append("resolved")
    if fields:
        comment.save(update_fields=[*fields, "updated_at"])
    return comment


# Decisions -----------------------------------------------------------------------------------

ApprovalPolicy = Callable[..., str]


def current_decisions(decisions: Sequence[Decision]) -> list[Decision]:
    """Each reviewer's latest decision: a newer one supersedes (never edits) an older one."""
    latest: dict[int, Decision] = {}
    for decision in sorted(decisions, key=lambda d: (d.created_at, d.pk)):
        latest[decision.reviewer_id] = decision
    return list(latest.values())


def approval_needs_archivist_and_creator(*, version: ShotVersion, decisions: Sequence[Decision]) -> str:
    """The default policy: the version status that the decisions lead to.

    Any current reject rejects; an archivist's and a creator's current approvals approve;
    anything else (changes requested, only one side approved) keeps the version in review.
    """
    current = current_decisions(decisions)
    if any(d.verdict == Verdict.REJECT for d in current):
        return VersionStatus.REJECTED
    approving_roles = {d.role for d in current if d.verdict == Verdict.APPROVE}
    if {Role.ARCHIVIST, Role.CREATOR} <= approving_roles:
        return VersionStatus.APPROVED
    return VersionStatus.IN_REVIEW


DEFAULT_APPROVAL_POLICY: ApprovalPolicy = approval_needs_archivist_and_creator


@transaction.atomic
def decision_record(
    *,
    version: ShotVersion,
    reviewer: AbstractBaseUser,
    verdict: str,
    note: str = "",
    policy: ApprovalPolicy = DEFAULT_APPROVAL_POLICY,
) -> Decision:
    """Record a verdict with the reviewer's role at this moment, then apply the approval policy.

    A decision speaks for a role on the film, so the reviewer needs a deciding role there;
    staff without one cannot decide (they can join the film as archivist or creator).
    """
    version = ShotVersion.objects.select_for_update().select_related("shot").get(pk=version.pk)
    role = film_role(user=reviewer, film_id=version.shot.film_id)
    if role not in ALLOWED_ROLES[Action.DECIDE]:
        raise PermissionDenied(
            "Deciding needs the archivist or creator role on this film"
            + (f"; yours is {role}." if role else "; you are not a member of it.")
        )
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": f"Must be one of {', '.join(Verdict.values)}."})
    if version.status != VersionStatus.IN_REVIEW:
        raise ValidationError({"version": f"Only a version in review can be decided; this one is {version.status}."})
    decision = Decision.objects.create(version=version, reviewer=reviewer, role=role, verdict=verdict, note=note)

    outcome = policy(version=version, decisions=list(version.decisions.all()))
    if outcome != version.status:
        version.status = outcome
        version.save(update_fields=["status"])
        shot = Shot.objects.select_for_update().get(pk=version.shot_id)
        if outcome == VersionStatus.APPROVED:
            shot.approved_version = version
            shot.save(update_fields=["approved_version", "updated_at"])
        shot_status_refresh(shot=shot)
    return decision
