"""Review's approval rules lent to the colour area (registered in ``ReviewConfig.ready``): a
grade is signed under the film's one ``ApprovalPolicy``, with the same pure rule as a version
(``approval_outcome``), so the two tracks can never disagree on what approval means."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webapp.colour.approval import approval_rules_register
from webapp.review.selectors import approval_required_roles, current_decisions
from webapp.review.services import approval_outcome


class ReviewApprovalRules:
    def required_roles(self, *, film_id: int) -> frozenset[str]:
        return approval_required_roles(film_id=film_id)

    def outcome(self, *, decisions: Sequence[Any], required_roles: frozenset[str]) -> str:
        return str(approval_outcome(decisions=decisions, required_roles=required_roles))

    def current(self, decisions: Sequence[Any]) -> list[Any]:
        return current_decisions(decisions)


def register() -> None:
    approval_rules_register(ReviewApprovalRules())
