"""Reference stills for a grade fit: a colourist's graded pictures of a few frames, uploaded, or
frames of another version of the shot. Checked in the request (so bad input is a 400 and nothing
is kept), stored with the fit job's row, read by the job.

1. ``references_prepare`` (no writes): 1 to ``MAX_REFERENCES`` references; each frame inside its
   shot (a scene's fit names the shot of each frame); an upload, streamed to the staging folder
   by the upload handler within ``MAX_STILL_BYTES``, must be one PNG, TIFF or JPEG picture
   (``restoration.api.still_probe``); a version must be of the same shot, with media covering
   the frame; then every still must register to its frame (same picture, aspect within 2 %:
   ``grade_references_register``), the check a fit makes first.
2. ``references_store``, inside the transaction that creates the fit job: each upload is linked to
   a generated name under ``colour/references/film-<id>/`` and recorded as a media asset of kind
   ``reference`` (so deleting it frees the file, and the orphan sweep knows it), with a
   ``GradeReference`` row per reference. ``PreparedReferences.discard`` removes the files of a
   transaction that did not commit. The user's file name is kept only as ``original_name``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from restoration import api as engine
from restoration.errors import RestorationError
from webapp.catalogue.ingest import IngestError, clean_original_name, frame_pixels_problem
from webapp.catalogue.media_files import uncommitted_remove
from webapp.catalogue.models import AssetKind, Film, MediaAsset, Shot, ShotVersion
from webapp.catalogue.services import asset_create
from webapp.catalogue.timecode import media_frame, rate_ratio
from webapp.colour.models import GradeReference, Scene
from webapp.colour.selectors import scene_shots

MAX_REFERENCES = 8
STILL_EXTENSIONS = {"PNG": ".png", "TIFF": ".tif", "JPEG": ".jpg"}
STILLS_FOLDER = "colour/references"


@dataclass
class ReferenceInput:
    """One reference as the request gave it: the shot and frame it grades, and either an upload
    (staged by the upload handler) or a version whose picture at that frame is the still."""

    frame: Any
    shot: Shot | None = None
    upload: UploadedFile | None = None
    version: ShotVersion | None = None


@dataclass
class _Checked:
    shot: Shot
    frame: int
    label: str
    upload_path: Path | None = None
    original_name: str = ""
    info: Any = None
    version: ShotVersion | None = None
    version_frame: int | None = None


@dataclass
class PreparedReferences:
    """References checked and ready to store; ``stored`` lists the files linked so far."""

    items: list[_Checked]
    registration: list[dict]
    stored: list[Path] = field(default_factory=list)

    def discard(self) -> None:
        """Remove stored files that no committed row names (after a failed transaction)."""
        uncommitted_remove(*self.stored)
        self.stored.clear()


def fit_target_check(*, film: Film, shot: Shot | None, scene: Scene | None) -> None:
    if (shot is None) == (scene is None):
        raise ValidationError({"non_field_errors": ["Fit a grade for a shot or for a scene (one of them)."]})
    if (shot or scene).film_id != film.pk:
        raise ValidationError({"shot" if shot is not None else "scene": "It belongs to another film."})


def _reference_shot(*, given: Shot | None, target_shot: Shot | None, scene: Scene | None, field: str) -> Shot:
    if target_shot is not None:
        if given is not None and given.pk != target_shot.pk:
            raise ValidationError({field: f"Shot {given.number} is not the shot being graded."})
        return target_shot
    if given is None:
        raise ValidationError({field: "Name the shot of each reference frame: the grade is a scene's."})
    if not scene_shots(scene).filter(pk=given.pk).exists():
        raise ValidationError({field: f"Shot {given.number} is not in the scene \u201c{scene.name}\u201d."})
    return given


def _frame(value: Any, shot: Shot, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: f"Frame must be a whole number, got {value!r}."})
    if not 0 <= value < shot.frame_count:
        raise ValidationError({field: f"Frame {value} is outside shot {shot.number} "
                                      f"(frames 0 to {shot.frame_count - 1})."})
    source = shot.source
    if source is None or not source.frame_count:
        raise ValidationError({field: f"Shot {shot.number} has no source scan to compare the still with."})
    if shot.start_frame + value >= source.frame_count:
        raise ValidationError({field: f"Frame {value} of shot {shot.number} is past the end of its scan."})
    return value


def _one_line(exc: Exception, path: Path | None = None, name: str = "") -> str:
    message = str(exc)
    return message.replace(str(path), name) if path is not None else message


def _check_upload(upload: UploadedFile) -> tuple[Path, str, Any]:
    try:
        name = clean_original_name(upload.name or "")
    except IngestError as exc:
        raise ValidationError({"still": str(exc)}) from None
    limit = settings.MAX_STILL_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError({"still": f"{name}: larger than the still limit of {limit} bytes."})
    if not hasattr(upload, "temporary_file_path"):
        raise ValidationError({"still": f"{name}: the upload was not staged to disk."})
    path = Path(upload.temporary_file_path())
    try:
        info = engine.still_probe(path)
    except RestorationError as exc:
        raise ValidationError({"still": _one_line(exc, path, name)}) from None
    if info.format not in STILL_EXTENSIONS:
        raise ValidationError({"still": f"{name}: a {info.format} picture; send a PNG, TIFF or JPEG still."})
    problem = frame_pixels_problem(info.width, info.height)
    if problem:
        raise ValidationError({"still": f"{name}: {problem}."})
    return path, name, info


def references_prepare(*, film: Film, shot: Shot | None, scene: Scene | None,
                       references: list[ReferenceInput]) -> PreparedReferences:
    """Check a fit's references (see the module): ValidationError naming the problem, and
    nothing written."""
    fit_target_check(film=film, shot=shot, scene=scene)
    if not 1 <= len(references) <= MAX_REFERENCES:
        raise ValidationError({"references": f"Give 1 to {MAX_REFERENCES} reference stills, got {len(references)}."})
    checked: list[_Checked] = []
    for reference in references:
        field = "still" if reference.upload is not None else "references"
        given = reference.shot
        if reference.version is not None:
            version = reference.version
            if version.shot.film_id != film.pk:
                raise ValidationError({field: f"Version {version.pk} does not exist."})
            given = given or version.shot
        ref_shot = _reference_shot(given=given, target_shot=shot, scene=scene, field=field)
        frame = _frame(reference.frame, ref_shot, field)
        item = _Checked(shot=ref_shot, frame=frame, label=f"frame {frame} of shot {ref_shot.number}")
        if reference.upload is not None:
            item.upload_path, item.original_name, item.info = _check_upload(reference.upload)
            item.label += f" ({item.original_name})"
        elif reference.version is not None:
            version = reference.version
            if version.shot_id != ref_shot.pk:
                raise ValidationError({field: f"Version {version.number} of shot {version.shot.number} is not a "
                                              f"version of shot {ref_shot.number}."})
            media = version.media
            if media is None or not media.frame_count:
                raise ValidationError({field: f"Version {version.number} of shot {ref_shot.number} has no picture."})
            index = media_frame(frame, rate_ratio(ref_shot.fps, media.fps))
            if index >= media.frame_count:
                raise ValidationError({field: f"Version {version.number} has no picture at frame {frame}."})
            item.version, item.version_frame = version, index
            item.label += f" (version {version.number})"
        else:
            raise ValidationError({field: "Each reference is an uploaded still or a version's frame."})
        checked.append(item)
    try:
        registration = engine.grade_references_register([_engine_reference(item) for item in checked])
    except RestorationError as exc:
        field = "still" if any(item.upload_path for item in checked) else "references"
        message = str(exc)
        for item in checked:
            if item.upload_path is not None:
                message = message.replace(str(item.upload_path), item.original_name)
        raise ValidationError({field: message}) from None
    return PreparedReferences(items=checked, registration=registration)


def _engine_reference(item: _Checked) -> engine.GradeReference:
    scan = item.shot.source.file.path
    if item.upload_path is not None:
        return engine.GradeReference(scan=scan, frame=item.shot.start_frame + item.frame, still=item.upload_path,
                                     label=item.label)
    return engine.GradeReference(scan=scan, frame=item.shot.start_frame + item.frame,
                                 still=item.version.media.file.path, still_frame=item.version_frame, label=item.label)


def _link(staged: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(staged, final)  # the staged upload is deleted with its request; the link stays
    except OSError:
        shutil.copyfile(staged, final)


def references_store(prepared: PreparedReferences, *, film: Film,
                     user: AbstractBaseUser | None) -> list[GradeReference]:
    """Store the stills and record the references (call inside the creating transaction; on its
    failure call ``prepared.discard()``)."""
    rows = []
    for item in prepared.items:
        still: MediaAsset | None = None
        if item.upload_path is not None:
            name = f"{STILLS_FOLDER}/film-{film.pk}/{uuid.uuid4().hex}{STILL_EXTENSIONS[item.info.format]}"
            final = Path(settings.MEDIA_ROOT) / name
            prepared.stored.append(final)
            _link(item.upload_path, final)
            still = asset_create(film=film, kind=AssetKind.REFERENCE, file=name, original_name=item.original_name,
                                 size_bytes=final.stat().st_size, container=item.info.format.lower(),
                                 width=item.info.width, height=item.info.height, frame_count=1,
                                 bit_depth=item.info.bit_depth)
        rows.append(GradeReference.objects.create(film=film, shot=item.shot, frame=item.frame, still=still,
                                                  version=item.version, created_by=user))
    return rows


def engine_references(references: list[GradeReference]) -> list[engine.GradeReference]:
    """The engine's view of stored references (for the fit job)."""
    out = []
    for reference in references:
        shot = reference.shot
        scan = shot.source.file.path
        label = f"frame {reference.frame} of shot {shot.number}"
        if reference.still_id is not None:
            out.append(engine.GradeReference(scan=scan, frame=shot.start_frame + reference.frame,
                                             still=reference.still.file.path,
                                             label=f"{label} ({reference.still.original_name})"))
        else:
            media = reference.version.media
            out.append(engine.GradeReference(
                scan=scan, frame=shot.start_frame + reference.frame, still=media.file.path,
                still_frame=media_frame(reference.frame, rate_ratio(shot.fps, media.fps)),
                label=f"{label} (version {reference.version.number})"))
    return out
