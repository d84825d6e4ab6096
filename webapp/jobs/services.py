"""Writes of restoration jobs. A job is a row first; sending it to Celery is a separate step
(``jobs_enqueue`` once the row is committed), and each task only calls ``job_run`` here.

The row is the truth; the Celery message only says "look at row N". So a task is safe to run
twice (acks_late redelivers after a crash): a finished or cancelled job is left alone, and a
job's output becomes visible in the same transaction that marks the job succeeded.

Kinds: ``restore`` (one shot, gpu queue), ``restore_batch`` (a parent whose children are
restore jobs, one per shot; it never runs itself, its state is summed from its children),
``analyse``, ``proxies`` and ``deliver`` (cpu queue, in ``media_jobs.py``).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from restoration.api import PRESET_NAMES, default_device, is_transient_error, preset_spec, restore_frames, spec_validate
from restoration.errors import SpecError
from webapp.catalogue.ingest import asset_fields_from_probe
from webapp.catalogue.models import AssetKind, Film, Shot
from webapp.catalogue.services import asset_create, version_create, version_publish
from webapp.catalogue.status import shot_status_update
from webapp.jobs.events import job_announce, shot_status_announce, version_created_announce
from webapp.jobs.models import JobKind, JobStatus, RestorationJob

logger = logging.getLogger(__name__)

RESTORE_PRESETS = PRESET_NAMES  # the engine's preset names (restoration.api)
PROGRESS_INTERVAL_S = 0.5  # at most two progress writes (and websocket events) a second per job
RESULT_EXTENSION = ".mkv"  # FFV1: lossless, so review sees exactly what the pipeline made
TASK_BY_KIND = {
    JobKind.RESTORE: "webapp.jobs.tasks.restore_shot",
    JobKind.ANALYSE: "webapp.jobs.tasks.analyse_scan",
    JobKind.PROXIES: "webapp.jobs.tasks.render_proxies",
    JobKind.DELIVER: "webapp.jobs.tasks.deliver_film",
}
RETRYABLE = (JobStatus.FAILED, JobStatus.CANCELLED)


class JobCancelled(Exception):
    """Raised from the progress callback to stop the work when the job was cancelled."""


class JobSuperseded(JobCancelled):
    """This run is stale: the job was started again (a redelivery while this run still went on,
    e.g. after a lost worker connection). It stops without touching the row, now another run's."""


def job_check_still_running(row: RestorationJob, job: RestorationJob) -> None:
    """Raise unless ``row`` (the job's current row) is still this run's running job."""
    if row.attempts != job.attempts:
        raise JobSuperseded()
    if row.status != JobStatus.RUNNING:
        raise JobCancelled()


class JobRetryLater(Exception):
    """A transient failure: the job is pending again and its task should retry after a pause."""


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
        film=film, kind=kind, shot=shot, parent=parent, params=dict(params or {}), created_by=created_by,
        celery_task_id=_new_task_id(),
    )


def _new_task_id() -> str:
    # Chosen before the message is sent, so the row names its message without a second write.
    return str(uuid.uuid4())


def jobs_enqueue(jobs: Sequence[RestorationJob]) -> None:
    """One Celery message per job, each routed by its task's name (CELERY_TASK_ROUTES).
    Called on commit: a worker never sees a job id whose row it cannot read."""
    from webapp.config.celery import app
    from webapp.jobs import tasks  # noqa: F401 - registers the tasks with the app

    for job in jobs:
        app.tasks[TASK_BY_KIND[job.kind]].apply_async((job.pk,), task_id=job.celery_task_id)


def jobs_enqueue_on_commit(jobs: Sequence[RestorationJob]) -> None:
    jobs = list(jobs)
    transaction.on_commit(lambda: jobs_enqueue(jobs))


# Starting restores ---------------------------------------------------------------------------


