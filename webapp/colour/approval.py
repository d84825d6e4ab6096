"""The approval policy, as colour uses it: which roles must sign a grade, and what a grade's
decisions lead to. The rules are review's (``ApprovalPolicy``, ``approval_required_roles``,
``approval_outcome``: one policy per film for both tracks, by default a creator and the
archivist); colour sits below review in the layers, so review lends them through an
``ApprovalRules`` it registers in its ``AppConfig.ready`` (``webapp/review/colour_rules.py``),
the way live lends the catalogue its guest rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

# What ``ApprovalRules.outcome`` answers (the review track's version statuses).
APPROVED, REJECTED, UNDECIDED = "approved", "rejected", "in_review"


class ApprovalRules(Protocol):
    def required_roles(self, *, film_id: int) -> frozenset[str]:
        """The roles whose approval counts on the film now (its policy, less roles nobody holds)."""

    def outcome(self, *, decisions: Sequence[Any], required_roles: frozenset[str]) -> str:
        """``approved``, ``rejected`` or ``in_review`` from decisions (each with ``reviewer_id``,
        ``role``, ``verdict``, ``created_at``, ``pk``): each reviewer's latest one counts."""

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
