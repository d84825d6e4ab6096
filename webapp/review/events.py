"""Events pushed to everyone watching a shot: ``ws/shots/<shot_id>/``, channel group ``shot.<id>``.

Writes announce themselves only once their transaction has committed, so a listener never hears
of a comment or decision that was rolled back. Payloads have the API's JSON shape.
"""

from __future__ import annotations

from webapp.catalogue.models import Shot, ShotVersion
from webapp.realtime import broadcast_on_commit, shot_group
from webapp.review.models import Comment, Decision
from webapp.review.serializers import CommentSerializer, DecisionSerializer


def _send_on_commit(shot_id: int, event: dict) -> None:
    broadcast_on_commit(shot_group(shot_id), event)


def comment_announce(*, comment: Comment, created: bool) -> None:
    event = {"type": "comment.created" if created else "comment.updated", "comment": dict(CommentSerializer(comment).data)}
    _send_on_commit(comment.version.shot_id, event)


def decision_announce(*, decision: Decision, version: ShotVersion, shot: Shot) -> None:
    _send_on_commit(shot.pk, {
        "type": "decision.recorded",
        "decision": dict(DecisionSerializer(decision).data),
        "version_status": version.status,
        "shot_status": shot.status,
        "approved_version": shot.approved_version_id,
    })


def version_created_announce(*, version: ShotVersion) -> None:
    """A version became reviewable on the shot (published by hand or by a restore job)."""
    _send_on_commit(version.shot_id, {
        "type": "version.created", "shot": version.shot_id, "version": version.pk, "number": version.number,
        "status": version.status,
    })