def restore_spec_resolve(*, preset: str | None = None, pipeline: Any = None) -> dict[str, Any]:
    """The pipeline spec of a restore job from a preset name or a spec, validated by the engine
    and with the ops' default parameters written out.

    Exactly one of the two; a bad one raises ``ValidationError`` naming ``preset`` or
    ``pipeline`` with the engine's message (which names the bad field inside the spec)."""
    if (preset is None) == (pipeline is None):
        raise ValidationError({"non_field_errors": ["Give either a preset or a pipeline spec, not both or neither."]})
    if preset is not None and preset not in RESTORE_PRESETS:
        raise ValidationError({"preset": f"Unknown preset {preset!r}; use one of {', '.join(RESTORE_PRESETS)}."})
    try:
        # Stored with every parameter filled in: the version records exactly what ran.
        return preset_spec(preset) if preset is not None else spec_validate(pipeline)
    except SpecError as exc:
        raise ValidationError({"pipeline": str(exc)}) from None


def job_restore_dispatch(*, shot: Shot, user: AbstractBaseUser | None, spec: Mapping[str, Any]) -> RestorationJob:
    """A pending restore job for ``shot``, sent to the GPU queue once the row is committed."""
    if shot.source_id is None:
        raise ValidationError({"shot": "This shot has no source scan to restore from."})
    with transaction.atomic():
        job = job_create(film=shot.film, kind=JobKind.RESTORE, shot=shot, created_by=user, params={"spec": dict(spec)})
        jobs_enqueue_on_commit([job])
    return job


def job_batch_restore_dispatch(
    *, film: Film, shot_ids: Sequence[int] | None, user: AbstractBaseUser | None, spec: Mapping[str, Any]
) -> RestorationJob:
    """One batch job restoring many shots of ``film`` (``shot_ids`` None: all of them): a parent
    and one restore child per shot, created in one transaction (a few queries however many
    shots), each child sent to the GPU queue once committed. Shots of another film, unknown ids
    and shots without a source are refused by name, and nothing is created."""
    shots = Shot.objects.filter(film=film).order_by("number").only("pk", "number", "start_frame", "end_frame",
                                                                   "source_id", "film_id")
    if shot_ids is not None:
        wanted = list(dict.fromkeys(shot_ids))
        shots = list(shots.filter(pk__in=wanted))
        missing = sorted(set(wanted) - {shot.pk for shot in shots})
        if missing:
            raise ValidationError({"shots": f"No such shots in this film: {', '.join(map(str, missing))}."})
    else:
        shots = list(shots)
    if not shots:
        raise ValidationError({"shots": "The film has no shots to restore."})
    sourceless = [shot.number for shot in shots if shot.source_id is None]
    if sourceless:
        raise ValidationError({"shots": f"Shots without a source scan cannot be restored: {', '.join(map(str, sourceless))}."})
    with transaction.atomic():
        parent = job_create(
            film=film, kind=JobKind.RESTORE_BATCH, created_by=user,
            params={"spec": dict(spec), "shots": "all" if shot_ids is None else [shot.pk for shot in shots]},
        )
        children = RestorationJob.objects.bulk_create(
            [
                RestorationJob(
                    film=film, kind=JobKind.RESTORE, shot=shot, parent=parent, params={"spec": dict(spec)},
                    created_by=user, frames_total=shot.frame_count, celery_task_id=_new_task_id(),
                )
                for shot in shots
            ],
            batch_size=500,
        )
        parent.frames_total = sum(child.frames_total for child in children)
        parent.summary = {"children": {JobStatus.PENDING: len(children)}, "failed_shots": []}
        parent.save(update_fields=["frames_total", "summary"])
        jobs_enqueue_on_commit(children)
    return parent


# Cancel and retry ----------------------------------------------------------------------------


