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
import threading
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from restoration.api import is_transient_error
from webapp.catalogue.media_files import uncommitted_remove
from webapp.jobs.events import job_announce, shot_status_announce
from webapp.jobs.lifecycle import JobCancelled, JobSuperseded, batch_sync, job_finished_sync
from webapp.jobs.models import JobStatus, RestorationJob
from webapp.jobs.registry import runner_for
from webapp.jobs.runtime import earlier_attempts_remove

logger = logging.getLogger(__name__)


class JobRetryLater(Exception):
    """A transient failure: the job should be retried after a pause. ``attempt`` is the attempt
    that gave up: its retry takes the job over even if the row still says it is running (the
    database may have been what failed, so the row could not be put back to pending)."""

    def __init__(self, message: str, *, attempt: int):
        super().__init__(message)
        self.attempt = attempt


def job_run(*, job_id: int, final_attempt: bool = True, task_id: str | None = None,
            abandoned_attempt: int | None = None) -> RestorationJob | None:
    """Run a job, whatever its kind: called by its Celery task (and directly by tests).

    ``task_id`` (the Celery message's id) must be the one the row names, or the message is stale
    (the job was sent again since) and nothing runs. A job already running with a live
    heartbeat is left to its worker; one whose heartbeat stopped is taken over, as is
    ``abandoned_attempt``, the attempt this message's earlier delivery gave up.

    Returns the job row as it ended, or None when the job does not exist. A failure is recorded
    on the row, never raised, except a transient one (database or broker unreachable, disk
    full, GPU memory) while ``final_attempt`` is False: the job goes back to pending and
    ``JobRetryLater`` tells the task to retry it after a pause."""
    job = _job_start(job_id, task_id=task_id, abandoned_attempt=abandoned_attempt)
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
        with Heartbeat(job):
            runner.run(job, leftovers)
    except JobSuperseded:
        uncommitted_remove(*leftovers)
        return RestorationJob.objects.get(pk=job.pk)
    except JobCancelled:
        uncommitted_remove(*leftovers)
        _job_finish(job, status=JobStatus.CANCELLED, message="Cancelled.")
    except Exception as exc:  # noqa: BLE001 - any failure is the job's, recorded on its row
        uncommitted_remove(*leftovers)
        if not final_attempt and is_transient(exc):
            _job_requeue(job, exc)
            raise JobRetryLater(_one_line(exc), attempt=job.attempts) from exc
        _job_finish(job, status=JobStatus.FAILED, error=_one_line(exc))
    finally:
        if runner.ended is not None:
            runner.ended(job)
    return RestorationJob.objects.get(pk=job.pk)


class Heartbeat:
    """While a job runs, a thread of its own stamps the row's ``heartbeat_at`` every
    ``JOB_HEARTBEAT_S``: the sweeper takes back a running job silent for
    ``JOB_HEARTBEAT_TIMEOUT_S`` (its worker died), and a message delivered again while the job
    runs is dropped. A thread, not the progress callback: a long stage reports no progress
    but its worker is alive. A failed write is logged; the next one may pass."""

    def __init__(self, job: RestorationJob):
        self.job = job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-job{job.pk}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(settings.JOB_HEARTBEAT_S):
                try:
                    RestorationJob.objects.filter(
                        pk=self.job.pk, status=JobStatus.RUNNING, attempts=self.job.attempts
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # noqa: BLE001 - e.g. the database restarting; the job decides
                    logger.warning("Job %s: could not write its heartbeat", self.job.pk, exc_info=True)
                    connections.close_all()  # a broken connection is not reused: the next beat reconnects
        finally:
            connections.close_all()  # this thread's own connections


def heartbeat_is_live(job: RestorationJob, *, now=None) -> bool:
    """Whether the job's worker showed a sign of life within ``JOB_HEARTBEAT_TIMEOUT_S``."""
    last = job.heartbeat_at or job.started_at
    if last is None:
        return False
    return ((now or timezone.now()) - last).total_seconds() < settings.JOB_HEARTBEAT_TIMEOUT_S


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

    if isinstance(exc, (OperationalError, InterfaceError, BrokerOperationalError, RedisConnectionError,
                        RedisTimeoutError)):
        return True
    if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
        return True
    return is_transient_error(exc)


def _job_start(job_id: int, *, task_id: str | None = None, abandoned_attempt: int | None = None,
               ) -> RestorationJob | None:
    """Lock the row and mark it running; None when there is nothing (left) to do for this
    message (see ``job_run``). A job whose worker died too often (hard time limit, out of
    memory) is failed instead of run again."""
    with transaction.atomic():
        job = (RestorationJob.objects.select_for_update(of=("self",)).select_related("shot__source", "film")
               .filter(pk=job_id).first())
        if job is None or job.is_finished or job.is_batch:
            return None
        if task_id is not None and job.celery_task_id and task_id != job.celery_task_id:
            logger.info("Job %s: dropped a stale message %s (the job was sent again as %s)",
                        job.pk, task_id, job.celery_task_id)
            return None
        if job.status == JobStatus.RUNNING and job.attempts != abandoned_attempt and heartbeat_is_live(job):
            logger.info("Job %s: dropped a second delivery, attempt %s is running", job.pk, job.attempts)
            return None
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            job.status, job.finished_at = JobStatus.FAILED, timezone.now()
            job.error = f"Gave up after {job.attempts} attempts: the worker stopped each time (time limit or crash)."
            job.save(update_fields=["status", "finished_at", "error"])
            started = False
        else:
            now = timezone.now()
            job.status, job.started_at, job.finished_at, job.heartbeat_at = JobStatus.RUNNING, now, None, now
            job.attempts += 1
            job.frames_done, job.progress, job.error = 0, 0.0, ""
            if job.shot is not None:
                job.frames_total = job.shot.frame_count
            job.save(update_fields=["status", "started_at", "finished_at", "heartbeat_at", "attempts", "frames_done",
                                    "progress", "error", "frames_total"])
            started = True
            shot_status = job.shot.status if job.shot is not None else None
            hook = runner_for(job.kind).started
            if hook is not None:
                hook(job)  # in this transaction: e.g. a restore puts its shot in restoration
            earlier_attempts_remove(job)
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
