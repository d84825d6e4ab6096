"""The CPU jobs (``cpu`` queue): analyse a scan into shots, render review previews, deliver a film.
And ``RUNNERS``, the work of each job kind that ``services.job_run`` calls once the job is
running. Each runner writes its output under a temporary name, lists what to remove if the job
does not succeed in ``leftovers``, and commits its rows together with the job's success.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from restoration.api import analyse, clips_join
from webapp.catalogue.ingest import asset_fields_from_probe
from webapp.catalogue.models import AssetKind, Film, FilmStatus, MediaAsset, Shot, ShotStatus
from webapp.catalogue.previews import previews_render
from webapp.catalogue.services import asset_create
from webapp.catalogue.status import film_status_advance
from webapp.jobs.models import JobKind, JobStatus, RestorationJob
from webapp.jobs.services import (
    job_check_still_running,
    job_create,
    job_finished_sync,
    jobs_enqueue_on_commit,
    progress_reporter,
    restore_run,
    scratch_path,
)

ANALYSIS_SHARE = 0.5  # of an analyse job's progress; rendering the scan's previews is the rest
SCANS = (AssetKind.ORIGINAL, AssetKind.MEZZANINE)


# Dispatch ------------------------------------------------------------------------------------


def _scan_of(film: Film, asset_id: object) -> MediaAsset:
    asset = MediaAsset.objects.filter(pk=asset_id, film=film, kind__in=SCANS).first() \
        if isinstance(asset_id, int) and not isinstance(asset_id, bool) else None
    if asset is None:
        raise ValidationError({"asset": f"No scan {asset_id!r} in this film (an original or mezzanine asset id)."})
    if not asset.frame_count or not asset.height:
        raise ValidationError({"asset": f"Asset {asset.pk} has no probed video frames."})
    return asset


def job_analyse_dispatch(*, film: Film, asset_id: object, user: AbstractBaseUser | None) -> RestorationJob:
    """Analyse a scan of ``film`` (cpu queue): shots with their metrics and recommended pipeline,
    then review proxies, thumbnails and filmstrips of the original; the film moves to
    in_restoration."""
    asset = _scan_of(film, asset_id)
    with transaction.atomic():
        job = job_create(film=film, kind=JobKind.ANALYSE, created_by=user, params={"asset": asset.pk})
        jobs_enqueue_on_commit([job])
    return job


def job_proxies_dispatch(*, film: Film, asset_id: object, user: AbstractBaseUser | None) -> RestorationJob:
    """Render the review previews of a scan ahead of review (cpu queue)."""
    asset = _scan_of(film, asset_id)
    with transaction.atomic():
        job = job_create(film=film, kind=JobKind.PROXIES, created_by=user, params={"asset": asset.pk})
        jobs_enqueue_on_commit([job])
    return job


def job_deliver_dispatch(*, film: Film, user: AbstractBaseUser | None) -> RestorationJob:
    """Deliver the film (cpu queue): every shot's approved version, in shot order, in one
    lossless FFV1/MKV file recorded as a delivery asset. Every shot must be approved."""
    shots = list(film.shots.order_by("number").values_list("number", "approved_version_id"))
    if not shots:
        raise ValidationError({"film": "The film has no shots to deliver."})
    unapproved = [str(number) for number, approved in shots if approved is None]
    if unapproved:
        raise ValidationError({"film": f"Shots without an approved version: {', '.join(unapproved)}."})
    with transaction.atomic():
        job = job_create(film=film, kind=JobKind.DELIVER, created_by=user)
        jobs_enqueue_on_commit([job])
    return job


# Runners -------------------------------------------------------------------------------------


def _set_frames_total(job: RestorationJob, frames: int) -> None:
    job.frames_total = frames
    RestorationJob.objects.filter(pk=job.pk).update(frames_total=frames)


def _succeed(job: RestorationJob, *, message: str, write: Callable[[RestorationJob], None] = lambda row: None) -> None:
    """Mark the job succeeded, together with ``write``'s rows, if it is still running."""
    with transaction.atomic():
        row = RestorationJob.objects.select_for_update().get(pk=job.pk)
        job_check_still_running(row, job)
        write(row)
        row.status, row.progress, row.frames_done = JobStatus.SUCCEEDED, 1.0, row.frames_total
        row.finished_at, row.message = timezone.now(), message
        row.save(update_fields=["status", "progress", "frames_done", "finished_at", "message"])
    job_finished_sync(row.pk)


