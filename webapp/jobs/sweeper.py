"""The periodic sweep that makes faults cost minutes, not jobs (Celery beat runs ``sweep`` every
``SWEEP_INTERVAL_S``; ``manage.py sweep`` runs it once).

- **Pending jobs whose message is missing are sent**: never sent (the broker was down when the
  row committed: the row is the outbox), or sent but no longer held by the broker (a Redis
  restart without persistence, a retry that could not be published). A message is sent again
  under the same id; a second copy is dropped by ``runner.job_run``.
- **Running jobs whose worker went silent are taken back**: no heartbeat for
  ``JOB_HEARTBEAT_TIMEOUT_S`` (killed, out of memory, the machine lost) means pending again with
  a new message id, so the dead worker's message, redelivered later, is stale and dropped.
  Recovery takes about the timeout plus one sweep interval, whatever the broker's visibility
  timeout.
- **Batches whose children have all finished are finished**: a child sums itself into its batch
  after its own commit, best effort; when that write is lost (the database restarting, SQLite
  busy) the batch would stay running for ever. A child's own sum normally lands within
  milliseconds, so only children finished ``BATCH_RESYNC_GRACE_S`` ago are summed here.
- **Files no row names are removed** (``catalogue.media_files``) once older than
  ``MEDIA_ORPHAN_GRACE_S``, and the scratch files of jobs no longer running.
- **Due notification e-mails are sent again** (``notifications.services.notification_emails_resend``)
  when their task never reached the broker or was lost in it; the send happens at most once.
- **Expired idempotency keys are deleted** (``api.services.idempotency_expired_delete``): a
  day after their first request (routine housekeeping, counted but not a fault worth a warning).

Every step is safe to run twice at once (conditional updates under row locks), so two beats
or a manual run beside the scheduled one do no harm.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from webapp.api.services import idempotency_expired_delete
from webapp.catalogue.media_files import SweepReport, media_orphans_sweep
from webapp.jobs.events import job_announce
from webapp.jobs.lifecycle import batch_sync, in_process_broker, jobs_enqueue, new_task_id, sent_in_process
from webapp.jobs.models import JobKind, JobStatus, RestorationJob
from webapp.jobs.registry import QUEUES, registered, runner_for
from webapp.notifications.services import notification_emails_resend

logger = logging.getLogger(__name__)

SWEEP_TASK = "webapp.jobs.tasks.sweep"
BATCH_LIMIT = 500  # rows per step and sweep: a backlog is worked off over a few sweeps
BATCH_RESYNC_GRACE_S = 60


@dataclass
class SweepResult:
    sent: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)
    reclaimed: list[int] = field(default_factory=list)
    batches_finished: list[int] = field(default_factory=list)
    scratch_removed: list[str] = field(default_factory=list)
    media: SweepReport = field(default_factory=SweepReport)
    idempotency_keys_expired: int = 0
    emails_resent: int = 0

    def counts(self) -> dict[str, int]:
        return {"sent": len(self.sent), "resent": len(self.resent), "reclaimed": len(self.reclaimed),
                "batches_finished": len(self.batches_finished), "scratch_removed": len(self.scratch_removed), "media_removed": self.media.removed,
                "emails_resent": self.emails_resent, "idempotency_keys_expired": self.idempotency_keys_expired}

    def faults(self) -> dict[str, int]:
        """The counts that mean something went wrong (jobs or files left behind)."""
        return {name: count for name, count in self.counts().items() if name != "idempotency_keys_expired"}


def sweep(*, now=None) -> SweepResult:
    """All the steps, each on its own: one that fails (the database or broker still down) is
    logged and the others still run."""
    now = now or timezone.now()
    result = SweepResult()
    steps = [
        ("reclaim silent jobs", lambda: result.reclaimed.extend(jobs_reclaim_silent(now=now))),
        ("send unsent jobs", lambda: result.sent.extend(jobs_dispatch_unsent(now=now))),
        ("send lost jobs", lambda: result.resent.extend(jobs_dispatch_lost(now=now))),
        ("finish batches left open", lambda: result.batches_finished.extend(batches_finish_left_open(now=now))),
        ("remove job scratch", lambda: result.scratch_removed.extend(job_scratch_sweep(now=now))),
        ("remove orphan media", lambda: setattr(result, "media", media_orphans_sweep(now=now.timestamp()))),
        ("send due e-mails", lambda: setattr(result, "emails_resent", notification_emails_resend(now=now))),
        ("delete expired idempotency keys",
         lambda: setattr(result, "idempotency_keys_expired", idempotency_expired_delete(now=now))),
    ]
    for name, step in steps:
        try:
            step()
        except Exception:  # noqa: BLE001 - the next sweep tries again
            logger.warning("Sweep: could not %s", name, exc_info=True)
    if any(result.faults().values()):
        logger.warning("Sweep: %s", result.counts())
    return result


# Running jobs whose worker went silent ---------------------------------------------------------


def jobs_reclaim_silent(*, now=None) -> list[int]:
    """Running jobs without a heartbeat for ``JOB_HEARTBEAT_TIMEOUT_S``: pending again, under a
    new message id, and sent. Returns their ids."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT_S)
    silent = (RestorationJob.objects.filter(status=JobStatus.RUNNING)
              .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale))
              .exclude(kind=JobKind.RESTORE_BATCH))
    reclaimed: list[RestorationJob] = []
    with transaction.atomic():
        for job in silent.select_for_update(skip_locked=True).order_by("pk")[:BATCH_LIMIT]:
            silent_s = int((now - (job.heartbeat_at or job.started_at)).total_seconds())
            job.status, job.celery_task_id, job.dispatched_at = JobStatus.PENDING, new_task_id(), None
            job.message = f"Taken back from a silent worker (no heartbeat for {silent_s} s); waiting for another."
            job.save(update_fields=["status", "celery_task_id", "dispatched_at", "message"])
            reclaimed.append(job)
    for job in reclaimed:
        logger.warning("Job %s (attempt %s): worker silent, taken back", job.pk, job.attempts)
        ended = runner_for(job.kind).ended
        if ended is not None:
            ended(job)  # e.g. its shot leaves in_restoration until the job runs again
        if job.parent_id is not None:
            batch_sync(job.parent_id)
        job_announce(job, "job.progress")
    jobs_enqueue(reclaimed)
    return [job.pk for job in reclaimed]


