"""Writes of colour: scenes, grades (by hand, imported, fitted), sign-off decisions, and the grade
a version was made or reviewed with. Reference stills are ``references.py``'s.

A grade is appended, never edited: ``grade_create`` numbers it after its shot's (or scene's)
last one, and notifies the people who must sign it and the film's group, once it commits. A
decision moves the grade under the film's approval policy (review's rules, through
``approval.approval_rules``): any current reject rejects it, any current "changes requested"
keeps it open, an approval from every required role approves it. An approved grade is final, as
is a rejected one: a new look is a new grade.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from restoration.api import GradeValues, grade_check, grade_file_corrections, grade_file_read
from restoration.errors import SpecError
from webapp.catalogue.access import ALLOWED_ROLES, Action, film_role
from webapp.catalogue.models import Film, Shot, ShotVersion, VersionStatus
from webapp.catalogue.status import OPEN_VERSION_STATUSES
from webapp.colour.approval import APPROVED, REJECTED, ApprovalRequirement, approval_rules
from webapp.colour.events import grade_created_announce, grade_decided_announce
from webapp.colour.models import (
    LUT_BYTES,
    LUT_SIZE,
    Grade,
    GradeDecision,
    GradeSource,
    GradeStatus,
    GradeVerdict,
    Scene,
    SceneSource,
    VersionGrade,
    VersionGradeMode,
)
from webapp.colour.notify import notify_grade_decision, notify_grade_ready
from webapp.colour.scenes import scene_runs
from webapp.colour.selectors import grade_values_of, scene_of_shot, scene_shots

MAX_NOTE_CHARS = 5000
MAX_NAME_CHARS = 200

# Scenes --------------------------------------------------------------------------------------


def _scene_range_check(*, film: Film, first_number: Any, last_number: Any, exclude: Scene | None = None) -> None:
    """A run of existing shots of the film that no other scene of it covers (film row locked)."""
    for name, value in (("first_number", first_number), ("last_number", last_number)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError({name: f"Must be a shot number (1 or more), got {value!r}."})
    if last_number < first_number:
        raise ValidationError({"last_number": "The scene ends before it starts."})
    numbers = set(Shot.objects.filter(film=film, number__gte=first_number, number__lte=last_number)
                  .values_list("number", flat=True))
    missing = [n for n in range(first_number, last_number + 1) if n not in numbers][:10]
    if missing:
        raise ValidationError({"first_number": f"The film has no shot {', '.join(map(str, missing))}."})
    overlapping = Scene.objects.filter(film=film, first_number__lte=last_number, last_number__gte=first_number)
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude.pk)
    other = overlapping.order_by("first_number").first()
    if other is not None:
        raise ValidationError({"first_number": f"Shots {other.first_number}-{other.last_number} are already the "
                                               f"scene \u201c{other.name}\u201d; scenes do not overlap."})


def _scene_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": "A scene needs a name."})
    if len(name) > MAX_NAME_CHARS:
        raise ValidationError({"name": f"At most {MAX_NAME_CHARS} characters."})
    return name.strip()


@transaction.atomic
def scene_create(*, film: Film, name: str, first_number: int, last_number: int, user: AbstractBaseUser | None,
                 source: str = SceneSource.MANUAL) -> Scene:
    """A scene of shots ``first_number .. last_number`` of the film (consecutive, not in a scene)."""
    Film.objects.select_for_update().only("pk").get(pk=film.pk)  # scenes of a film are checked one at a time
    name = _scene_name(name)
    _scene_range_check(film=film, first_number=first_number, last_number=last_number)
    return Scene.objects.create(film=film, name=name, first_number=first_number, last_number=last_number,
                                source=source, created_by=user)


@transaction.atomic
def scene_update(*, scene: Scene, name: str | None = None, first_number: int | None = None,
                 last_number: int | None = None) -> Scene:
    """Rename a scene or move its ends (its grades then apply to its new shots)."""
    Film.objects.select_for_update().only("pk").get(pk=scene.film_id)
    scene = Scene.objects.select_for_update().get(pk=scene.pk)
    if name is not None:
        scene.name = _scene_name(name)
    first = scene.first_number if first_number is None else first_number
    last = scene.last_number if last_number is None else last_number
    _scene_range_check(film=scene.film, first_number=first, last_number=last, exclude=scene)
    scene.first_number, scene.last_number = first, last
    scene.save(update_fields=["name", "first_number", "last_number", "updated_at"])
    return scene


@transaction.atomic
def scene_delete(*, scene: Scene) -> None:
    """Remove a scene that has no grade (a graded scene is part of the colour record)."""
    scene = Scene.objects.select_for_update().get(pk=scene.pk)
    if scene.grades.exists():
        raise ValidationError({"non_field_errors": [
            f"The scene \u201c{scene.name}\u201d has grades; they are the colour record, so it stays."]})
    scene.delete()


@transaction.atomic
def scenes_propose(*, film: Film, user: AbstractBaseUser | None) -> list[Scene]:
    """Scenes proposed from the analysis for the shots in no scene yet: runs of consecutive,
    measured shots of one look (``scenes.scene_runs``). Returns the scenes made."""
    Film.objects.select_for_update().only("pk").get(pk=film.pk)
    taken = set()
    for first, last in Scene.objects.filter(film=film).values_list("first_number", "last_number"):
        taken.update(range(first, last + 1))
    shots = [(number, metrics) for number, metrics in
             Shot.objects.filter(film=film).order_by("number").values_list("number", "metrics")]
    free = [(number, metrics if number not in taken else {}) for number, metrics in shots]
    made = []
    for first, last in scene_runs(free):
        made.append(Scene.objects.create(film=film, name=f"Shots {first}-{last}", first_number=first,
                                         last_number=last, source=SceneSource.ANALYSIS, created_by=user))
    return made


# Grades --------------------------------------------------------------------------------------


def grade_values_check(cdl: Any, lut=None, *, field: str = "cdl") -> GradeValues:
    """The engine's check of a grade's values; its message as a ValidationError on ``field``."""
    try:
        return grade_check(cdl, lut)
    except SpecError as exc:
        raise ValidationError({field: str(exc)}) from None


def _note(note: Any) -> str:
    if not isinstance(note, str):
        raise ValidationError({"note": "Must be text."})
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError({"note": f"At most {MAX_NOTE_CHARS} characters."})
    return note


@transaction.atomic
def grade_create(
    *,
    values: GradeValues,
    source: str,
    author: AbstractBaseUser | None,
    shot: Shot | None = None,
    scene: Scene | None = None,
    parent: Grade | None = None,
    note: str = "",
    report: Mapping[str, Any] | None = None,
    fit_job_id: int | None = None,
) -> Grade:
    """A new grade of ``shot`` or of ``scene`` (one of them), numbered after its last one,
    proposed for sign-off: the deciders are notified, the film's group hears of it on commit."""
    if (shot is None) == (scene is None):
        raise ValidationError({"non_field_errors": ["A grade is for a shot or for a scene (one of them)."]})
    if source not in GradeSource.values:
        raise ValidationError({"source": f"Must be one of {', '.join(GradeSource.values)}."})
    film_id = shot.film_id if shot is not None else scene.film_id
    if parent is not None and parent.film_id != film_id:
        raise ValidationError({"parent": "The parent grade belongs to another film."})
    values = grade_values_check(values.cdl, values.lut)
    note = _note(note)
    # Lock the shot (or scene) so two grades made at once cannot take the same number.
    if shot is not None:
        Shot.objects.select_for_update().only("pk").get(pk=shot.pk)
        last = Grade.objects.filter(shot=shot).aggregate(last=Max("number"))["last"] or 0
    else:
        Scene.objects.select_for_update().only("pk").get(pk=scene.pk)
        last = Grade.objects.filter(scene=scene).aggregate(last=Max("number"))["last"] or 0
    lut = values.lut
    if lut is not None and (lut.size != LUT_SIZE or len(lut.table) != LUT_BYTES):
        raise ValidationError({"lut": f"A grade's LUT has {LUT_SIZE} points a side."})
    grade = Grade.objects.create(
        film_id=film_id, shot=shot, scene=scene, number=last + 1, cdl=values.cdl,
        lut=None if lut is None else lut.table,
        lut_domain=None if lut is None else [list(lut.domain_min), list(lut.domain_max)],
        source=source, report=dict(report) if report is not None else None, note=note, author=author,
        parent=parent, fit_job_id=fit_job_id,
    )
    notify_grade_ready(grade=grade)
    grade_created_announce(grade=grade)
    return grade


