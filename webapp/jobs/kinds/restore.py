"""Restore jobs (``gpu`` queue): one shot through a pipeline spec into a new version, in review;
the shot's approved grade, if any (``colour.selectors.grade_applied``), is applied last, and the
version records it (``colour.VersionGrade``, mode ``baked``).

``job_restore_dispatch`` starts one; ``job_batch_restore_dispatch`` a batch (a parent whose
restore children, one per shot, run on their own; the parent is summed from them by
``lifecycle.batch_sync``). The shot is in restoration while a restore job runs on it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from restoration.api import PRESET_NAMES, default_device, preset_spec, restore_frames, spec_validate
from restoration.errors import SpecError
from webapp.catalogue.ingest import asset_fields_from_probe
from webapp.catalogue.models import AssetKind, Film, Shot
from webapp.catalogue.previews import previews_render
from webapp.catalogue.selectors import shot_transition_spans
from webapp.catalogue.services import asset_create, version_create, version_publish
from webapp.catalogue.status import shot_status_update
from webapp.colour.models import VersionGradeMode
from webapp.colour.selectors import grade_applied, grade_values_of
from webapp.colour.services import version_grade_record
from webapp.jobs.events import shot_status_announce, version_created_announce
from webapp.jobs.faultpoints import AFTER_COMMIT, BEFORE_COMMIT, BEFORE_RENAME, faultpoint
from webapp.jobs.lifecycle import job_create, jobs_enqueue_on_commit, new_task_id
from webapp.jobs.models import JobKind, JobStatus, RestorationJob
from webapp.jobs.registry import GPU_QUEUE, JobRunner, register
from webapp.jobs.runtime import job_succeed, output_path, progress_reporter, scratch_path

logger = logging.getLogger(__name__)

# A spec is a few ops with a few parameters each (the engine allows at most 32 ops): a few KB.
MAX_SPEC_JSON_BYTES = 64 * 1024
RESULT_EXTENSION = ".mkv"  # FFV1: lossless, so review sees exactly what the pipeline made


# Dispatch ------------------------------------------------------------------------------------


def restore_spec_resolve(*, preset: str | None = None, pipeline: Any = None) -> dict[str, Any]:
    """The pipeline spec of a restore job from a preset name or a spec, validated by the engine
    and with the ops' default parameters written out.

    Exactly one of the two; a bad one raises ``ValidationError`` naming ``preset`` or
    ``pipeline`` with the engine's message (which names the bad field inside the spec)."""
    if (preset is None) == (pipeline is None):
        raise ValidationError({"non_field_errors": ["Give either a preset or a pipeline spec, not both or neither."]})
    if preset is not None and preset not in PRESET_NAMES:
        raise ValidationError({"preset": f"Unknown preset {preset!r}; use one of {', '.join(PRESET_NAMES)}."})
    if pipeline is not None:
        size = len(json.dumps(pipeline, separators=(",", ":")))
        if size > MAX_SPEC_JSON_BYTES:
            raise ValidationError({"pipeline": f"The spec is {size} bytes of JSON (at most {MAX_SPEC_JSON_BYTES})."})
    try:
        # Stored with every parameter filled in: the version records exactly what ran.
        return preset_spec(preset) if preset is not None else spec_validate(pipeline)
    except SpecError as exc:
        raise ValidationError({"pipeline": str(exc)}) from None


def job_restore_dispatch(*, shot: Shot, user: AbstractBaseUser | None, spec: Mapping[str, Any]) -> RestorationJob:
    """A pending restore job for ``shot``, sent to the GPU queue once the row is committed."""
    if shot.source_id is None:
        raise ValidationError({"shot": "This shot has no source scan to restore from."})
    with transaction.atomic():
        job = job_create(film=shot.film, kind=JobKind.RESTORE, shot=shot, created_by=user, params={"spec": dict(spec)})
        jobs_enqueue_on_commit([job])
    return job


def job_batch_restore_dispatch(
    *, film: Film, shot_ids: Sequence[int] | None, user: AbstractBaseUser | None, spec: Mapping[str, Any]
) -> RestorationJob:
    """One batch job restoring many shots of ``film`` (``shot_ids`` None: all of them): a parent
    and one restore child per shot, created in one transaction (a few queries however many
    shots), each child sent to the GPU queue once committed. Shots of another film, unknown ids
    and shots without a source are refused by name, and nothing is created."""
    shots = Shot.objects.filter(film=film).order_by("number").only("pk", "number", "start_frame", "end_frame",
                                                                   "source_id", "film_id")
    if shot_ids is not None:
        wanted = list(dict.fromkeys(shot_ids))
        shots = list(shots.filter(pk__in=wanted))
        missing = sorted(set(wanted) - {shot.pk for shot in shots})
        if missing:
            raise ValidationError({"shots": f"No such shots in this film: {', '.join(map(str, missing))}."})
    else:
        shots = list(shots)
    if not shots:
        raise ValidationError({"shots": "The film has no shots to restore."})
    sourceless = [shot.number for shot in shots if shot.source_id is None]
    if sourceless:
        raise ValidationError({"shots": f"Shots without a source scan cannot be restored: {', '.join(map(str, sourceless))}."})
    with transaction.atomic():
        parent = job_create(
            film=film, kind=JobKind.RESTORE_BATCH, created_by=user,
            params={"spec": dict(spec), "shots": "all" if shot_ids is None else [shot.pk for shot in shots]},
        )
        children = RestorationJob.objects.bulk_create(
            [
                RestorationJob(
                    film=film, kind=JobKind.RESTORE, shot=shot, parent=parent, params={"spec": dict(spec)},
                    created_by=user, frames_total=shot.frame_count, celery_task_id=new_task_id(),
                )
                for shot in shots
            ],
            batch_size=500,
        )
        parent.frames_total = sum(child.frames_total for child in children)
        parent.summary = {"children": {JobStatus.PENDING: len(children)}, "failed_shots": []}
        parent.save(update_fields=["frames_total", "summary"])
        jobs_enqueue_on_commit(children)
    return parent


