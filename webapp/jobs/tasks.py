"""The Celery task of jobs: one for every kind. Thin: it takes a job id and calls
``runner.job_run``, which hands the job to its kind's runner.

``lifecycle.jobs_enqueue`` sends it on the queue of the job's kind (``gpu`` for restores, ``cpu``
for the rest: each kind declares its own in ``webapp/jobs/kinds/``), explicitly with each
message, so there is no routing by task name. This task replaces the four identical tasks
``restore_shot``, ``analyse_scan``, ``render_proxies`` and ``deliver_film``: a message already
queued under one of those names would not be understood by a new worker; nothing is deployed
yet, so none exists.

``acks_late`` with ``reject_on_worker_lost`` (settings): a worker that dies mid-job leaves the
message to be redelivered, and ``job_run`` is idempotent (a finished or cancelled job is left
alone; output appears only with the commit that marks the job succeeded), so a second delivery
is harmless. A transient failure (``JobRetryLater``) is retried with exponential backoff, up to
``JOB_AUTORETRY_MAX`` times; time limits come from ``JOB_SOFT_TIME_LIMIT_S`` / ``JOB_TIME_LIMIT_S``.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from webapp.jobs.lifecycle import JOB_RUN_TASK
from webapp.jobs.runner import JobRetryLater, is_transient, job_run
from webapp.jobs.sweeper import SWEEP_TASK
from webapp.jobs.sweeper import sweep as sweeper_sweep


def retry_delay_s(retries: int) -> float:
    """Exponential backoff: base, 2 x base, 4 x base... capped."""
    return min(settings.JOB_AUTORETRY_BACKOFF_MAX_S, settings.JOB_AUTORETRY_BACKOFF_S * 2**retries)


@shared_task(
    name=JOB_RUN_TASK, bind=True, acks_late=True, max_retries=settings.JOB_AUTORETRY_MAX,
    soft_time_limit=settings.JOB_SOFT_TIME_LIMIT_S, time_limit=settings.JOB_TIME_LIMIT_S,
)
def job_run_task(self, job_id: int, abandoned_attempt: int | None = None) -> str | None:
    """Run job ``job_id``, whatever its kind; returns the job's final status. A transient error
    anywhere (the work, or the database or broker while starting or ending it) is retried
    with backoff; ``abandoned_attempt`` tells the retry which attempt it takes over."""
    try:
        job = job_run(job_id=job_id, final_attempt=self.request.retries >= self.max_retries,
                      task_id=self.request.id, abandoned_attempt=abandoned_attempt)
    except JobRetryLater as exc:
        raise self.retry(exc=exc, countdown=retry_delay_s(self.request.retries),
                         kwargs={"abandoned_attempt": exc.attempt}) from None
    except Exception as exc:
        if not is_transient(exc) or self.request.retries >= self.max_retries:
            raise  # the sweeper takes the job back once its heartbeat is stale
        raise self.retry(exc=exc, countdown=retry_delay_s(self.request.retries),
                         kwargs={"abandoned_attempt": abandoned_attempt}) from None
    return job.status if job is not None else None


@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep() -> dict[str, int]:
    """The periodic sweep (Celery beat, every SWEEP_INTERVAL_S): see ``sweeper.sweep``."""
    return sweeper_sweep().counts()