@transaction.atomic
def job_cancel(*, job: RestorationJob) -> RestorationJob:
    """Cancel a pending or running job (a batch: with its unfinished children). A running task
    notices at its next progress report, stops, and removes its partial output."""
    job = RestorationJob.objects.select_for_update().get(pk=job.pk)
    if job.is_finished:
        raise ValidationError({"non_field_errors": [f"The job has already finished ({job.status})."]})
    now = timezone.now()
    job.status, job.finished_at, job.message = JobStatus.CANCELLED, now, "Cancelled."
    job.save(update_fields=["status", "finished_at", "message"])
    if job.is_batch:
        job.children.filter(status__in=(JobStatus.PENDING, JobStatus.RUNNING)).update(
            status=JobStatus.CANCELLED, finished_at=now, message="Cancelled with its batch."
        )
        _batch_sync(job.pk)
    elif job.parent_id is not None:
        _batch_sync(job.parent_id)
    job.refresh_from_db()
    transaction.on_commit(lambda: job_announce(job, "job.finished"))
    return job


@transaction.atomic
def job_retry(*, job: RestorationJob) -> RestorationJob:
    """Run a failed or cancelled job again as a new attempt (a batch: its failed and cancelled
    children; a batch's child: that shot, reopening its batch). Returns the job, pending again."""
    job = RestorationJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in RETRYABLE:
        raise ValidationError(
            {"non_field_errors": [f"Only a failed or cancelled job can be retried; this one is {job.status}."]}
        )
    if job.is_batch:
        again = list(job.children.select_for_update().filter(status__in=RETRYABLE))
        if not again:
            raise ValidationError({"non_field_errors": ["None of this batch's shots failed or were cancelled."]})
        parent_id = job.pk
    else:
        again = [job]
        parent_id = job.parent_id
    for row in again:
        row.status, row.error, row.message = JobStatus.PENDING, "", f"Retry requested after {row.attempts} attempts."
        row.progress, row.frames_done, row.started_at, row.finished_at = 0.0, 0, None, None
        row.attempts, row.celery_task_id = 0, _new_task_id()
    RestorationJob.objects.bulk_update(
        again, ["status", "error", "message", "progress", "frames_done", "started_at", "finished_at", "attempts",
                "celery_task_id"],
        batch_size=500,
    )
    if parent_id is not None:
        # The batch is open again; _batch_sync works out whether it is pending or running.
        RestorationJob.objects.filter(pk=parent_id).update(
            status=JobStatus.PENDING, finished_at=None, error="", message="Retrying failed shots."
        )
        _batch_sync(parent_id, announce=False)
    jobs_enqueue_on_commit(again)
    job.refresh_from_db()
    transaction.on_commit(lambda: job_announce(job, "job.progress"))
    return job


# Batches -------------------------------------------------------------------------------------


def _batch_sync(parent_id: int, *, announce: bool = True) -> RestorationJob | None:
    """Sum a batch's children into its row (under the row's lock): counts by status, failed
    shots, frames done; it runs once a child runs and finishes once every child has."""
    with transaction.atomic():
        parent = RestorationJob.objects.select_for_update().filter(pk=parent_id).first()
        if parent is None:
            return None
        children = RestorationJob.objects.filter(parent_id=parent_id)
        counts = dict(children.order_by().values_list("status").annotate(n=Count("id")))
        frames = children.aggregate(done=Sum("frames_done"), total=Sum("frames_total"))
        failed = [
            {"shot": shot, "number": number, "error": error}
            for shot, number, error in children.filter(status=JobStatus.FAILED)
            .order_by("shot__number").values_list("shot_id", "shot__number", "error")
        ]
        parent.summary = {"children": counts, "failed_shots": failed}
        parent.frames_done, parent.frames_total = frames["done"] or 0, frames["total"] or 0
        parent.progress = min(1.0, parent.frames_done / parent.frames_total) if parent.frames_total else 0.0
        total = sum(counts.values())
        finished = sum(counts.get(status, 0) for status in RestorationJob.FINISHED)
        now = timezone.now()
        if not parent.is_finished:
            if total and finished == total:
                parent.started_at = parent.started_at or now
                parent.finished_at = now
                if counts.get(JobStatus.SUCCEEDED, 0) == total:
                    parent.status, parent.error = JobStatus.SUCCEEDED, ""
                    parent.message = f"All {total} shots restored."
                else:
                    parent.status = JobStatus.FAILED
                    parent.error = (f"{len(failed)} of {total} shots failed, "
                                    f"{counts.get(JobStatus.CANCELLED, 0)} cancelled.")
                    parent.message = f"{counts.get(JobStatus.SUCCEEDED, 0)} of {total} shots restored."
            elif counts.get(JobStatus.PENDING, 0) < total:
                parent.status, parent.started_at = JobStatus.RUNNING, parent.started_at or now
        parent.save(update_fields=["summary", "frames_done", "frames_total", "progress", "status", "started_at",
                                   "finished_at", "error", "message"])
    if announce:
        job_announce(parent, "job.finished" if parent.is_finished else "job.progress")
    return parent