def grade_derive(*, parent: Grade | None, cdl: Any, keep_lut: bool = True) -> GradeValues:
    """The values of a grade made by hand: ``cdl``, then the parent's LUT when it has one and
    ``keep_lut`` (a colourist adjusting a fitted grade's CDL keeps what the fit learned)."""
    lut = grade_values_of(parent).lut if parent is not None and keep_lut else None
    return grade_values_check(cdl, lut)


# Exchange: grade files in -----------------------------------------------------------------------

SHOT_CORRECTION = re.compile(r"^shot-(\d+)$")
SCENE_CORRECTION = re.compile(r"^scene-(\d+)-(\d+)$")


def grade_file_values(data: bytes, *, name: str, correction_id: str | None = None) -> GradeValues:
    """A grade file's values (.cdl/.cc/.ccc: the CDL; .cube: the LUT; .json: both), or a
    ValidationError on ``file`` with the engine's message (naming the file and the place)."""
    try:
        values = grade_file_read(data, name=name, correction_id=correction_id)
    except SpecError as exc:
        raise ValidationError({"file": str(exc)}) from None
    return grade_values_check(values.cdl, values.lut, field="file")


@transaction.atomic
def grade_import(*, data: bytes, name: str, author: AbstractBaseUser | None, shot: Shot | None = None,
                 scene: Scene | None = None, correction_id: str | None = None, parent: Grade | None = None,
                 note: str = "") -> Grade:
    """A new grade of the shot or scene from a grade file (see ``grade_file_values``)."""
    values = grade_file_values(data, name=name, correction_id=correction_id)
    return grade_create(values=values, source=GradeSource.IMPORT, author=author, shot=shot, scene=scene,
                        parent=parent, note=note or f"Imported from {name}.")


