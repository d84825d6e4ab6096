"""Celery tasks of restoration jobs. Thin: each takes a job id and calls a service.

Routed to the ``gpu`` queue by ``CELERY_TASK_ROUTES`` (``webapp.jobs.tasks.restore_*``).
``acks_late``: a worker that dies mid-job leaves the message to be redelivered; the service is
idempotent (a finished or cancelled job is left alone), so a second delivery is harmless.
"""

from __future__ import annotations

from celery import shared_task

from webapp.jobs.services import job_run_restore


@shared_task(name="webapp.jobs.tasks.restore_shot", acks_late=True)
def restore_shot(job_id: int) -> str | None:
    """Restore one shot into a new in-review version; returns the job's final status."""
    job = job_run_restore(job_id=job_id)
    return job.status if job is not None else None
