"""An approved grade reaches the pictures: a restore job applies the shot's approved grade (its
own, else its scene's) as its last step and the version records it; a delivery grades versions
made before the grade was approved, and does not grade twice those that carry it."""

from __future__ import annotations

import numpy as np
import pytest

from restoration import api as engine
from restoration.io import read_frames
from tests.webapp import colour_fixtures, jobs_fixtures
from tests.webapp.colour_fixtures import COOL, LOOK, make_grade
from webapp.catalogue.models import MediaAsset, Shot
from webapp.colour.models import GradeStatus, Scene, VersionGrade
from webapp.colour.selectors import grade_values_of
from webapp.colour.services import grade_decision_record
from webapp.delivery.services import delivery_dispatch
from webapp.jobs import services
from webapp.jobs.services import job_run

pytestmark = pytest.mark.django_db

colour_scan = colour_fixtures.colour_scan
colour_shots = colour_fixtures.colour_shots
sent_messages = jobs_fixtures.sent_messages

NO_OPS = {"ops": []}


def _approved(grade, film_members):
    for role in ("creator", "archivist"):
        grade_decision_record(grade=grade, reviewer=film_members[role], verdict="approve")
    grade.refresh_from_db()
    assert grade.status == GradeStatus.APPROVED
    return grade


def _restore(film, shot):
    job = services.job_create(film=film, kind="restore", shot=shot, created_by=None, params={"spec": NO_OPS})
    job = job_run(job_id=job.pk)
    assert job.status == "succeeded", job.error
    return job.result_version


def _pixels(version) -> np.ndarray:
    return read_frames(version.media.file.path).permute(0, 2, 3, 1).reshape(-1, 3).numpy()


def test_a_restore_applies_the_shots_approved_grade_last_and_the_version_records_it(film, colour_shots,
                                                                                   film_members, sent_messages):
    shot = colour_shots[0]
    plain = _restore(film, shot)
    assert not VersionGrade.objects.filter(version=plain).exists()
    proposed = make_grade(shot=shot, cdl=COOL)
    assert not VersionGrade.objects.filter(version=_restore(film, shot)).exists()  # proposed: not applied
    grade = _approved(make_grade(shot=shot, cdl=LOOK), film_members)
    assert proposed.pk != grade.pk
    graded = _restore(film, shot)
    link = VersionGrade.objects.get(version=graded)
    assert (link.grade, link.mode) == (grade, "baked")
    assert f"then its shot's approved grade {grade.number}" in graded.notes
    before, after = _pixels(plain), _pixels(graded)
    expected = np.asarray(engine.grade_colours(grade_values_of(grade), before.tolist()))
    assert np.abs(after - expected).max() <= 1 / 255 + 1e-6  # the grade, and nothing else, after the ops
    assert np.abs(after - before).mean() > 0.01


def test_a_shot_without_its_own_grade_takes_its_scenes(film, colour_shots, film_members, sent_messages):
    scene = Scene.objects.create(film=film, name="All", first_number=1, last_number=2)
    grade = _approved(make_grade(scene=scene, cdl=LOOK), film_members)
    version = _restore(film, colour_shots[1])
    assert VersionGrade.objects.get(version=version).grade == grade
    assert "then its scene's approved grade 1" in version.notes


def test_a_delivery_grades_what_was_restored_before_the_grade_and_not_what_carries_it(film, colour_shots,
                                                                                     film_members, sent_messages):
    first, second = colour_shots
    early = _restore(film, first)  # made before any grade: delivery grades it
    grade = _approved(make_grade(scene=Scene.objects.create(film=film, name="All", first_number=1, last_number=2),
                                 cdl=LOOK), film_members)
    baked = _restore(film, second)  # carries the grade already
    for shot, version in ((first, early), (second, baked)):
        Shot.objects.filter(pk=shot.pk).update(approved_version=version, status="approved")
    job = job_run(job_id=delivery_dispatch(film=film, user=None).pk)
    assert job.status == "succeeded", job.error
    assert "1 graded on the way" in job.message
    delivered = read_frames(MediaAsset.objects.get(kind="delivery").file.path).permute(0, 2, 3, 1).numpy()
    delivered = delivered.reshape(-1, 3)
    half = delivered.shape[0] // 2
    expected_first = np.asarray(engine.grade_colours(grade_values_of(grade), _pixels(early).tolist()))
    assert np.abs(delivered[:half] - expected_first).max() <= 1 / 255 + 1e-6
    assert np.abs(delivered[half:] - _pixels(baked)).max() <= 1 / 255 + 1e-6  # not graded twice


def test_a_grey_films_tint_is_a_grade_and_its_shot_comes_out_in_colour(film, media_root, film_members,
                                                                       sent_messages):
    """Tinting and toning are grades too: a CDL that treats the channels differently colours a
    grey scan (sepia here)."""
    shot = jobs_fixtures.make_shots(film, media_root)[0]  # a grey ramp
    sepia = {"slope": [1.1, 0.95, 0.75], "offset": [0.03, 0.01, 0.0], "power": [1.0, 1.0, 1.0], "saturation": 1.0}
    _approved(make_grade(shot=shot, cdl=sepia), film_members)
    version = _restore(film, shot)
    frames = read_frames(version.media.file.path)
    assert frames.shape[1] == 3  # colour now
    red, blue = frames[:, 0].mean().item(), frames[:, 2].mean().item()
    assert red - blue > 0.1 and VersionGrade.objects.get(version=version).mode == "baked"
