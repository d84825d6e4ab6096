"""Colour's events, pushed to the film's group (``ws/films/<id>/``, ``film.<id>``) once the write
commits (best effort: the rows stay the truth). Payloads have the API's JSON shape."""

from __future__ import annotations

from webapp.colour.models import Grade, GradeDecision
from webapp.colour.serializers import GradeDecisionSerializer, GradeSerializer
from webapp.realtime import broadcast_on_commit, film_group


def grade_created_announce(*, grade: Grade) -> None:
    broadcast_on_commit(film_group(grade.film_id), {"type": "grade.created", "grade": dict(GradeSerializer(grade).data)})


def grade_decided_announce(*, decision: GradeDecision, grade: Grade) -> None:
    broadcast_on_commit(film_group(grade.film_id), {
        "type": "grade.decided",
        "decision": dict(GradeDecisionSerializer(decision).data),
        "grade": grade.pk,
        "grade_status": grade.status,
    })
