"""What a job kind's runner uses while it works: progress reports (which also notice a
cancelled or superseded job), scratch files for its output, and marking the job succeeded
together with the rows it made."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.catalogue.media_files import uncommitted_remove
from webapp.jobs.events import job_announce
from webapp.jobs.lifecycle import batch_sync, job_check_still_running, job_finished_sync
from webapp.jobs.models import JobStatus, RestorationJob

logger = logging.getLogger(__name__)

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


def _scratch_dir() -> Path:
    scratch = Path(settings.MEDIA_ROOT) / "tmp" / "jobs"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


def scratch_path(job: RestorationJob, extension: str) -> Path:
    """A temporary output name under MEDIA_ROOT (same disk as the final name: renaming is atomic)."""
    return _scratch_dir() / f"job{job.pk}-{uuid.uuid4().hex[:8]}{extension}"


# Where kinds put their final outputs: ``<folder>/<film id>/<stem>-job<id>-<random><ext>``. A
# file there is final once the commit that creates its asset row goes through (see
# catalogue.media_files); the job id in the name lets a new attempt find an earlier one's.
OUTPUT_FOLDERS = ("versions", "deliveries")


def output_path(job: RestorationJob, *, folder: str, stem: str, extension: str) -> tuple[str, Path]:
    """The storage name and path of a job's final output (the folder is created)."""
    if folder not in OUTPUT_FOLDERS:
        raise ValueError(f"Job outputs go under one of {', '.join(OUTPUT_FOLDERS)}, not {folder!r}.")
    name = f"{folder}/{job.film_id}/{stem}-job{job.pk}-{uuid.uuid4().hex[:8]}{extension}"
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return name, path


def earlier_attempts_remove(job: RestorationJob) -> None:
    """What earlier attempts of the job left (a worker killed mid-job cannot clean up): its
    scratch files (the encoder's own temporary names start with a dot) and any final output no
    row names (killed between the rename and the commit)."""
    pattern = re.compile(rf"^\.?job{job.pk}-")
    with os.scandir(_scratch_dir()) as entries:
        for entry in entries:
            if pattern.match(entry.name) and entry.is_file():
                Path(entry.path).unlink(missing_ok=True)
    outputs = [path for folder in OUTPUT_FOLDERS
               for path in (Path(settings.MEDIA_ROOT) / folder / str(job.film_id)).glob(f"*-job{job.pk}-*")]
    uncommitted_remove(*outputs)


def frames_total_set(job: RestorationJob, frames: int) -> None:
    job.frames_total = frames
    RestorationJob.objects.filter(pk=job.pk).update(frames_total=frames)


def job_succeed(job: RestorationJob, *, message: str,
                write: Callable[[RestorationJob], str | None] = lambda row: None,
                committed: Callable[[RestorationJob], None] | None = None) -> RestorationJob:
    """Mark the job succeeded, together with ``write``'s rows (in the same transaction, under the
    row's lock, only if this run still owns the job); ``write`` may return the job's message
    instead of ``message``. Then ``committed`` (previews, events) and the batch and listeners
    are told, last. What runs after the commit is best effort: a failure there is logged and
    never undoes the commit. Returns the row as committed."""
    with transaction.atomic():
        row = RestorationJob.objects.select_for_update().get(pk=job.pk)
        job_check_still_running(row, job)
        row.message = write(row) or message
        row.status, row.progress, row.frames_done = JobStatus.SUCCEEDED, 1.0, row.frames_total
        row.finished_at = timezone.now()
        row.save(update_fields=["status", "progress", "frames_done", "finished_at", "message", "result_version"])
    for after in ([committed] if committed is not None else []) + [lambda row: job_finished_sync(row.pk)]:
        try:
            after(row)
        except Exception:  # noqa: BLE001 - committed is committed; the sweeper and clients resync
            logger.warning("Job %s: a step after its commit failed", job.pk, exc_info=True)
    return row