def analyse_run(job: RestorationJob, leftovers: list[Path]) -> None:
    """The scan's shots with their metrics and recommended pipeline, then its review previews.

    The first time, the engine finds the shots (cuts and dissolves) and they are created; when
    the scan already has shots (cut by hand, or analysed before) their own spans are measured
    and only their metrics change, so analysing again never adds or moves shots."""
    asset = MediaAsset.objects.get(pk=job.params["asset"])
    _set_frames_total(job, asset.frame_count)
    film_status_advance(film=job.film, status=FilmStatus.INGESTING)
    report = progress_reporter(job, share=(0.0, ANALYSIS_SHARE))
    existing = list(Shot.objects.filter(source=asset).order_by("start_frame"))
    spans = [(shot.start_frame, shot.end_frame) for shot in existing] if existing else None
    found = [(s["start_frame"], s["end_frame"], _shot_metrics(s))
             for s in analyse(asset.file.path, fps=asset.fps, spans=spans, progress=report)]

    with transaction.atomic():
        row = RestorationJob.objects.select_for_update().get(pk=job.pk)
        job_check_still_running(row, job)
        # Under the job's lock: a redelivered job finds the shots it made and measures them again.
        by_span = {(shot.start_frame, shot.end_frame): shot for shot in Shot.objects.filter(source=asset)}
        if by_span:
            for start, end, metrics in found:
                if (start, end) in by_span:
                    by_span[(start, end)].metrics = metrics
            Shot.objects.bulk_update(by_span.values(), ["metrics"], batch_size=500)
        else:
            first = (Shot.objects.filter(film=job.film).aggregate(last=Max("number"))["last"] or 0) + 1
            Shot.objects.bulk_create(
                [Shot(film=job.film, number=first + n, start_frame=start, end_frame=end, fps=asset.fps or 24.0,
                      source=asset, metrics=metrics, status=ShotStatus.PENDING)
                 for n, (start, end, metrics) in enumerate(found)],
                batch_size=500,
            )
        row.message = f"{len(found)} shots measured; rendering review previews."
        row.save(update_fields=["message"])
    spans = [(start, end + 1) for start, end, _ in found]
    previews_render(asset=asset, spans=spans,
                    progress=progress_reporter(job, share=(ANALYSIS_SHARE, 1.0), count_frames=False))

    def film_ready(row: RestorationJob) -> None:
        film_status_advance(film=job.film, status=FilmStatus.IN_RESTORATION)

    _succeed(job, message=f"{len(spans)} shots analysed; previews ready.", write=film_ready)


def _shot_metrics(shot: dict) -> dict:
    """What a shot row keeps of the engine's analysis: its metrics with the recommended pipeline
    and colour notes."""
    return {**shot["metrics"], "recommended_pipeline": shot["recommended_pipeline"],
            "colour_notes": shot["colour_notes"]}


def proxies_run(job: RestorationJob, leftovers: list[Path]) -> None:
    asset = MediaAsset.objects.get(pk=job.params["asset"])
    _set_frames_total(job, asset.frame_count)
    spans = [(shot.start_frame, shot.end_frame + 1) for shot in Shot.objects.filter(source=asset)] or None
    previews_render(asset=asset, spans=spans, progress=progress_reporter(job, count_frames=False))
    _succeed(job, message="Review previews ready.")


def deliver_run(job: RestorationJob, leftovers: list[Path]) -> None:
    """The approved versions end to end in one FFV1/MKV, at the first shot's frame rate."""
    shots = list(Shot.objects.filter(film=job.film).order_by("number").select_related("approved_version__media"))
    missing = [str(shot.number) for shot in shots if shot.approved_version is None or shot.approved_version.media is None]
    if missing:
        raise ValueError(f"shots without approved media: {', '.join(missing)}")
    medias = [shot.approved_version.media for shot in shots]
    _set_frames_total(job, sum(media.frame_count or 0 for media in medias))
    report = progress_reporter(job)
    temp = scratch_path(job, ".mkv")
    leftovers.append(temp)
    info = clips_join([media.file.path for media in medias], temp, fps=shots[0].fps, progress=report)
    name = f"deliveries/{job.film_id}/film{job.film_id}-job{job.pk}-{uuid.uuid4().hex[:8]}.mkv"
    final_path = Path(settings.MEDIA_ROOT) / name
    final_path.parent.mkdir(parents=True, exist_ok=True)
    leftovers.append(final_path)

    def record(row: RestorationJob) -> None:
        os.replace(temp, final_path)
        asset_create(film=job.film, kind=AssetKind.DELIVERY, file=name, original_name=final_path.name,
                     **asset_fields_from_probe(info, path=final_path))
        film_status_advance(film=job.film, status=FilmStatus.DELIVERED)

    _succeed(job, message=f"Delivered {len(shots)} shots, {info.frame_count} frames.", write=record)
    leftovers.clear()


RUNNERS: dict[str, Callable[[RestorationJob, list[Path]], None]] = {
    JobKind.RESTORE: restore_run,
    JobKind.ANALYSE: analyse_run,
    JobKind.PROXIES: proxies_run,
    JobKind.DELIVER: deliver_run,
}
