"""What a job kind's runner uses while it works: progress reports (which also notice a
cancelled or superseded job), scratch files for its output, and marking the job succeeded
together with the rows it made."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.jobs.events import job_announce
from webapp.jobs.lifecycle import batch_sync, job_check_still_running, job_finished_sync
from webapp.jobs.models import JobStatus, RestorationJob

PROGRESS_INTERVAL_S = 0.5  # at most two progress writes (and websocket events) a second per job


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
            batch_sync(job.parent_id)

    return report


def remove(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            path.unlink(missing_ok=True)


def _scratch_dir() -> Path:
    scratch = Path(settings.MEDIA_ROOT) / "tmp" / "jobs"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


def scratch_path(job: RestorationJob, extension: str) -> Path:
    """A temporary output name under MEDIA_ROOT (same disk as the final name: renaming is atomic)."""
    return _scratch_dir() / f"job{job.pk}-{uuid.uuid4().hex[:8]}{extension}"


def remove_scratch_of(job: RestorationJob) -> None:
    """Partial outputs of the job's earlier attempts (a worker killed mid-job cannot clean up;
    the encoder's own temporary names start with a dot)."""
    pattern = re.compile(rf"^\.?job{job.pk}-")
    with os.scandir(_scratch_dir()) as entries:
        for entry in entries:
            if pattern.match(entry.name) and entry.is_file():
                Path(entry.path).unlink(missing_ok=True)


def frames_total_set(job: RestorationJob, frames: int) -> None:
    job.frames_total = frames
    RestorationJob.objects.filter(pk=job.pk).update(frames_total=frames)


def job_succeed(job: RestorationJob, *, message: str, write: Callable[[RestorationJob], None] = lambda row: None) -> None:
    """Mark the job succeeded, together with ``write``'s rows, if it is still running."""
    with transaction.atomic():
        row = RestorationJob.objects.select_for_update().get(pk=job.pk)
        job_check_still_running(row, job)
        write(row)
        row.status, row.progress, row.frames_done = JobStatus.SUCCEEDED, 1.0, row.frames_total
        row.finished_at, row.message = timezone.now(), message
        row.save(update_fields=["status", "progress", "frames_done", "finished_at", "message"])
    job_finished_sync(row.pk)
