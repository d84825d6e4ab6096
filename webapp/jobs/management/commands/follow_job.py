"""`manage.py follow_job JOB_ID`: a job's progress as a progress bar until it finishes.

Reads the job's row (the truth the workers write) every half second; works against any
deployment the settings point at. Exit status 0 when the job succeeded, 1 otherwise.
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from webapp.jobs.models import RestorationJob

POLL_S = 0.5


def follow(job: RestorationJob, *, stream=None, poll_s: float = POLL_S) -> RestorationJob:
    """Draw ``job``'s progress (frames done/total, rate, ETA; a batch's shots done) until it finishes."""
    from restoration.api import ProgressBar

    stream = stream if stream is not None else sys.stderr
    bar = ProgressBar(f"job {job.pk} ({job.get_kind_display().lower()})", stream=stream, min_interval=0.0)
    while True:
        job.refresh_from_db()
        summary = job.children_summary
        if summary is not None:
            finished = summary["succeeded"] + summary["failed"] + summary["cancelled"]
            bar.label = f"job {job.pk} ({finished}/{sum(summary.values())} shots)"
        if job.frames_total:
            bar(min(job.frames_done, job.frames_total), job.frames_total)
        if job.is_finished:
            bar.close()
            return job
        time.sleep(poll_s)


def follow_to_the_end(command: BaseCommand, job: RestorationJob) -> None:
    """Follow ``job`` on the command's stderr, then print how it ended (a batch's failed shots
    too); a job that did not succeed makes the command exit with status 1."""
    job = follow(job, stream=command.stderr._out)
    command.stdout.write(f"Job {job.pk} {job.status}. {job.message}".rstrip())
    for failed in job.failed_shots:
        command.stdout.write(f"  shot {failed['number']}: {failed['error']}")
    if job.status != "succeeded":
        raise CommandError(job.error or f"job {job.pk} {job.status}", returncode=1)


class Command(BaseCommand):
    help = "Show a job's progress as a progress bar until it finishes (exit 1 unless it succeeded)."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)

    def handle(self, *args, job_id: int, **options):
        job = RestorationJob.objects.filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"no job {job_id}")
        follow_to_the_end(self, job)
