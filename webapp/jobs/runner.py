"""Running a job, whatever its kind: ``job_run`` (called by the one Celery task, and directly
by tests) locks the row, marks it running and hands it to its kind's runner (``registry``);
failures are recorded on the row, transient ones sent back to be retried.

The row is the truth; the Celery message only says "look at row N". So a task is safe to run
twice (acks_late redelivers after a crash): a finished or cancelled job is left alone, and a
job's output becomes visible in the same transaction that marks the job succeeded.
"""

from __future__ import annotations

import errno
import logging
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from restoration.api import is_transient_error
from webapp.jobs.events import job_announce, shot_status_announce
from webapp.jobs.lifecycle import JobCancelled, JobSuperseded, batch_sync, job_finished_sync
from webapp.jobs.models import JobStatus, RestorationJob
from webapp.jobs.registry import runner_for
from webapp.jobs.runtime import remove, remove_scratch_of

logger = logging.getLogger(__name__)


class JobRetryLater(Exception):
    """A transient failure: the job is pending again and its task should retry after a pause."""


def job_run(*, job_id: int, final_attempt: bool = True) -> RestorationJob | None:
    """Run a job, whatever its kind: called by its Celery task (and directly by tests).

    Returns the job row as it ended, or None when the job does not exist. A failure is recorded
    on the row, never raised, except a transient one (database or broker unreachable, disk
    full, GPU memory) while ``final_attempt`` is False: the job goes back to pending and
    ``JobRetryLater`` tells the task to retry it after a pause."""
    job = _job_start(job_id)
    if job is None:
        row = RestorationJob.objects.filter(pk=job_id).first()
        if row is not None and row.status == JobStatus.SUCCEEDED and not row.is_batch:
            redelivered = runner_for(row.kind).redelivered
            if redelivered is not None:
                redelivered(row)  # e.g. a crash came between the commit and the previews
        return row
    runner = runner_for(job.kind)
    leftovers: list[Path] = []  # partial outputs to remove if the job does not succeed
    try:
        runner.run(job, leftovers)
    except JobSuperseded:
        remove(*leftovers)
        return RestorationJob.objects.get(pk=job.pk)
    except JobCancelled:
        remove(*leftovers)
        _job_finish(job, status=JobStatus.CANCELLED, message="Cancelled.")
    except Exception as exc:  # noqa: BLE001 - any failure is the job's, recorded on its row
        remove(*leftovers)
        if not final_attempt and is_transient(exc):
            _job_requeue(job, exc)
            raise JobRetryLater(_one_line(exc)) from exc
        _job_finish(job, status=JobStatus.FAILED, error=_one_line(exc))
    finally:
        if runner.ended is not None:
            runner.ended(job)
    return RestorationJob.objects.get(pk=job.pk)


# Connections that dropped or timed out: the database or broker may be back soon (the engine's
# own transient errors, a full disk or the GPU out of memory, are ``is_transient_error``'s).
TRANSIENT_ERRNOS = frozenset({errno.ETIMEDOUT, errno.ECONNRESET, errno.ECONNREFUSED, errno.EIO, errno.EAGAIN})




def is_transient(exc: BaseException) -> bool:
    """Whether waiting and trying again may help: the database or Redis was unreachable, the
    disk was full or the GPU out of memory. Bad input or a bug fails at once."""
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
            shot_status = job.shot.status if job.shot is not None else None
            hook = runner_for(job.kind).started
            if hook is not None:
                hook(job)  # in this transaction: e.g. a restore puts its shot in restoration
            remove_scratch_of(job)
    if job.parent_id is not None:
        batch_sync(job.parent_id)
    if not started:
        job_announce(job, "job.finished")
        return None
    job_announce(job, "job.progress")
    if job.shot is not None and job.shot.status != shot_status:
        shot_status_announce(job.shot)
    return job


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


def _job_requeue(job: RestorationJob, exc: BaseException) -> None:
    """Back to pending before a retry, so the row does not claim a worker is on it."""
    try:
        RestorationJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts).update(
            status=JobStatus.PENDING, message=f"Retrying after a transient error: {_one_line(exc)}"[:500]
        )
    except Exception:  # noqa: BLE001 - the database may be what failed; the retry will start it again
        logger.warning("Could not mark job %s pending before its retry", job.pk, exc_info=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
