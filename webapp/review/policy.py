"""The approval policy as a rule: what a version (or a grade) of a film needs to pass, taken from the
film's policy and its members *at decision time*, and recorded with each decision.

- The required roles are the policy's (``ApprovalPolicy``; archivist and creator by default), all of
  them: a required role that nobody holds is not skipped, it is *unfilled*, and nothing passes until
  an archivist invites someone to it or changes the policy (a recorded act: ``ApprovalPolicyChange``).
- A role's approval counts when it comes from someone who approved *in that role* and who holds that
  role on the film now: removing or demoting a decider withdraws their approval from the next
  outcome, and never drops the requirement.
- The requirement is evaluated only when someone decides (or the policy changes): a membership change
  moves no version by itself, so an approval reached stays as recorded and a pending version stays
  pending until the required deciders decide.

Pure apart from ``approval_requirement``, which reads the policy and the memberships.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from webapp.catalogue.models import Membership, Role
from webapp.review.models import ApprovalPolicy

DEFAULT_REQUIRED_ROLES = frozenset({Role.ARCHIVIST.value, Role.CREATOR.value})
APPROVE = "approve"  # the approving verdict of both decision tracks (review's and colour's)


@dataclass(frozen=True)
class ApprovalRequirement:
    """What approval needs on a film at one moment: the required roles, and for each the ids of
    the members who hold it then (an empty set: the role is unfilled)."""

    roles: frozenset[str]
    members: Mapping[str, frozenset[int]]

    @property
    def unfilled_roles(self) -> frozenset[str]:
        return frozenset(role for role in self.roles if not self.members.get(role))

    def roles_record(self) -> list[str]:
        """The required roles as recorded with a decision."""
        return sorted(self.roles)

    def members_record(self) -> dict[str, list[int]]:
        """The members who held each required role, as recorded with a decision."""
        return {role: sorted(self.members.get(role, ())) for role in sorted(self.roles)}


def approval_requirement(*, film_id: int) -> ApprovalRequirement:
    """The film's approval requirement now: its policy's roles and who holds each of them."""
    policy = ApprovalPolicy.objects.filter(film_id=film_id).first()
    roles = policy.required_roles if policy is not None else DEFAULT_REQUIRED_ROLES
    members: dict[str, set[int]] = {role: set() for role in roles}
    for user_id, role in Membership.objects.filter(film_id=film_id, role__in=roles).values_list("user_id", "role"):
        members[role].add(user_id)
    return ApprovalRequirement(roles=frozenset(roles), members={r: frozenset(ids) for r, ids in members.items()})


def approval_met(*, current: Sequence[Any], requirement: ApprovalRequirement) -> bool:
    """Whether each reviewer's latest decision (``current``: objects with ``reviewer_id``, ``role``,
    ``verdict``) includes, for every required role, an approval made in that role by someone who
    holds it in ``requirement``. Never with an unfilled role."""
    if not requirement.roles or requirement.unfilled_roles:
        return False
    return all(
        any(d.verdict == APPROVE and d.role == role and d.reviewer_id in requirement.members[role] for d in current)
        for role in requirement.roles
    )