# Batches whose children have all finished --------------------------------------------------------


def batches_finish_left_open(*, now=None) -> list[int]:
    """Pending or running batches none of whose children is unfinished, the last of them finished
    ``BATCH_RESYNC_GRACE_S`` ago: summed (and so finished) by ``batch_sync``. Returns their ids."""
    now = now or timezone.now()
    open_batches = (
        RestorationJob.objects.filter(kind=JobKind.RESTORE_BATCH, status__in=[JobStatus.PENDING, JobStatus.RUNNING])
        .annotate(unfinished=Count("children", filter=~Q(children__status__in=RestorationJob.FINISHED)),
                  last_finished=Max("children__finished_at"))
        .filter(unfinished=0, last_finished__lt=now - timedelta(seconds=BATCH_RESYNC_GRACE_S))
        .order_by("pk").values_list("pk", flat=True)[:BATCH_LIMIT]
    )
    finished = []
    for batch_id in open_batches:
        batch = batch_sync(batch_id)
        if batch is not None and batch.is_finished:
            logger.warning("Job %s: a batch whose shots had all finished was still open; finished", batch_id)
            finished.append(batch_id)
    return finished


# Pending jobs whose message is missing ---------------------------------------------------------


def jobs_dispatch_unsent(*, now=None) -> list[int]:
    """Pending jobs never handed to the broker ``JOB_DISPATCH_GRACE_S`` after they were created
    (the send on commit normally takes milliseconds). Returns the ids sent."""
    now = now or timezone.now()
    unsent = list(RestorationJob.objects.filter(
        status=JobStatus.PENDING, dispatched_at__isnull=True,
        created_at__lt=now - timedelta(seconds=settings.JOB_DISPATCH_GRACE_S),
    ).exclude(kind=JobKind.RESTORE_BATCH).order_by("created_at")[:BATCH_LIMIT])
    sent = jobs_enqueue(unsent)
    return [job.pk for job in unsent[:sent]]


