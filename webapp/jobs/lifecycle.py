"""A job's life as a row: creating it, sending it to its queue, cancelling and retrying it, and
summing a batch's children into the batch. The work itself is the kind's runner's
(``webapp/jobs/kinds/``), started by ``runner.job_run``.

A job is a row first and a Celery message second: ``jobs_enqueue_on_commit`` sends it once the
row is committed, so a worker never gets an id whose row it cannot read and a rolled-back
request sends nothing. The row is also the outbox: a message that could not be sent (or was
lost with the broker) is sent again by the sweeper (``sweeper.py``), and a worker runs only the
message whose id the row names, so no job is lost and none runs twice. Every kind is sent as the one task ``JOB_RUN_TASK`` ("run job N"), on the
queue its runner declares (``registry.queue_for``: ``gpu`` for restores, ``cpu`` for the rest),
with a task id chosen when the row was created.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from webapp.catalogue.models import Film, Shot
from webapp.jobs.events import job_announce
from webapp.jobs.models import JobKind, JobStatus, RestorationJob
from webapp.jobs.registry import queue_for

logger = logging.getLogger(__name__)

# The one Celery task of every job kind (webapp/jobs/tasks.py). Before it, each kind had a task
# of its own (restore_shot, analyse_scan, render_proxies, deliver_film) routed by name; messages
# under those names are not understood any more, which is fine while nothing is deployed.
JOB_RUN_TASK = "webapp.jobs.tasks.job_run"
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
        celery_task_id=new_task_id(),
    )


def new_task_id() -> str:
    # Chosen before the message is sent, so the row names its message without a second write.
    return str(uuid.uuid4())


# Ids of the messages this process sent to the in-process broker (the embedded mode's memory
# transport): that broker lives and dies with the process, so it holds these (queued, reserved by
# the worker or running) and nothing else (``sweeper.broker_task_ids``).
_SENT_IN_PROCESS: set[str] = set()


def in_process_broker() -> bool:
    """Whether this process's broker is the in-process one (the embedded defaults' ``memory://``)."""
    return str(current_app.conf.broker_url or "").startswith("memory://")


def sent_in_process() -> frozenset[str]:
    """The ids of the job messages this process sent to an in-process broker."""
    return frozenset(_SENT_IN_PROCESS)


def jobs_enqueue(jobs: Sequence[RestorationJob]) -> int:
    """One Celery message per job ("run job N", with the row's task id), on the queue of the
    job's kind; each sent job's row is stamped ``dispatched_at``. Returns how many were sent.

    Never raises: the row is the outbox. When the broker is unreachable the rest wait with
    ``dispatched_at`` empty and the sweeper (``sweeper.jobs_dispatch_unsent``) sends them, so an
    outage delays a job but never loses it, and the request that created it still succeeds."""
    task = current_app.tasks[JOB_RUN_TASK]  # registered with Django (JobsConfig.ready)
    in_process = in_process_broker()
    sent: list[int] = []
    for job in jobs:
        try:
            task.apply_async((job.pk,), task_id=job.celery_task_id, queue=queue_for(job.kind),
                             retry_policy=settings.JOB_DISPATCH_RETRY_POLICY)
        except Exception:  # noqa: BLE001 - the broker is down (or worse): the sweeper sends it later
            logger.warning("Could not send %d job(s) to the broker (first: job %s); the sweeper will",
                           len(jobs) - len(sent), job.pk, exc_info=True)
            break
        sent.append(job.pk)
        if in_process:
            _SENT_IN_PROCESS.add(job.celery_task_id)
    if sent:
        try:
            RestorationJob.objects.filter(pk__in=sent, status=JobStatus.PENDING).update(dispatched_at=timezone.now())
        except Exception:  # noqa: BLE001 - unstamped, a job is sent again; its task drops the duplicate
            logger.warning("Could not stamp jobs %s as sent", sent, exc_info=True)
    return len(sent)


def jobs_enqueue_on_commit(jobs: Sequence[RestorationJob]) -> None:
    jobs = list(jobs)
    transaction.on_commit(lambda: jobs_enqueue(jobs), robust=True)


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
        batch_sync(job.pk)
    elif job.parent_id is not None:
        batch_sync(job.parent_id)
    job.refresh_from_db()
    transaction.on_commit(lambda: job_announce(job, "job.finished"), robust=True)
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
        row.attempts, row.celery_task_id, row.dispatched_at, row.heartbeat_at = 0, new_task_id(), None, None
    RestorationJob.objects.bulk_update(
        again, ["status", "error", "message", "progress", "frames_done", "started_at", "finished_at", "attempts",
                "celery_task_id", "dispatched_at", "heartbeat_at"],
        batch_size=500,
    )
    if parent_id is not None:
        # The batch is open again; batch_sync works out whether it is pending or running.
        RestorationJob.objects.filter(pk=parent_id).update(
            status=JobStatus.PENDING, finished_at=None, error="", message="Retrying failed shots."
        )
        batch_sync(parent_id, announce=False)
    jobs_enqueue_on_commit(again)
    job.refresh_from_db()
    transaction.on_commit(lambda: job_announce(job, "job.progress"), robust=True)
    return job


# Batches -------------------------------------------------------------------------------------


def batch_sync(parent_id: int, *, announce: bool = True) -> RestorationJob | None:
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


def job_finished_sync(job_id: int) -> None:
    """After a job's last write: its batch sums it in, listeners hear of it."""
    row = RestorationJob.objects.select_related("shot").get(pk=job_id)
    if row.parent_id is not None:
        batch_sync(row.parent_id)
    job_announce(row, "job.finished")
