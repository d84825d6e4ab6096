"""Proxies jobs (``cpu`` queue): the review previews of a scan (proxies, thumbnails, filmstrips)
rendered ahead of review."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser

from webapp.catalogue.models import Film, MediaAsset, Shot
from webapp.catalogue.previews import previews_render
from webapp.jobs.kinds.analyse import scan_job_dispatch
from webapp.jobs.models import JobKind, RestorationJob
from webapp.jobs.registry import CPU_QUEUE, JobRunner, register
from webapp.jobs.runtime import frames_total_set, job_succeed, progress_reporter


def job_proxies_dispatch(*, film: Film, asset_id: object, user: AbstractBaseUser | None) -> RestorationJob:
    """Render the review previews of a scan ahead of review (cpu queue)."""
    return scan_job_dispatch(kind=JobKind.PROXIES, film=film, asset_id=asset_id, user=user)


def proxies_run(job: RestorationJob, leftovers: list[Path]) -> None:
    asset = MediaAsset.objects.get(pk=job.params["asset"])
    frames_total_set(job, asset.frame_count)
    spans = [(shot.start_frame, shot.end_frame + 1) for shot in Shot.objects.filter(source=asset)] or None
    previews_render(asset=asset, spans=spans, progress=progress_reporter(job, count_frames=False))
    job_succeed(job, message="Review previews ready.")


RUNNER = register(JobRunner(kind=JobKind.PROXIES, queue=CPU_QUEUE, dispatch=job_proxies_dispatch, run=proxies_run))