def jobs_dispatch_lost(*, now=None) -> list[int]:
    """Pending jobs sent more than ``JOB_REDISPATCH_AFTER_S`` ago whose message the broker no
    longer holds (queued or taken but unacknowledged). Returns the ids sent again."""
    now = now or timezone.now()
    waiting = list(RestorationJob.objects.filter(
        status=JobStatus.PENDING, dispatched_at__lt=now - timedelta(seconds=settings.JOB_REDISPATCH_AFTER_S),
    ).exclude(kind=JobKind.RESTORE_BATCH).order_by("dispatched_at")[:BATCH_LIMIT])
    if not waiting:
        return []
    held = broker_task_ids()
    if held is None:
        return []
    lost = [job for job in waiting if job.celery_task_id not in held]
    sent = jobs_enqueue(lost)
    for job in lost[:sent]:
        logger.warning("Job %s: its message %s was no longer in the broker; sent again", job.pk, job.celery_task_id)
    return [job.pk for job in lost[:sent]]


def broker_task_ids() -> set[str] | None:
    """The ids of the job messages the broker holds, queued or taken and not yet acknowledged;
    None when that cannot be known.

    Redis: read from its queue lists and its unacknowledged hash (one pass over the messages).
    The in-process broker of the embedded mode lives and dies with this process: it holds what
    this process sent it (``lifecycle.sent_in_process``), and nothing sent before a restart or
    by another process (a management command's messages die with it)."""
    if in_process_broker():
        return set(sent_in_process())
    with current_app.connection_for_read() as connection:
        channel = connection.default_channel
        if connection.transport.driver_type != "redis":
            return None
        client = channel.client
        raw: list[bytes] = []
        for queue in sorted(set(QUEUES) | {runner.queue for runner in registered().values()}):
            for priority in channel.priority_steps:
                raw.extend(client.lrange(channel._q_for_pri(queue, priority), 0, -1))
        ids = {_message_id(payload) for payload in raw}
        for payload in client.hvals(channel.unacked_key):
            try:
                ids.add(_message_id(json.dumps(json.loads(payload)[0])))
            except (ValueError, LookupError, TypeError):
                continue
    ids.discard(None)
    return ids


def _message_id(payload: bytes | str) -> str | None:
    try:
        message = json.loads(payload)
        return message.get("headers", {}).get("id") or message.get("properties", {}).get("correlation_id")
    except (ValueError, AttributeError):
        return None


# Scratch files of jobs no longer running ------------------------------------------------------

_SCRATCH_NAME = re.compile(r"^\.?job(\d+)-")


def job_scratch_sweep(*, now=None) -> list[str]:
    """Scratch outputs (``MEDIA_ROOT/tmp/jobs``) of jobs that are not running, once older than
    ``MEDIA_ORPHAN_GRACE_S``: a worker killed mid-job leaves them, and its job may never run
    again (cancelled, or finished elsewhere). Returns the names removed."""
    scratch = Path(settings.MEDIA_ROOT) / "tmp" / "jobs"
    if not scratch.is_dir():
        return []
    cutoff = (now or timezone.now()).timestamp() - settings.MEDIA_ORPHAN_GRACE_S
    candidates: dict[int, list[os.DirEntry]] = {}
    with os.scandir(scratch) as entries:
        for entry in entries:
            match = _SCRATCH_NAME.match(entry.name)
            if match and entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                candidates.setdefault(int(match.group(1)), []).append(entry)
    running = set(RestorationJob.objects.filter(pk__in=list(candidates), status=JobStatus.RUNNING)
                  .values_list("pk", flat=True))
    removed = []
    for job_id, files in candidates.items():
        if job_id in running:
            continue
        for entry in files:
            Path(entry.path).unlink(missing_ok=True)
            removed.append(entry.name)
    if removed:
        logger.warning("Removed %d scratch file(s) of jobs no longer running", len(removed))
    return removed


def sweep_forever(stop: threading.Event, interval_s: float | None = None) -> None:
    """Sweep every ``interval_s`` (default ``SWEEP_INTERVAL_S``) until ``stop`` is set: the
    embedded mode's stand-in for Celery beat."""
    interval_s = settings.SWEEP_INTERVAL_S if interval_s is None else interval_s
    while not stop.is_set():
        started = time.monotonic()
        sweep()
        stop.wait(max(0.0, interval_s - (time.monotonic() - started)))
