"""What the workers tell websocket listeners: channel groups and the payloads sent to them.

Two groups hear about a job: ``job.<id>`` (``ws/jobs/<id>/``) and its film's ``film.<id>``
(``ws/films/<id>/``), which also hears of shot status changes and new versions. Sending is a
courtesy: the database row stays the truth, so a failed send is logged, never raised.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from webapp.catalogue.models import Shot, ShotVersion
from webapp.jobs.models import RestorationJob
from webapp.realtime import broadcast, film_group, job_group

logger = logging.getLogger(__name__)




def job_state(job: RestorationJob) -> dict[str, Any]:
    """What websocket clients are told about a job (the same on connect and after each event)."""
    return {
        "job": job.pk,
        "kind": job.kind,
        "film": job.film_id,
        "shot": job.shot_id,
        "parent": job.parent_id,
        "status": job.status,
        "progress": job.progress,
        "frames_done": job.frames_done,
        "frames_total": job.frames_total,
        "eta_seconds": job.eta_seconds,
        "children_summary": job.children_summary,
        "failed_shots": job.failed_shots,
        "message": job.message,
        "error": job.error,
        "result_version": job.result_version_id,
    }


def job_announce(job: RestorationJob, event_type: str) -> None:
    """``job.progress`` or ``job.finished`` to the job's group and its film's group, stamped with
    the time it was sent (``sent_at``, Unix seconds: lets listeners measure the lag)."""
    broadcast([job_group(job.pk), film_group(job.film_id)],
          {"type": event_type, **job_state(job), "sent_at": time.time()})


def shot_status_announce(shot: Shot) -> None:
    broadcast([film_group(shot.film_id)], {"type": "shot.status", "shot": shot.pk, "status": shot.status})


def version_created_announce(version: ShotVersion, *, film_id: int) -> None:
    broadcast([film_group(film_id)], {
        "type": "version.created", "shot": version.shot_id, "version": version.pk, "number": version.number,
    })