# Running a job -------------------------------------------------------------------------------


def job_run(*, job_id: int, final_attempt: bool = True) -> RestorationJob | None:
    """Run a job, whatever its kind: called by its Celery task (and directly by tests).

    Returns the job row as it ended, or None when the job does not exist. A failure is recorded
    on the row, never raised, except a transient one (database or broker unreachable, disk
    full, GPU memory) while ``final_attempt`` is False: the job goes back to pending and
    ``JobRetryLater`` tells the task to retry it after a pause."""
    from webapp.jobs.media_jobs import RUNNERS

    job = _job_start(job_id)
    if job is None:
        row = RestorationJob.objects.filter(pk=job_id).select_related("result_version__media").first()
        if row is not None and row.status == JobStatus.SUCCEEDED and row.result_version_id is not None:
            # Redelivered after a crash between the commit and the previews: finish those.
            _version_previews(row)
        return row
    leftovers: list[Path] = []  # partial outputs to remove if the job does not succeed
    try:
        RUNNERS[job.kind](job, leftovers)
    except JobSuperseded:
        _remove(*leftovers)
        return RestorationJob.objects.get(pk=job.pk)
    except JobCancelled:
        _remove(*leftovers)
        _job_finish(job, status=JobStatus.CANCELLED, message="Cancelled.")
    except Exception as exc:  # noqa: BLE001 - any failure is the job's, recorded on its row
        _remove(*leftovers)
        if not final_attempt and is_transient(exc):
            _job_requeue(job, exc)
            raise JobRetryLater(_one_line(exc)) from exc
        _job_finish(job, status=JobStatus.FAILED, error=_one_line(exc))
    finally:
        if job.kind == JobKind.RESTORE:
            _shot_restoration_ended(job)
    return RestorationJob.objects.get(pk=job.pk)


# Connections that dropped or timed out: the database or broker may be back soon (the engine's
# own transient errors, a full disk or the GPU out of memory, are ``is_transient_error``'s).
TRANSIENT_ERRNOS = frozenset({errno.ETIMEDOUT, errno.ECONNRESET, errno.ECONNREFUSED, errno.EIO, errno.EAGAIN})


def is_transient(exc: BaseException) -> bool:
    """Whether waiting and trying again may help: the database or Redis was unreachable, the
    disk was full or the GPU out of memory. Bad input or a bug fails at once."""
    from django.db import InterfaceError, OperationalError

    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis is a dependency
        RedisConnectionError = RedisTimeoutError = ()  # noqa: N806

    if isinstance(exc, (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)):
        return True
    if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
        return True
    return is_transient_error(exc)


