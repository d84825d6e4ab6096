"""The approval policy, as colour uses it: which roles must sign a grade, and what a grade's
decisions lead to. The rules are review's (``ApprovalPolicy``, ``policy.approval_requirement``,
``approval_outcome``: one policy per film for both tracks, by default a creator and the
archivist, evaluated against the film's members at decision time and recorded with the decision); colour sits below review in the layers, so review lends them through an
``ApprovalRules`` it registers in its ``AppConfig.ready`` (``webapp/review/colour_rules.py``),
the way live lends the catalogue its guest rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

# What ``ApprovalRules.outcome`` answers (the review track's version statuses).
APPROVED, REJECTED, UNDECIDED = "approved", "rejected", "in_review"


class ApprovalRequirement(Protocol):
    """What approval needs on a film at one moment (review's ``policy.ApprovalRequirement``)."""

    roles: frozenset[str]
    unfilled_roles: frozenset[str]

    def roles_record(self) -> list[str]: ...

    def members_record(self) -> dict[str, list[int]]: ...


class ApprovalRules(Protocol):
    def requirement(self, *, film_id: int) -> ApprovalRequirement:
        """The film's approval requirement now: its policy's roles (all of them: a role nobody
        holds keeps anything from passing) and the members holding each."""

    def outcome(self, *, decisions: Sequence[Any], requirement: ApprovalRequirement) -> str:
        """``approved``, ``rejected`` or ``in_review`` from decisions (each with ``reviewer_id``,
        ``role``, ``verdict``, ``created_at``, ``pk``; one not saved yet is the newest): each
        reviewer's latest one counts."""

    def current(self, decisions: Sequence[Any]) -> list[Any]:
        """Each reviewer's latest decision."""


_rules: ApprovalRules | None = None


def approval_rules_register(rules: ApprovalRules | None) -> None:
    """Install the rules (the last registered; None removes them)."""
    global _rules
    _rules = rules


def approval_rules() -> ApprovalRules:
    if _rules is None:
        raise ImproperlyConfigured("No approval rules for grades: install webapp.review, which registers them.")
    return _rules
