"""Deliver jobs (``cpu`` queue): every shot's approved version, in shot order, in one lossless
FFV1/MKV file recorded as the film's delivery asset; the film is delivered. A shot's approved
grade is applied on the way unless its version was restored with a grade baked in."""

from __future__ import annotations

import os
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from restoration.api import clips_join
from webapp.catalogue.ingest import asset_fields_from_probe
from webapp.catalogue.models import AssetKind, Film, FilmStatus, Shot
from webapp.catalogue.services import asset_create
from webapp.catalogue.status import film_status_advance
from webapp.colour.models import VersionGradeMode
from webapp.colour.selectors import grade_applied, grade_values_of, version_grade_of
from webapp.jobs.lifecycle import job_create, jobs_enqueue_on_commit
from webapp.jobs.models import JobKind, RestorationJob
from webapp.jobs.registry import CPU_QUEUE, JobRunner, register
from webapp.jobs.runtime import frames_total_set, job_succeed, output_path, progress_reporter, scratch_path


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


def deliver_run(job: RestorationJob, leftovers: list[Path]) -> None:
    """The approved versions end to end in one FFV1/MKV, at the first shot's frame rate."""
    shots = list(Shot.objects.filter(film=job.film).order_by("number").select_related("approved_version__media"))
    missing = [str(shot.number) for shot in shots if shot.approved_version is None or shot.approved_version.media is None]
    if missing:
        raise ValueError(f"shots without approved media: {', '.join(missing)}")
    medias = [shot.approved_version.media for shot in shots]
    grades, stale = _delivery_grades(shots)
    frames_total_set(job, sum(media.frame_count or 0 for media in medias))
    report = progress_reporter(job)
    temp = scratch_path(job, ".mkv")
    leftovers.append(temp)
    info = clips_join([media.file.path for media in medias], temp, fps=shots[0].fps, progress=report, grades=grades)
    name, final_path = output_path(job, folder="deliveries", stem=f"film{job.film_id}", extension=".mkv")
    leftovers.append(final_path)

    def record(row: RestorationJob) -> None:
        os.replace(temp, final_path)  # final only with this transaction's commit (media_files)
        asset_create(film=job.film, kind=AssetKind.DELIVERY, file=name, original_name=final_path.name,
                     **asset_fields_from_probe(info, path=final_path))
        film_status_advance(film=job.film, status=FilmStatus.DELIVERED)

    graded = sum(grade is not None for grade in grades)
    message = f"Delivered {len(shots)} shots, {info.frame_count} frames"
    message += f"; {graded} graded on the way" if graded else ""
    message += (f"; shots {', '.join(map(str, stale))} carry an older grade than their approved one (restore them "
                "again to bake it)" if stale else "")
    job_succeed(job, message=message[:490] + ".", write=record)
    leftovers.clear()


def _delivery_grades(shots: list[Shot]) -> tuple[list, list[int]]:
    """The grade to apply to each shot's approved version on the way: the shot's approved grade
    (``colour.selectors.grade_applied``) unless the version's pictures already carry one (a
    restore job baked it in). Also the shots whose baked grade is not their approved one now."""
    grades, stale = [], []
    for shot in shots:
        applied, _ = grade_applied(shot)
        link = version_grade_of(shot.approved_version)
        if link is not None and link.mode == VersionGradeMode.BAKED:
            grades.append(None)
            if applied is not None and applied.pk != link.grade_id:
                stale.append(shot.number)
        else:
            grades.append(grade_values_of(applied) if applied is not None else None)
    return grades, stale


RUNNER = register(JobRunner(kind=JobKind.DELIVER, queue=CPU_QUEUE, dispatch=job_deliver_dispatch, run=deliver_run))
