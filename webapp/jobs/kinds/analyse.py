"""Analyse jobs (``cpu`` queue): a scan's shots with their metrics and recommended pipeline,
then the review previews of the original; the film moves to in restoration."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from restoration.api import analyse
from webapp.catalogue.models import AssetKind, Film, FilmStatus, MediaAsset, Shot, ShotStatus
from webapp.catalogue.previews import previews_render
from webapp.catalogue.status import film_status_advance
from webapp.jobs.lifecycle import job_check_still_running, job_create, jobs_enqueue_on_commit
from webapp.jobs.models import JobKind, RestorationJob
from webapp.jobs.registry import CPU_QUEUE, JobRunner, register
from webapp.jobs.runtime import frames_total_set, job_succeed, progress_reporter

ANALYSIS_SHARE = 0.5  # of an analyse job's progress; rendering the scan's previews is the rest
SCANS = (AssetKind.ORIGINAL, AssetKind.MEZZANINE)


def scan_of(film: Film, asset_id: object) -> MediaAsset:
    """The film's scan (an original or mezzanine asset with probed frames) named ``asset_id``."""
    asset = MediaAsset.objects.filter(pk=asset_id, film=film, kind__in=SCANS).first() \
        if isinstance(asset_id, int) and not isinstance(asset_id, bool) else None
    if asset is None:
        raise ValidationError({"asset": f"No scan {asset_id!r} in this film (an original or mezzanine asset id)."})
    if not asset.frame_count or not asset.height:
        raise ValidationError({"asset": f"Asset {asset.pk} has no probed video frames."})
    return asset


def scan_job_dispatch(*, kind: str, film: Film, asset_id: object, user: AbstractBaseUser | None) -> RestorationJob:
    """A job of ``kind`` on one of the film's scans, sent to its queue once the row commits."""
    asset = scan_of(film, asset_id)
    with transaction.atomic():
        job = job_create(film=film, kind=kind, created_by=user, params={"asset": asset.pk})
        jobs_enqueue_on_commit([job])
    return job


def job_analyse_dispatch(*, film: Film, asset_id: object, user: AbstractBaseUser | None) -> RestorationJob:
    """Analyse a scan of ``film`` (cpu queue): shots with their metrics and recommended pipeline,
    then review proxies, thumbnails and filmstrips of the original; the film moves to
    in_restoration."""
    return scan_job_dispatch(kind=JobKind.ANALYSE, film=film, asset_id=asset_id, user=user)


def analyse_run(job: RestorationJob, leftovers: list[Path]) -> None:
    """The scan's shots with their metrics and recommended pipeline, then its review previews.

    The first time, the engine finds the shots (cuts and dissolves) and they are created; when
    the scan already has shots (cut by hand, or analysed before) their own spans are measured
    and only their metrics change, so analysing again never adds or moves shots."""
    asset = MediaAsset.objects.get(pk=job.params["asset"])
    frames_total_set(job, asset.frame_count)
    film_status_advance(film=job.film, status=FilmStatus.INGESTING)
    report = progress_reporter(job, share=(0.0, ANALYSIS_SHARE))
    existing = list(Shot.objects.filter(source=asset).order_by("start_frame"))
    spans = [(shot.start_frame, shot.end_frame) for shot in existing] if existing else None
    analysed = analyse(asset.file.path, fps=asset.fps, spans=spans, progress=report)
    found = [(s["start_frame"], s["end_frame"], _shot_metrics(s)) for s in analysed]
    transitions = [s.get("transition_in") for s in analysed]

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
                      source=asset, metrics=metrics, transition_in=transition, status=ShotStatus.PENDING)
                 for n, ((start, end, metrics), transition) in enumerate(zip(found, transitions, strict=True))],
                batch_size=500,
            )
        row.message = f"{len(found)} shots measured; rendering review previews."
        row.save(update_fields=["message"])
    spans = [(start, end + 1) for start, end, _ in found]
    previews_render(asset=asset, spans=spans,
                    progress=progress_reporter(job, share=(ANALYSIS_SHARE, 1.0), count_frames=False))

    def film_ready(row: RestorationJob) -> None:
        film_status_advance(film=job.film, status=FilmStatus.IN_RESTORATION)

    job_succeed(job, message=f"{len(spans)} shots analysed; previews ready.", write=film_ready)


def _shot_metrics(shot: dict) -> dict:
    """What a shot row keeps of the engine's analysis: its metrics with the recommended pipeline
    and colour notes."""
    return {**shot["metrics"], "recommended_pipeline": shot["recommended_pipeline"],
            "colour_notes": shot["colour_notes"]}


RUNNER = register(JobRunner(kind=JobKind.ANALYSE, queue=CPU_QUEUE, dispatch=job_analyse_dispatch, run=analyse_run))
