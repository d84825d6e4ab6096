"""Reads of colour. Every queryset starts from ``access.visible_films(user)``; a grade's LUT
(431 KB) is loaded only where it is used (``grade_values_of``), never in lists."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from restoration.api import GradeLut, GradeValues, cdl_collection_write
from webapp.catalogue.access import ALLOWED_ROLES, Action, film_role, visible_films
from webapp.catalogue.models import Shot, ShotVersion
from webapp.colour.approval import approval_rules
from webapp.colour.models import LUT_SIZE, Grade, GradeDecision, GradeReference, GradeStatus, Scene, VersionGrade

User = AbstractBaseUser | AnonymousUser


def scene_list(*, user: User) -> QuerySet[Scene]:
    return Scene.objects.filter(film__in=visible_films(user=user).values("pk"))


def grade_list(*, user: User) -> QuerySet[Grade]:
    return (Grade.objects.filter(film__in=visible_films(user=user).values("pk")).defer("lut")
            .select_related("shot", "scene", "author"))


def grade_decision_list(*, user: User) -> QuerySet[GradeDecision]:
    return GradeDecision.objects.filter(grade__film__in=visible_films(user=user).values("pk")).select_related(
        "grade", "reviewer", "shot")


def grade_reference_list(*, user: User) -> QuerySet[GradeReference]:
    return GradeReference.objects.filter(film__in=visible_films(user=user).values("pk")).select_related(
        "shot", "still", "version")


def scene_of_shot(shot: Shot) -> Scene | None:
    """The scene the shot belongs to, if any (scenes of a film do not overlap)."""
    return Scene.objects.filter(film_id=shot.film_id, first_number__lte=shot.number,
                                last_number__gte=shot.number).first()


def scene_shots(scene: Scene) -> QuerySet[Shot]:
    return Shot.objects.filter(film_id=scene.film_id, number__gte=scene.first_number,
                               number__lte=scene.last_number).order_by("number")


def _latest(grades: QuerySet[Grade]) -> Grade | None:
    return grades.defer("lut").select_related("shot", "scene", "author").order_by("-number").first()


def grade_applied(shot: Shot) -> tuple[Grade | None, str | None]:
    """The grade a restore job or a delivery applies to the shot, and where it comes from: the
    shot's own latest approved grade (``"shot"``), else its scene's (``"scene"``), else none."""
    own = _latest(Grade.objects.filter(shot=shot, status=GradeStatus.APPROVED))
    if own is not None:
        return own, "shot"
    scene = scene_of_shot(shot)
    if scene is not None:
        inherited = _latest(Grade.objects.filter(scene=scene, status=GradeStatus.APPROVED))
        if inherited is not None:
            return inherited, "scene"
    return None, None


def grade_current(shot: Shot) -> tuple[Grade | None, str | None]:
    """The grade a preview shows on the shot: its own latest grade that is not rejected, else its
    scene's, else none (with where it comes from)."""
    own = _latest(Grade.objects.filter(shot=shot).exclude(status=GradeStatus.REJECTED))
    if own is not None:
        return own, "shot"
    scene = scene_of_shot(shot)
    if scene is not None:
        inherited = _latest(Grade.objects.filter(scene=scene).exclude(status=GradeStatus.REJECTED))
        if inherited is not None:
            return inherited, "scene"
    return None, None


def grade_values_of(grade: Grade) -> GradeValues:
    """The grade as the engine takes it (its LUT read from the row)."""
    if grade.lut_domain is None:
        return GradeValues(cdl=dict(grade.cdl))
    table = Grade.objects.values_list("lut", flat=True).get(pk=grade.pk)
    low, high = grade.lut_domain
    return GradeValues(cdl=dict(grade.cdl), lut=GradeLut(size=LUT_SIZE, table=bytes(table),
                                                         domain_min=tuple(low), domain_max=tuple(high)))


def version_grade_of(version: ShotVersion) -> VersionGrade | None:
    return VersionGrade.objects.filter(version=version).select_related("grade").first()


def grade_shot_ids(grade: Grade) -> list[int]:
    """The shots a grade is for: its shot, or its scene's shots."""
    if grade.shot_id is not None:
        return [grade.shot_id]
    return list(scene_shots(grade.scene).values_list("pk", flat=True))


def grade_summary(*, grade: Grade, user: User) -> dict:
    """What the sign-off panel shows: the grade's status, the roles that must approve it (the
    film's approval policy), each reviewer's current verdict, and whether this user may decide now
    (with the reason when not)."""
    rules = approval_rules()
    requirement = rules.requirement(film_id=grade.film_id)
    decisions = list(grade_decision_list(user=user).filter(grade=grade))
    role = film_role(user=user, film_id=grade.film_id)
    reason = ""
    if role not in ALLOWED_ROLES[Action.DECIDE]:
        reason = f"Only archivists and creators sign grades; your role on this film is {role or 'none'}."
    elif not grade.is_decidable:
        reason = f"This grade is {grade.get_status_display().lower()}; a new grade is needed to change it."
    return {
        "grade": grade.pk,
        "status": grade.status,
        "required_roles": requirement.roles_record(),
        "unfilled_roles": sorted(requirement.unfilled_roles),
        "current": rules.current(decisions),
        "my_role": role,
        "can_decide": not reason,
        "reason": reason,
    }


def correction_id_of(grade: Grade) -> str:
    """A grade's id in a film's .ccc: ``shot-<number>`` or ``scene-<first>-<last>`` (what
    ``services.film_grades_import`` reads back)."""
    if grade.shot_id is not None:
        return f"shot-{grade.shot.number}"
    return f"scene-{grade.scene.first_number}-{grade.scene.last_number}"


def film_grades(*, film_id: int, which: str) -> list[Grade]:
    """The film's latest grade of each shot and scene: ``approved`` ones, or ``current`` ones (the
    latest that is not rejected), in shot order (scenes at their first shot)."""
    grades = Grade.objects.filter(film_id=film_id).defer("lut").select_related("shot", "scene")
    grades = grades.filter(status=GradeStatus.APPROVED) if which == "approved" else grades.exclude(
        status=GradeStatus.REJECTED)
    latest: dict[tuple[str, int], Grade] = {}
    for grade in grades.order_by("number"):
        latest[("shot", grade.shot_id) if grade.shot_id else ("scene", grade.scene_id)] = grade
    return sorted(latest.values(), key=lambda g: (g.shot.number if g.shot_id else g.scene.first_number,
                                                  0 if g.scene_id else 1))


def film_grades_ccc(grades: list[Grade]) -> bytes:
    """The grades' CDLs as one ASC .ccc, each under ``correction_id_of`` (LUTs are not part of
    an ASC file)."""
    return cdl_collection_write({correction_id_of(grade): grade.cdl for grade in grades})
