"""Grade fit jobs (``cpu`` queue): a grade learned from a colourist's graded reference stills.

``job_grade_fit_dispatch`` checks the references in the request (``colour.references``: frames
inside their shots, stills that are pictures and register to their frames), then stores the
stills, their rows and the job in one transaction, and sends the job once it commits: bad input
is a 400 with nothing kept. ``grade_fit_run`` reads the frames and stills, fits the CDL then the
residual LUT (``restoration.api.grade_fit``, progress by step), and commits the new grade
(proposed for sign-off, with its report) together with the job's success; a fit the engine
refuses (held-out error too high: it would not generalise) fails the job with its one-line reason,
and its references stay with the job for a retry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from restoration.api import grade_fit
from webapp.catalogue.models import Film, Shot
from webapp.colour.models import Grade, GradeReference, GradeSource, Scene
from webapp.colour.references import ReferenceInput, engine_references, references_prepare, references_store
from webapp.colour.services import MAX_NOTE_CHARS, grade_create
from webapp.jobs.lifecycle import job_create, jobs_enqueue_on_commit
from webapp.jobs.models import JobKind, RestorationJob
from webapp.jobs.registry import CPU_QUEUE, JobRunner, register
from webapp.jobs.runtime import job_succeed, progress_reporter


def job_grade_fit_dispatch(*, film: Film, user: AbstractBaseUser | None, references: list[ReferenceInput],
                           shot: Shot | None = None, scene: Scene | None = None, parent: Grade | None = None,
                           note: str = "") -> RestorationJob:
    """A pending fit job for the shot or scene from 1 to 8 references (uploaded stills or
    versions' frames), sent to the cpu queue once its rows commit. ValidationError naming the
    problem otherwise, and nothing is kept (no still file, no row, no job)."""
    if parent is not None and parent.film_id != film.pk:
        raise ValidationError({"parent": "The parent grade belongs to another film."})
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise ValidationError({"note": f"Text of at most {MAX_NOTE_CHARS} characters."})
    prepared = references_prepare(film=film, shot=shot, scene=scene, references=references)
    try:
        with transaction.atomic():
            rows = references_store(prepared, film=film, user=user)
            job = job_create(film=film, kind=JobKind.GRADE_FIT, shot=shot, created_by=user, params={
                "shot": shot.pk if shot is not None else None, "scene": scene.pk if scene is not None else None,
                "references": [row.pk for row in rows], "parent": parent.pk if parent is not None else None,
                "note": note, "registration": prepared.registration,
            })
            jobs_enqueue_on_commit([job])
    except BaseException:
        prepared.discard()  # the stills of a transaction that did not commit
        raise
    return job


def grade_fit_run(job: RestorationJob, leftovers: list[Path]) -> None:
    params: dict[str, Any] = job.params
    ids = list(params["references"])
    references = list(GradeReference.objects.filter(pk__in=ids)
                      .select_related("shot__source", "still", "version__media").order_by("pk"))
    if len(references) != len(ids):
        raise ValueError("a reference still of this fit no longer exists")
    result = grade_fit(engine_references(references), progress=progress_reporter(job, count_frames=False))
    shot = Shot.objects.get(pk=params["shot"]) if params.get("shot") else None
    scene = Scene.objects.get(pk=params["scene"]) if params.get("scene") else None
    parent = Grade.objects.defer("lut").filter(pk=params.get("parent")).first() if params.get("parent") else None
    report = result.report

    def record(row: RestorationJob) -> str:
        grade = grade_create(
            values=result.values, source=GradeSource.FIT, author=job.created_by, shot=shot, scene=scene,
            parent=parent, report=report, fit_job_id=job.pk,
            note=params.get("note") or f"Learned by job {job.pk} from {len(references)} graded still(s).",
        )
        GradeReference.objects.filter(pk__in=ids).update(grade=grade)
        where = f"shot {shot.number}" if shot is not None else f"scene \u201c{scene.name}\u201d"
        held = report.get("holdout")
        error = (f"CIEDE2000 {held['cdl_lut' if report['lut'] else 'cdl']['mean']:.2f} on held-out stills"
                 if held else f"CIEDE2000 {report['fit']['mean']:.2f} on its still (one still: nothing held out)")
        return (f"Grade {grade.number} of {where} proposed ({error}; "
                f"{'CDL + LUT' if report['lut'] else 'CDL only'}).")

    job_succeed(job, message="", write=record)


RUNNER = register(JobRunner(kind=JobKind.GRADE_FIT, queue=CPU_QUEUE, dispatch=job_grade_fit_dispatch,
                            run=grade_fit_run))
