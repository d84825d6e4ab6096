"""Writes of restoration jobs. A job is a row first; sending it to Celery is a separate step
(``job_restore_dispatch`` enqueues ``tasks.restore_shot`` once the row is committed), and the
task only calls ``job_run_restore`` here."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from webapp.catalogue.models import AssetKind, Film, Shot
from webapp.catalogue.services import asset_create, version_create, version_publish
from webapp.jobs.models import JobKind, JobStatus, RestorationJob

logger = logging.getLogger(__name__)


@transaction.atomic
def job_create(
    *,
    film: Film,
    kind: str,
    created_by: AbstractBaseUser | None,
    shot: Shot | None = None,
    parent: RestorationJob | None = None,
    params: Mapping[str, Any] | None = None,
) -> RestorationJob:
    """A pending job row; nothing runs until it is dispatched."""
    if kind not in JobKind.values:
        raise ValidationError({"kind": f"Must be one of {', '.join(JobKind.values)}."})
    if shot is not None and shot.film_id != film.pk:
        raise ValidationError({"shot": "The shot belongs to another film."})
    if kind == JobKind.RESTORE and shot is None:
        raise ValidationError({"shot": "A restore job needs a shot."})
    if parent is not None and parent.film_id != film.pk:
        raise ValidationError({"parent": "The parent job belongs to another film."})
    if params is not None and not isinstance(params, Mapping):
        raise ValidationError({"params": "Must be a JSON object."})
    return RestorationJob.objects.create(
        film=film, kind=kind, shot=shot, parent=parent, params=dict(params or {}), created_by=created_by
    )


# Restoring one shot --------------------------------------------------------------------------
#
# The row is the truth; the Celery message only says "look at row N". So the task is safe to
# run twice (acks_late redelivers after a crash): a finished or cancelled job is left alone.

RESTORE_PRESETS = ("film", "clean")
PROGRESS_INTERVAL_S = 0.5  # at most two progress writes (and websocket events) a second
RESULT_EXTENSION = ".mkv"  # FFV1: lossless, so review sees exactly what the pipeline made


class _JobCancelled(Exception):
    """Raised from the progress callback to stop the pipeline when the job was cancelled."""


def job_group_name(job_id: int) -> str:
    """The channel-layer group that hears a job's progress."""
    return f"job.{job_id}"


def job_state(job: RestorationJob) -> dict[str, Any]:
    """What websocket clients are told about a job (the same on connect and after each event)."""
    return {
        "job": job.pk,
        "status": job.status,
        "progress": job.progress,
        "frames_done": job.frames_done,
        "frames_total": job.frames_total,
        "error": job.error,
        "result_version": job.result_version_id,
    }


def _broadcast(job: RestorationJob, event_type: str) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(job_group_name(job.pk), {"type": event_type, **job_state(job)})
    except Exception:  # noqa: BLE001 - live progress is a courtesy; the row stays the truth
        logger.warning("Could not send %s for job %s", event_type, job.pk, exc_info=True)


def restore_spec_resolve(*, preset: str | None = None, pipeline: Any = None) -> dict[str, Any]:
    """The pipeline spec of a restore job from a preset name or a spec, validated by the engine
    and with the ops' default parameters written out.

    Exactly one of the two; a bad one raises ``ValidationError`` naming ``preset`` or
    ``pipeline`` with the engine's message (which names the bad field inside the spec)."""
    from restoration.errors import SpecError
    from restoration.pipeline import PRESETS, validate_spec

    if (preset is None) == (pipeline is None):
        raise ValidationError({"non_field_errors": ["Give either a preset or a pipeline spec, not both or neither."]})
    if preset is not None:
        if preset not in RESTORE_PRESETS:
            raise ValidationError({"preset": f"Unknown preset {preset!r}; use one of {', '.join(RESTORE_PRESETS)}."})
        pipeline = PRESETS[preset]
    try:
        # Stored with every parameter filled in: the version records exactly what ran.
        return validate_spec(pipeline).to_dict()
    except SpecError as exc:
        raise ValidationError({"pipeline": str(exc)}) from None


def job_restore_dispatch(*, shot: Shot, user: AbstractBaseUser | None, spec: Mapping[str, Any]) -> RestorationJob:
    """A pending restore job for ``shot``, sent to the GPU queue once the row is committed."""
    if shot.source_id is None:
        raise ValidationError({"shot": "This shot has no source scan to restore from."})
    with transaction.atomic():
        job = job_create(film=shot.film, kind=JobKind.RESTORE, shot=shot, created_by=user, params={"spec": dict(spec)})
        transaction.on_commit(lambda: _enqueue_restore(job.pk))
    return job


def _enqueue_restore(job_id: int) -> None:
    from webapp.jobs.tasks import restore_shot

    result = restore_shot.delay(job_id)
    # Only fill it in while the job is still pending (an eager run has already finished it).
    RestorationJob.objects.filter(pk=job_id, celery_task_id="").update(celery_task_id=result.id or "")


@transaction.atomic
def job_cancel(*, job: RestorationJob) -> RestorationJob:
    """Cancel a pending or running job. A running task notices at its next progress report,
    stops, and removes its partial file; a finished job cannot be cancelled."""
    job = RestorationJob.objects.select_for_update().get(pk=job.pk)
    if job.is_finished:
        raise ValidationError({"non_field_errors": [f"The job has already finished ({job.status})."]})
    job.status = JobStatus.CANCELLED
    job.finished_at = timezone.now()
    job.message = "Cancelled."
    job.save(update_fields=["status", "finished_at", "message"])
    transaction.on_commit(lambda: _broadcast(job, "job.finished"))
    return job