# Running -------------------------------------------------------------------------------------


def restore_run(job: RestorationJob, leftovers: list[Path]) -> None:
    """The shot's frames through its spec, into a new in-review version, committed together
    with the job's success; then the version's review previews."""
    shot = job.shot
    temp = scratch_path(job, RESULT_EXTENSION)
    leftovers.append(temp)
    # The shot's approved grade (its own, else its scene's) is the last step; the version records it.
    grade, graded_from = grade_applied(shot)
    # Restore tasks go to the gpu queue; a worker without CUDA (a laptop, the tests) still works.
    ran = restore_frames(shot.source.file.path, temp, spec=job.params["spec"], start=shot.start_frame,
                         count=job.frames_total, fps=shot.fps, device=default_device(),
                         progress=progress_reporter(job), grade=grade_values_of(grade) if grade else None,
                         transitions=shot_transition_spans(shot=shot))
    graded = f"; then its {graded_from}'s approved grade {grade.number}" if grade is not None else ""
    name, final_path = output_path(job, folder="versions", stem=f"shot{shot.number}", extension=RESULT_EXTENSION)
    leftovers.append(final_path)

    def record(row: RestorationJob) -> str:
        faultpoint(BEFORE_RENAME)
        os.replace(temp, final_path)  # final only with this transaction's commit (media_files)
        asset = asset_create(film=shot.film, kind=AssetKind.MEZZANINE, file=name, original_name=final_path.name,
                             **asset_fields_from_probe(ran.info, path=final_path))
        version = version_create(
            shot=shot, author=job.created_by, pipeline_spec=ran.spec, media=asset,
            notes=f"Restored by job {job.pk}: {ran.summary}{graded}.",
        )
        if grade is not None:
            version_grade_record(version=version, grade=grade, mode=VersionGradeMode.BAKED, user=job.created_by)
        version_publish(version=version)
        row.result_version = version
        faultpoint(BEFORE_COMMIT)
        return f"Version {version.number} is ready for review."

    def announce(row: RestorationJob) -> None:
        faultpoint(AFTER_COMMIT)
        leftovers.clear()  # committed: the file is the version's now
        _version_previews(row)
        version_created_announce(row.result_version, film_id=job.film_id)
        shot_status_announce(Shot.objects.get(pk=shot.pk))  # in review now (version_publish)

    job_succeed(job, message="", write=record, committed=announce)


def _version_previews(job: RestorationJob) -> None:
    """Review proxies, thumbnail and filmstrip of a restore job's version. Idempotent, and
    never fails the job: the viewer decodes a missing proxy frame on demand."""
    if job.result_version_id is None:
        return
    try:
        previews_render(asset=job.result_version.media)
    except Exception:  # noqa: BLE001 - previews are a cache of the committed media
        logger.warning("Could not render the previews of version %s", job.result_version_id, exc_info=True)


def _shot_restoration_ended(job: RestorationJob) -> None:
    """The shot leaves in_restoration once no restore job of it is running any more."""
    try:
        with transaction.atomic():
            shot = Shot.objects.select_for_update().get(pk=job.shot_id)
            if RestorationJob.objects.filter(shot_id=shot.pk, kind=JobKind.RESTORE, status=JobStatus.RUNNING).exists():
                return
            before = shot.status
            shot_status_update(shot=shot, restoring=False)
        if shot.status != before:
            shot_status_announce(shot)
    except Exception:  # noqa: BLE001 - the next job or decision on the shot derives it again
        logger.warning("Could not refresh the status of shot %s after job %s", job.shot_id, job.pk, exc_info=True)


def _restore_started(job: RestorationJob) -> None:
    shot_status_update(shot=job.shot, restoring=True)


RUNNER = register(JobRunner(
    kind=JobKind.RESTORE, queue=GPU_QUEUE, dispatch=job_restore_dispatch, run=restore_run,
    started=_restore_started, ended=_shot_restoration_ended, redelivered=_version_previews,
))