def _job_start(job_id: int) -> RestorationJob | None:
    """Lock the row and mark it running; None when there is nothing (left) to do. A job whose
    worker died too often (hard time limit, out of memory) is failed instead of run again."""
    with transaction.atomic():
        job = (RestorationJob.objects.select_for_update(of=("self",)).select_related("shot__source", "film")
               .filter(pk=job_id).first())
        if job is None or job.is_finished or job.is_batch:
            return None
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            job.status, job.finished_at = JobStatus.FAILED, timezone.now()
            job.error = f"Gave up after {job.attempts} attempts: the worker stopped each time (time limit or crash)."
            job.save(update_fields=["status", "finished_at", "error"])
            started = False
        else:
            job.status, job.started_at, job.finished_at = JobStatus.RUNNING, timezone.now(), None
            job.attempts += 1
            job.frames_done, job.progress, job.error = 0, 0.0, ""
            if job.shot is not None:
                job.frames_total = job.shot.frame_count
            job.save(update_fields=["status", "started_at", "finished_at", "attempts", "frames_done", "progress",
                                    "error", "frames_total"])
            started = True
            if job.kind == JobKind.RESTORE:
                shot_status_update(shot=job.shot, restoring=True)
            _remove_scratch_of(job)
    if job.parent_id is not None:
        _batch_sync(job.parent_id)
    if not started:
        job_announce(job, "job.finished")
        return None
    job_announce(job, "job.progress")
    if job.kind == JobKind.RESTORE:
        shot_status_announce(job.shot)
    return job


def progress_reporter(job: RestorationJob, *, share: tuple[float, float] = (0.0, 1.0),
                      count_frames: bool = True) -> Callable[[int, int | None], None]:
    """A ``progress(done, total)`` callback for the engine: raises ``JobCancelled`` once the job
    is no longer running; writes the row and tells listeners at most every PROGRESS_INTERVAL_S.
    ``share`` maps this stage onto part of the job's progress (analysis, then proxies)."""
    last_write = 0.0
    low, high = share

    def report(done: int, total: int | None) -> None:
        nonlocal last_write
        job_check_still_running(RestorationJob.objects.only("status", "attempts").get(pk=job.pk), job)
        now = time.monotonic()
        if now - last_write < PROGRESS_INTERVAL_S and (total is None or done < total):
            return
        last_write = now
        fraction = min(1.0, done / total) if total else 0.0
        if count_frames:
            job.frames_done = min(done, job.frames_total) if job.frames_total else done
        job.progress = low + (high - low) * fraction
        RestorationJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts).update(
            frames_done=job.frames_done, progress=job.progress
        )
        job_announce(job, "job.progress")
        if job.parent_id is not None:
            _batch_sync(job.parent_id)

    return report


def _job_finish(job: RestorationJob, *, status: str, error: str = "", message: str = "") -> None:
    """Record a failure or a cancellation, unless the row already says the job is over."""
    with transaction.atomic():
        row = RestorationJob.objects.select_for_update().get(pk=job.pk)
        if row.attempts != job.attempts:
            return  # superseded: the row is another run's
        if not row.is_finished:
            row.status, row.error, row.message = status, error[:2000], message
            row.finished_at = timezone.now()
            row.save(update_fields=["status", "error", "message", "finished_at"])
    job_finished_sync(row.pk)


def job_finished_sync(job_id: int) -> None:
    """After a job's last write: its batch sums it in, listeners hear of it."""
    row = RestorationJob.objects.select_related("shot").get(pk=job_id)
    if row.parent_id is not None:
        _batch_sync(row.parent_id)
    job_announce(row, "job.finished")


def _job_requeue(job: RestorationJob, exc: BaseException) -> None:
    """Back to pending before a retry, so the row does not claim a worker is on it."""
    try:
        RestorationJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts).update(
            status=JobStatus.PENDING, message=f"Retrying after a transient error: {_one_line(exc)}"[:500]
        )
    except Exception:  # noqa: BLE001 - the database may be what failed; the retry will start it again
        logger.warning("Could not mark job %s pending before its retry", job.pk, exc_info=True)


