"""Celery tasks of jobs. Thin: each takes a job id and calls ``services.job_run``.

Queues (``CELERY_TASK_ROUTES``): ``restore_*`` on ``gpu``, the rest on ``cpu``. ``acks_late``
with ``reject_on_worker_lost`` (settings): a worker that dies mid-job leaves the message to be
redelivered, and ``job_run`` is idempotent (a finished or cancelled job is left alone; output
appears only with the commit that marks the job succeeded), so a second delivery is harmless.
A transient failure (``JobRetryLater``) is retried with exponential backoff, up to
``JOB_AUTORETRY_MAX`` times; time limits come from ``JOB_SOFT_TIME_LIMIT_S`` / ``JOB_TIME_LIMIT_S``.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from webapp.jobs.services import JobRetryLater, job_run

_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "max_retries": settings.JOB_AUTORETRY_MAX,
    "soft_time_limit": settings.JOB_SOFT_TIME_LIMIT_S,
    "time_limit": settings.JOB_TIME_LIMIT_S,
}


def retry_delay_s(retries: int) -> float:
    """Exponential backoff: base, 2 x base, 4 x base... capped."""
    return min(settings.JOB_AUTORETRY_BACKOFF_MAX_S, settings.JOB_AUTORETRY_BACKOFF_S * 2**retries)


def _run(task, job_id: int) -> str | None:
    try:
        job = job_run(job_id=job_id, final_attempt=task.request.retries >= task.max_retries)
    except JobRetryLater as exc:
        raise task.retry(exc=exc, countdown=retry_delay_s(task.request.retries)) from None
    return job.status if job is not None else None


@shared_task(name="webapp.jobs.tasks.restore_shot", **_OPTIONS)
def restore_shot(self, job_id: int) -> str | None:
    """Restore one shot into a new in-review version; returns the job's final status."""
    return _run(self, job_id)


@shared_task(name="webapp.jobs.tasks.analyse_scan", **_OPTIONS)
def analyse_scan(self, job_id: int) -> str | None:
    """Shots, metrics and review previews of a scan."""
    return _run(self, job_id)


@shared_task(name="webapp.jobs.tasks.render_proxies", **_OPTIONS)
def render_proxies(self, job_id: int) -> str | None:
    """Review previews of a scan."""
    return _run(self, job_id)


@shared_task(name="webapp.jobs.tasks.deliver_film", **_OPTIONS)
def deliver_film(self, job_id: int) -> str | None:
    """The film's approved versions in one delivery file."""
    return _run(self, job_id)