def _job_start(job_id: int) -> RestorationJob | None:
    """Lock the row and mark it running; None when there is nothing (left) to do."""
    with transaction.atomic():
        job = RestorationJob.objects.select_for_update(of=("self",)).select_related("shot__source").filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        job.status = JobStatus.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1
        job.frames_done, job.progress, job.error = 0, 0.0, ""
        job.frames_total = job.shot.end_frame - job.shot.start_frame + 1
        job.save(update_fields=["status", "started_at", "attempts", "frames_done", "progress", "error", "frames_total"])
    _broadcast(job, "job.progress")
    return job


def _progress_reporter(job: RestorationJob):
    last_write = 0.0

    def report(done: int, total: int) -> None:
        nonlocal last_write
        status = RestorationJob.objects.filter(pk=job.pk).values_list("status", flat=True).first()
        if status != JobStatus.RUNNING:
            raise _JobCancelled()
        now = time.monotonic()
        if now - last_write < PROGRESS_INTERVAL_S and done < total:
            return
        last_write = now
        job.frames_done = min(done, job.frames_total) if job.frames_total else done
        job.progress = min(1.0, done / total) if total else 0.0
        RestorationJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            frames_done=job.frames_done, progress=job.progress
        )
        _broadcast(job, "job.progress")

    return report


def _job_finish(job: RestorationJob, *, status: str, error: str = "", message: str = "") -> None:
    """Record a failure or a cancellation, unless the row already says the job is over."""
    with transaction.atomic():
        row = RestorationJob.objects.select_for_update().get(pk=job.pk)
        if not row.is_finished:
            row.status, row.error, row.message = status, error[:2000], message
            row.finished_at = timezone.now()
            row.save(update_fields=["status", "error", "message", "finished_at"])
    row.refresh_from_db()
    _broadcast(row, "job.finished")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _result_storage_name(job: RestorationJob) -> str:
    return f"versions/{job.film_id}/shot{job.shot.number}-job{job.pk}-{uuid.uuid4().hex[:8]}{RESULT_EXTENSION}"


def job_run_restore(*, job_id: int) -> RestorationJob | None:
    """Run a restore job: the shot's frames through its spec, into a new in-review version.

    Called by the Celery task (and directly by tests). Returns the job row as it ended, or None
    when the job does not exist. Never raises for a pipeline failure: the job records it."""
    from restoration.io import probe, read_frames
    from restoration.pipeline import run_pipeline

    job = _job_start(job_id)
    if job is None:
        return RestorationJob.objects.filter(pk=job_id).first()
    shot = job.shot
    scratch = Path(settings.MEDIA_ROOT) / "tmp" / "jobs"
    scratch.mkdir(parents=True, exist_ok=True)
    temp = scratch / f"job{job.pk}-{uuid.uuid4().hex[:8]}{RESULT_EXTENSION}"
    final_path: Path | None = None
    try:
        # A shot's frames are read into memory: fine for shots, not for whole reels.
        frames = read_frames(shot.source.file.path, shot.start_frame, job.frames_total)
        run_pipeline(frames, job.params["spec"], output=temp, fps=shot.fps, device=_pipeline_device(),
                     progress=_progress_reporter(job))
        info = probe(temp)
        name = _result_storage_name(job)
        final_path = Path(settings.MEDIA_ROOT) / name
        final_path.parent.mkdir(parents=True, exist_ok=True)
        with transaction.atomic():
            row = RestorationJob.objects.select_for_update().get(pk=job.pk)
            if row.status != JobStatus.RUNNING:
                raise _JobCancelled()
            os.replace(temp, final_path)
            asset = asset_create(
                film=shot.film, kind=AssetKind.MEZZANINE, file=name, original_name=final_path.name,
                size_bytes=final_path.stat().st_size, container=info.container[:50], codec=info.codec[:50],
                width=info.width, height=info.height, fps=info.fps, frame_count=info.frame_count,
                bit_depth=info.bit_depth, pix_fmt=info.pix_fmt[:30], duration=info.duration,
            )
            version = version_create(
                shot=shot, author=job.created_by, pipeline_spec=job.params["spec"], media=asset,
                notes=f"Restored by job {job.pk}.",
            )
            version_publish(version=version)
            row.status, row.result_version = JobStatus.SUCCEEDED, version
            row.frames_done, row.progress = row.frames_total, 1.0
            row.finished_at, row.message = timezone.now(), f"Version {version.number} is ready for review."
            row.save(update_fields=["status", "result_version", "frames_done", "progress", "finished_at", "message"])
    except _JobCancelled:
        _remove(temp, final_path)
        _job_finish(job, status=JobStatus.CANCELLED, message="Cancelled.")
    except Exception as exc:  # noqa: BLE001 - any failure is the job's, recorded on its row
        _remove(temp, final_path)
        _job_finish(job, status=JobStatus.FAILED, error=_one_line(exc))
    else:
        _broadcast(row, "job.finished")
    return RestorationJob.objects.get(pk=job.pk)


def _pipeline_device() -> str:
    # Restore tasks go to the gpu queue; a worker without CUDA (a laptop, the tests) still works.
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _remove(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            path.unlink(missing_ok=True)
