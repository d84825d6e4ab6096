"""Reads of review data. Every queryset starts from ``access.visible_films(user)``; comments (and
the versions they are on) also include what a guest sees: ``access.guest_versions(user)``."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from webapp.catalogue.access import ALLOWED_ROLES, Action, film_role, guest_versions, visible_films
from webapp.catalogue.models import ShotVersion, VersionStatus
from webapp.catalogue.status import CLOSED_VERSION_STATUSES, OPEN_VERSION_STATUSES, version_newer_in_review
from webapp.review.models import ApprovalPolicy, ApprovalPolicyChange, Comment, CommentRevision, Decision, Verdict
from webapp.review.policy import approval_requirement

User = AbstractBaseUser | AnonymousUser


def comment_version_list(*, user: User) -> QuerySet[ShotVersion]:
    """Versions whose comments the user reads (and may name when commenting): those of their films,
    and for a guest the versions of their session's playlist."""
    return ShotVersion.objects.filter(
        Q(shot__film__in=visible_films(user=user).values("pk")) | Q(pk__in=guest_versions(user=user).values("pk"))
    ).select_related("shot", "author")


def comment_list(*, user: User) -> QuerySet[Comment]:
    return Comment.objects.filter(
        Q(version__shot__film__in=visible_films(user=user).values("pk"))
        | Q(version__in=guest_versions(user=user).values("pk"))
    ).select_related("version__shot", "author__guest_invite")


def comment_history(*, comment: Comment) -> QuerySet[CommentRevision]:
    """A comment's revisions, oldest first (see ``CommentRevision``)."""
    return comment.revisions.select_related("editor__guest_invite").order_by("edited_at", "id")


def decision_list(*, user: User) -> QuerySet[Decision]:
    return Decision.objects.filter(version__shot__film__in=visible_films(user=user).values("pk")).select_related(
        "version__shot", "reviewer"
    )


def approval_policy_list(*, user: User) -> QuerySet[ApprovalPolicy]:
    return ApprovalPolicy.objects.filter(film__in=visible_films(user=user).values("pk")).select_related("film")


def approval_policy_change_list(*, user: User) -> QuerySet[ApprovalPolicyChange]:
    return ApprovalPolicyChange.objects.filter(film__in=visible_films(user=user).values("pk")).select_related(
        "changed_by"
    )


def decision_summary(*, version: ShotVersion, user: User) -> dict:
    """What the decisions panel shows: the required roles (and those nobody holds, which keep any
    version from passing), each reviewer's current verdict, whether this user may decide now (with
    the reason when not) or reopen the version, and the changes requested on the version before it."""
    film_id = version.shot.film_id
    decisions = list(decision_list(user=user).filter(version=version))
    role = film_role(user=user, film_id=film_id)
    requirement = approval_requirement(film_id=film_id)
    reason = ""
    if role not in ALLOWED_ROLES[Action.DECIDE]:
        reason = f"Only archivists and creators decide; your role on this film is {role or 'none'}."
    elif version.status == VersionStatus.SUPERSEDED:
        reason = "A newer version of this shot is in review: decide on that one."
    elif version.status not in OPEN_VERSION_STATUSES:
        reason = f"Only a version in review can be decided; this one is {version.get_status_display().lower()}."
    can_reopen = (role in requirement.roles and version.status in CLOSED_VERSION_STATUSES
                  and version_newer_in_review(version=version) is None)
    return {
        "version": version.pk,
        "status": version.status,
        "required_roles": requirement.roles_record(),
        "unfilled_roles": sorted(requirement.unfilled_roles),
        "current": current_decisions(decisions),
        "my_role": role,
        "can_decide": not reason,
        "reason": reason,
        "can_reopen": can_reopen,
        "changes_requested_on": changes_carried_to(version=version, user=user),
    }


def changes_carried_to(*, version: ShotVersion, user: User) -> dict | None:
    """The change requests standing on the version published before ``version`` (its reviewers'
    current "changes requested" verdicts, with their notes, frames and drawings): what the new
    version was made to answer. None when there were none."""
    previous = (ShotVersion.objects.filter(shot_id=version.shot_id, number__lt=version.number)
                .exclude(status=VersionStatus.DRAFT).order_by("-number").first())
    if previous is None:
        return None
    requests = [d for d in current_decisions(list(decision_list(user=user).filter(version=previous)))
                if d.verdict == Verdict.CHANGES_REQUESTED]
    if not requests:
        return None
    return {"version": previous.pk, "number": previous.number, "requests": requests}


def current_decisions(decisions: Sequence[Decision]) -> list[Decision]:
    """Each reviewer's latest verdict since the version was last reopened: a newer one supersedes
    (never edits) an older one, and a reopen sets every verdict before it aside. A decision not saved
    yet (being recorded) is the newest."""
    latest: dict[int, Decision] = {}
    for decision in sorted(decisions, key=lambda d: (d.pk is None, d.created_at, d.pk or 0)):
        if decision.verdict == Verdict.REOPEN:
            latest = {}
        else:
            latest[decision.reviewer_id] = decision
    return list(latest.values())
