"""Review's approval rules lent to the colour area (registered in ``ReviewConfig.ready``): a
grade is signed under the film's one ``ApprovalPolicy``, with the same pure rule as a version
(``approval_outcome``), so the two tracks can never disagree on what approval means."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webapp.colour.approval import approval_rules_register
from webapp.review.policy import ApprovalRequirement, approval_requirement
from webapp.review.selectors import current_decisions
from webapp.review.services import approval_outcome


class ReviewApprovalRules:
    def requirement(self, *, film_id: int) -> ApprovalRequirement:
        return approval_requirement(film_id=film_id)

    def outcome(self, *, decisions: Sequence[Any], requirement: ApprovalRequirement) -> str:
        return str(approval_outcome(decisions=decisions, requirement=requirement))

    def current(self, decisions: Sequence[Any]) -> list[Any]:
        return current_decisions(decisions)


def register() -> None:
    approval_rules_register(ReviewApprovalRules())