@transaction.atomic
def film_grades_import(*, film: Film, data: bytes, name: str, author: AbstractBaseUser | None,
                       note: str = "") -> list[Grade]:
    """A grade per correction of a film's .ccc/.cdl, each for the shot (``shot-<number>``) or scene
    (``scene-<first>-<last>``) its id names, as ``film_grades_ccc`` writes them: all or none."""
    try:
        corrections = grade_file_corrections(data, name=name)
    except SpecError as exc:
        raise ValidationError({"file": str(exc)}) from None
    shots = {shot.number: shot for shot in Shot.objects.filter(film=film)}
    scenes = {(scene.first_number, scene.last_number): scene for scene in Scene.objects.filter(film=film)}
    targets, unknown = [], []
    for key, cdl in corrections.items():
        shot_match, scene_match = SHOT_CORRECTION.match(key), SCENE_CORRECTION.match(key)
        if shot_match and int(shot_match[1]) in shots:
            targets.append((key, cdl, {"shot": shots[int(shot_match[1])]}))
        elif scene_match and (int(scene_match[1]), int(scene_match[2])) in scenes:
            targets.append((key, cdl, {"scene": scenes[(int(scene_match[1]), int(scene_match[2]))]}))
        else:
            unknown.append(key)
    if unknown:
        raise ValidationError({"file": f"{name}: these ids name no shot or scene of the film (use shot-<number> or "
                                       f"scene-<first>-<last>): {', '.join(unknown[:20])}."})
    return [grade_create(values=grade_values_check(cdl, field="file"), source=GradeSource.IMPORT, author=author,
                         note=note or f"Imported from {name} ({key}).", **target)
            for key, cdl, target in targets]


# Sign-off ------------------------------------------------------------------------------------


def _decision_frame_check(*, grade: Grade, shot: Shot | None, frame: int | None) -> Shot | None:
    """The shot of a decision's frame: the grade's own shot, or a shot of its scene."""
    if grade.shot_id is not None:
        if shot is not None and shot.pk != grade.shot_id:
            raise ValidationError({"shot": "The grade is for another shot."})
        shot = grade.shot
    elif shot is not None and not scene_shots(grade.scene).filter(pk=shot.pk).exists():
        raise ValidationError({"shot": f"Shot {shot.number} is not in the scene \u201c{grade.scene.name}\u201d."})
    if frame is None:
        return shot
    if isinstance(frame, bool) or not isinstance(frame, int):
        raise ValidationError({"frame": "Must be a frame number."})
    if shot is None:
        raise ValidationError({"shot": "Name the shot of the frame: the grade is a scene's."})
    if not 0 <= frame < shot.frame_count:
        raise ValidationError({"frame": f"Frame {frame} is outside the shot (frames 0 to {shot.frame_count - 1})."})
    return shot


