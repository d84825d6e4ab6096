"""Reads of review data. Every queryset starts from ``access.visible_films(user)``; comments (and
the versions they are on) also include what a guest sees: ``access.guest_versions(user)``."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from webapp.catalogue.access import ALLOWED_ROLES, Action, film_role, guest_versions, visible_films
from webapp.catalogue.models import Membership, Role, ShotVersion, VersionStatus
from webapp.catalogue.status import CLOSED_VERSION_STATUSES, OPEN_VERSION_STATUSES, version_newer_in_review
from webapp.review.models import ApprovalPolicy, Comment, Decision, Verdict

User = AbstractBaseUser | AnonymousUser
DEFAULT_REQUIRED_ROLES = frozenset({Role.ARCHIVIST, Role.CREATOR})


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


def decision_list(*, user: User) -> QuerySet[Decision]:
    return Decision.objects.filter(version__shot__film__in=visible_films(user=user).values("pk")).select_related(
        "version__shot", "reviewer"
    )


def approval_policy_list(*, user: User) -> QuerySet[ApprovalPolicy]:
    return ApprovalPolicy.objects.filter(film__in=visible_films(user=user).values("pk")).select_related("film")


def decision_summary(*, version: ShotVersion, user: User) -> dict:
    """What the decisions panel shows: the required roles, each reviewer's current verdict,
    whether this user may decide now (with the reason when not) or reopen the version, and the
    changes requested on the version before it."""
    film_id = version.shot.film_id
    decisions = list(decision_list(user=user).filter(version=version))
    role = film_role(user=user, film_id=film_id)
    required_roles = approval_required_roles(film_id=film_id)
    reason = ""
    if role not in ALLOWED_ROLES[Action.DECIDE]:
        reason = f"Only archivists and creators decide; your role on this film is {role or 'none'}."
    elif version.status == VersionStatus.SUPERSEDED:
        reason = "A newer version of this shot is in review: decide on that one."
    elif version.status not in OPEN_VERSION_STATUSES:
        reason = f"Only a version in review can be decided; this one is {version.get_status_display().lower()}."
    can_reopen = (role in required_roles and version.status in CLOSED_VERSION_STATUSES
                  and version_newer_in_review(version=version) is None)
    return {
        "version": version.pk,
        "status": version.status,
        "required_roles": sorted(required_roles),
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
    (never edits) an older one, and a reopen sets every verdict before it aside."""
    latest: dict[int, Decision] = {}
    for decision in sorted(decisions, key=lambda d: (d.created_at, d.pk)):
        if decision.verdict == Verdict.REOPEN:
            latest = {}
        else:
            latest[decision.reviewer_id] = decision
    return list(latest.values())


def approval_required_roles(*, film_id: int) -> frozenset[str]:
    """The roles whose approval a version of this film needs.

    The film's ``ApprovalPolicy`` (default: archivist and creator), less the roles nobody holds
    on the film: a film without a creator member is approved by its archivists alone. When the
    film has members for none of the policy's roles, any deciding role's approval counts.
    """
    policy = ApprovalPolicy.objects.filter(film_id=film_id).first()
    wanted = policy.required_roles if policy is not None else DEFAULT_REQUIRED_ROLES
    held = set(Membership.objects.filter(film_id=film_id).values_list("role", flat=True))
    return frozenset(wanted & held) or frozenset(ALLOWED_ROLES[Action.DECIDE] & held)