def _shot_restoration_ended(job: RestorationJob) -> None:
    """The shot leaves in_restoration once no restore job of it is running any more."""
    try:
        with transaction.atomic():
            shot = Shot.objects.select_for_update().get(pk=job.shot_id)
            if RestorationJob.objects.filter(shot_id=shot.pk, kind=JobKind.RESTORE, status=JobStatus.RUNNING).exists():
                return
            before = shot.status
            shot_status_update(shot=shot, restoring=False)
        if shot.status != before:
            shot_status_announce(shot)
    except Exception:  # noqa: BLE001 - the next job or decision on the shot derives it again
        logger.warning("Could not refresh the status of shot %s after job %s", job.shot_id, job.pk, exc_info=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _remove(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            path.unlink(missing_ok=True)


# Restoring one shot --------------------------------------------------------------------------


def _scratch_dir() -> Path:
    scratch = Path(settings.MEDIA_ROOT) / "tmp" / "jobs"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


def scratch_path(job: RestorationJob, extension: str) -> Path:
    """A temporary output name under MEDIA_ROOT (same disk as the final name: renaming is atomic)."""
    return _scratch_dir() / f"job{job.pk}-{uuid.uuid4().hex[:8]}{extension}"


def _remove_scratch_of(job: RestorationJob) -> None:
    """Partial outputs of the job's earlier attempts (a worker killed mid-job cannot clean up;
    the encoder's own temporary names start with a dot)."""
    pattern = re.compile(rf"^\.?job{job.pk}-")
    with os.scandir(_scratch_dir()) as entries:
        for entry in entries:
            if pattern.match(entry.name) and entry.is_file():
                Path(entry.path).unlink(missing_ok=True)


def restore_run(job: RestorationJob, leftovers: list[Path]) -> None:
    """The shot's frames through its spec, into a new in-review version, committed together
    with the job's success; then the version's review previews."""
    shot = job.shot
    temp = scratch_path(job, RESULT_EXTENSION)
    leftovers.append(temp)
    # Restore tasks go to the gpu queue; a worker without CUDA (a laptop, the tests) still works.
    ran = restore_frames(shot.source.file.path, temp, spec=job.params["spec"], start=shot.start_frame,
                         count=job.frames_total, fps=shot.fps, device=default_device(),
                         progress=progress_reporter(job))
    name = f"versions/{job.film_id}/shot{shot.number}-job{job.pk}-{uuid.uuid4().hex[:8]}{RESULT_EXTENSION}"
    final_path = Path(settings.MEDIA_ROOT) / name
    final_path.parent.mkdir(parents=True, exist_ok=True)
    leftovers.append(final_path)
    with transaction.atomic():
        row = RestorationJob.objects.select_for_update().get(pk=job.pk)
        job_check_still_running(row, job)
        os.replace(temp, final_path)
        asset = asset_create(film=shot.film, kind=AssetKind.MEZZANINE, file=name, original_name=final_path.name,
                             **asset_fields_from_probe(ran.info, path=final_path))
        version = version_create(
            shot=shot, author=job.created_by, pipeline_spec=ran.spec, media=asset,
            notes=f"Restored by job {job.pk}: {ran.summary}.",
        )
        version_publish(version=version)
        row.status, row.result_version = JobStatus.SUCCEEDED, version
        row.frames_done, row.progress = row.frames_total, 1.0
        row.finished_at, row.message = timezone.now(), f"Version {version.number} is ready for review."
        row.save(update_fields=["status", "result_version", "frames_done", "progress", "finished_at", "message"])
    leftovers.clear()  # committed: the file is the version's now
    _version_previews(row)
    version_created_announce(version, film_id=job.film_id)
    shot_status_announce(Shot.objects.get(pk=shot.pk))  # in review now (version_publish)
    job_finished_sync(row.pk)


def _version_previews(job: RestorationJob) -> None:
    """Review proxies, thumbnail and filmstrip of a restore job's version. Idempotent, and
    never fails the job: the viewer decodes a missing proxy frame on demand."""
    from webapp.catalogue.previews import previews_render

    try:
        previews_render(asset=job.result_version.media)
    except Exception:  # noqa: BLE001 - previews are a cache of the committed media
        logger.warning("Could not render the previews of version %s", job.result_version_id, exc_info=True)