@transaction.atomic
def grade_decision_record(*, grade: Grade, reviewer: AbstractBaseUser, verdict: str, note: str = "",
                          shot: Shot | None = None, frame: int | None = None) -> GradeDecision:
    """Record a sign-off verdict with the reviewer's role at this moment, then apply the film's
    approval policy to the grade. Requesting changes needs a note and the frame it is about.

    A decision speaks for a role on the film, so the reviewer needs a deciding role there
    (archivist or creator); staff without one cannot sign."""
    grade = (Grade.objects.select_for_update(of=("self",)).defer("lut").select_related("shot", "scene", "film")
             .get(pk=grade.pk))
    role = film_role(user=reviewer, film_id=grade.film_id)
    if role not in ALLOWED_ROLES[Action.DECIDE]:
        raise PermissionDenied(
            "Signing a grade needs the archivist or creator role on this film"
            + (f"; yours is {role}." if role else "; you are not a member of it.")
        )
    if verdict not in GradeVerdict.values:
        raise ValidationError({"verdict": f"Must be one of {', '.join(GradeVerdict.values)}."})
    note = _note(note)
    if verdict == GradeVerdict.CHANGES_REQUESTED:
        if not note.strip():
            raise ValidationError({"note": "Say what to change: requesting changes needs a note."})
        if frame is None:
            raise ValidationError({"frame": "Name the frame the requested change is about."})
    if not grade.is_decidable:
        raise ValidationError({"grade": f"Only a proposed grade (or one with changes requested) can be decided; "
                                        f"this one is {grade.status}."})
    shot = _decision_frame_check(grade=grade, shot=shot, frame=frame)
    # What the policy requires now is written with the decision (once: decisions are append-only).
    requirement = approval_rules().requirement(film_id=grade.film_id)
    decision = GradeDecision.objects.create(grade=grade, reviewer=reviewer, role=role, verdict=verdict, note=note,
                                            shot=shot if frame is not None or grade.shot_id else None, frame=frame,
                                            required_roles=requirement.roles_record(),
                                            required_members=requirement.members_record())
    _grade_outcome_apply(grade=grade, requirement=requirement)
    notify_grade_decision(decision=decision)
    grade_decided_announce(decision=decision, grade=grade)
    return decision


def _grade_outcome_apply(*, grade: Grade, requirement: ApprovalRequirement) -> bool:
    """Move the (locked, decidable) grade to what its decisions now lead to; True if it moved."""
    rules = approval_rules()
    decisions = list(grade.decisions.all())
    outcome = rules.outcome(decisions=decisions, requirement=requirement)
    if outcome == APPROVED:
        status = GradeStatus.APPROVED
    elif outcome == REJECTED:
        status = GradeStatus.REJECTED
    elif any(d.verdict == GradeVerdict.CHANGES_REQUESTED for d in rules.current(decisions)):
        status = GradeStatus.CHANGES_REQUESTED
    else:
        status = GradeStatus.PROPOSED
    if status == grade.status:
        return False
    grade.status = status
    grade.decided_at = timezone.now() if status in (GradeStatus.APPROVED, GradeStatus.REJECTED) else None
    grade.save(update_fields=["status", "decided_at"])
    return True


@transaction.atomic
def grade_decisions_reapply(*, film: Film) -> list[Grade]:
    """Apply the film's (changed) approval policy to its open grades: decisions already recorded
    may now approve them (review's ``approval_policy_save`` calls this). Returns those that moved."""
    requirement = approval_rules().requirement(film_id=film.pk)
    moved = []
    for grade in (Grade.objects.select_for_update().defer("lut").filter(film=film, status__in=Grade.DECIDABLE)
                  .order_by("pk")):
        if _grade_outcome_apply(grade=grade, requirement=requirement):
            moved.append(grade)
    return moved


# Versions ------------------------------------------------------------------------------------


def _grade_fits_version(*, grade: Grade, version: ShotVersion) -> None:
    shot = version.shot
    if grade.shot_id == shot.pk:
        return
    if grade.scene_id is not None:
        scene = scene_of_shot(shot)
        if scene is not None and scene.pk == grade.scene_id:
            return
    raise ValidationError({"grade": f"Grade {grade.pk} is for neither shot {shot.number} nor its scene."})


@transaction.atomic
def version_grade_record(*, version: ShotVersion, grade: Grade, mode: str,
                         user: AbstractBaseUser | None = None) -> VersionGrade:
    """Record the grade a version was made with (``baked``: its restore job applied it; fixed)
    or is reviewed with (``reviewed``: previewed over it while it is a draft or in review; a later
    call replaces it). The grade must be of the version's shot or of its scene."""
    if mode not in VersionGradeMode.values:
        raise ValidationError({"mode": f"Must be one of {', '.join(VersionGradeMode.values)}."})
    version = ShotVersion.objects.select_for_update().select_related("shot").get(pk=version.pk)
    _grade_fits_version(grade=grade, version=version)
    link = VersionGrade.objects.select_for_update().filter(version=version).first()
    if mode == VersionGradeMode.REVIEWED:
        if link is not None and link.mode == VersionGradeMode.BAKED:
            raise ValidationError({"grade": f"Version {version.number} was made with grade {link.grade_id}: "
                                            "its pictures carry it, so it is reviewed with it."})
        if version.status != VersionStatus.DRAFT and version.status not in OPEN_VERSION_STATUSES:
            raise ValidationError({"version": f"Version {version.number} is {version.status}: its review is over."})
    if link is None:
        return VersionGrade.objects.create(version=version, grade=grade, mode=mode, recorded_by=user)
    link.grade, link.mode, link.recorded_by = grade, mode, user
    link.save(update_fields=["grade", "mode", "recorded_by", "recorded_at"])
    return link
