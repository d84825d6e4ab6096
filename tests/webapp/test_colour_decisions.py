"""Colour sign-off: its own append-only decision track beside the versions', under the film's one
approval policy (review's rules, lent to colour): by default a creator and the archivist."""

from __future__ import annotations

import pytest
from django.test import TestCase

from tests.webapp.colour_fixtures import make_grade
from tests.webapp.factories import ShotFactory
from webapp.catalogue.models import Membership
from webapp.colour.models import GradeDecision, GradeStatus, Scene
from webapp.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def shot(film):
    return ShotFactory(film=film, number=1)


@pytest.fixture
def grade(shot, film_members):
    return make_grade(shot=shot, author=film_members["restorer"])


def _decide(client, grade, verdict, **body):
    return client.post("/api/grade-decisions/", {"grade": grade.pk, "verdict": verdict, **body}, format="json")


def test_a_grade_is_approved_once_a_creator_and_the_archivist_approve(grade, film_members, client_for):
    creator, archivist = client_for(film_members["creator"]), client_for(film_members["archivist"])
    first = _decide(creator, grade, "approve", note="Lovely warmth.")
    assert first.status_code == 201 and first.json()["role"] == "creator"
    grade.refresh_from_db()
    assert grade.status == GradeStatus.PROPOSED and grade.decided_at is None
    summary = archivist.get(f"/api/grades/{grade.pk}/summary/").json()
    assert summary["required_roles"] == ["archivist", "creator"] and summary["can_decide"]
    assert [d["verdict"] for d in summary["current"]] == ["approve"]
    assert _decide(archivist, grade, "approve").status_code == 201
    grade.refresh_from_db()
    assert grade.status == GradeStatus.APPROVED and grade.decided_at is not None
    # Approved is final: a new look is a new grade.
    again = _decide(creator, grade, "reject")
    assert again.status_code == 400 and "this one is approved" in again.json()["detail"]
    assert "a new grade is needed" in creator.get(f"/api/grades/{grade.pk}/summary/").json()["reason"]


@pytest.mark.parametrize(("role", "code"), [("viewer", 403), ("restorer", 403), ("creator", 201), ("archivist", 201)])
def test_creators_and_archivists_sign_viewers_and_restorers_do_not(grade, film_members, client_for, role, code):
    response = _decide(client_for(film_members[role]), grade, "approve")
    assert response.status_code == code
    assert GradeDecision.objects.count() == (1 if code == 201 else 0)


def test_outsiders_cannot_sign_nor_read_decisions(grade, film_members, outsider, client_for):
    _decide(client_for(film_members["creator"]), grade, "approve")
    response = _decide(client_for(outsider), grade, "approve")
    assert response.status_code == 400 and "does not exist" in response.json()["detail"]
    assert client_for(outsider).get("/api/grade-decisions/").json()["count"] == 0
    decision = GradeDecision.objects.get()
    assert client_for(outsider).get(f"/api/grade-decisions/{decision.pk}/").status_code == 404


def test_requesting_changes_needs_a_note_and_a_frame_inside_the_shot(grade, film_members, client_for):
    creator = client_for(film_members["creator"])
    no_note = _decide(creator, grade, "changes_requested", frame=3)
    assert no_note.status_code == 400 and "needs a note" in no_note.json()["detail"]
    no_frame = _decide(creator, grade, "changes_requested", note="Too warm")
    assert no_frame.status_code == 400 and "Name the frame" in no_frame.json()["detail"]
    outside = _decide(creator, grade, "changes_requested", note="Too warm", frame=48)
    assert outside.status_code == 400 and "Frame 48 is outside the shot (frames 0 to 47)" in outside.json()["detail"]
    assert not GradeDecision.objects.exists()
    done = _decide(creator, grade, "changes_requested", note="Skin too warm here", frame=12)
    assert done.status_code == 201 and (done.json()["frame"], done.json()["shot"]) == (12, grade.shot_id)
    grade.refresh_from_db()
    assert grade.status == GradeStatus.CHANGES_REQUESTED
    # The archivist's approval does not override an open request for changes...
    _decide(client_for(film_members["archivist"]), grade, "approve")
    grade.refresh_from_db()
    assert grade.status == GradeStatus.CHANGES_REQUESTED
    # ...the creator's own newer decision supersedes it (append-only: both stay on record).
    _decide(creator, grade, "approve")
    grade.refresh_from_db()
    assert grade.status == GradeStatus.APPROVED and GradeDecision.objects.filter(grade=grade).count() == 3


def test_any_current_reject_rejects(grade, film_members, client_for):
    _decide(client_for(film_members["creator"]), grade, "approve")
    _decide(client_for(film_members["archivist"]), grade, "reject", note="Not this film's look.")
    grade.refresh_from_db()
    assert grade.status == GradeStatus.REJECTED and grade.decided_at is not None


def test_decisions_are_append_only(grade, film_members, client_for):
    client = client_for(film_members["archivist"])
    decision_id = _decide(client, grade, "approve").json()["id"]
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/api/grade-decisions/{decision_id}/", {"note": "x"},
                                       format="json").status_code == 405
    decision = GradeDecision.objects.get()
    with pytest.raises(ValueError, match="append-only"):
        decision.save()


def test_a_film_without_a_creator_signs_no_grade_until_one_joins(film, member, client_for):
    archivist = member(film, "archivist")
    grade = make_grade(shot=ShotFactory(film=film))
    response = _decide(client_for(archivist), grade, "approve")
    assert response.json()["required_members"] == {"archivist": [archivist.pk], "creator": []}
    grade.refresh_from_db()
    assert grade.status == GradeStatus.PROPOSED  # the creator role is unfilled: not skipped
    summary = client_for(archivist).get(f"/api/grades/{grade.pk}/summary/").json()
    assert summary["unfilled_roles"] == ["creator"]
    _decide(client_for(member(film, "creator")), grade, "approve")
    grade.refresh_from_db()
    assert grade.status == GradeStatus.APPROVED


def test_removing_the_creator_does_not_let_the_archivist_sign_a_grade_alone(film, grade, film_members, client_for):
    Membership.objects.filter(film=film, user=film_members["creator"]).delete()
    _decide(client_for(film_members["archivist"]), grade, "approve")
    grade.refresh_from_db()
    assert grade.status == GradeStatus.PROPOSED


def test_changing_the_policy_applies_it_to_open_grades(film, grade, film_members, client_for):
    archivist = client_for(film_members["archivist"])
    _decide(archivist, grade, "approve")
    grade.refresh_from_db()
    assert grade.status == GradeStatus.PROPOSED  # the creator has not signed
    response = archivist.post("/api/approval-policies/", {"film": film.pk, "creator_required": False}, format="json")
    assert response.status_code == 201
    grade.refresh_from_db()
    assert grade.status == GradeStatus.APPROVED  # the same policy as the versions', at once


def test_a_scene_grade_is_signed_with_the_frame_of_one_of_its_shots(film, film_members, client_for):
    shots = [ShotFactory(film=film, number=n) for n in (1, 2, 3)]
    scene = Scene.objects.create(film=film, name="Two", first_number=1, last_number=2)
    grade = make_grade(scene=scene)
    creator = client_for(film_members["creator"])
    no_shot = _decide(creator, grade, "changes_requested", note="Darker", frame=3)
    assert no_shot.status_code == 400 and "Name the shot of the frame" in no_shot.json()["detail"]
    outside = _decide(creator, grade, "changes_requested", note="Darker", frame=3, shot=shots[2].pk)
    assert outside.status_code == 400 and "not in the scene" in outside.json()["detail"]
    done = _decide(creator, grade, "changes_requested", note="Darker", frame=3, shot=shots[1].pk)
    assert done.status_code == 201 and done.json()["shot"] == shots[1].pk



def test_a_decision_tells_the_film_and_the_grades_author(film, grade, film_members, client_for, sent):
    with TestCase.captureOnCommitCallbacks(execute=True):
        _decide(client_for(film_members["creator"]), grade, "changes_requested", note="Cooler skies", frame=5)
    decided = [event for group, event in sent if group == f"film.{film.pk}" and event["type"] == "grade.decided"]
    assert len(decided) == 1
    assert (decided[0]["grade"], decided[0]["grade_status"], decided[0]["decision"]["verdict"]) == (
        grade.pk, "changes_requested", "changes_requested")
    note = Notification.objects.get(kind="grade_decision")
    assert note.recipient == film_members["restorer"] and note.grade == grade
    assert "requested changes on your grade 1 of shot 1: Cooler skies" in note.text


def test_staff_without_a_deciding_role_cannot_sign(grade, staff_user, client_for):
    response = _decide(client_for(staff_user), grade, "approve")
    assert response.status_code == 403 and "archivist or creator role" in response.json()["detail"]
    assert not GradeDecision.objects.exists()


def test_a_retried_sign_off_with_its_idempotency_key_is_recorded_once(grade, film_members, client_for):
    creator = client_for(film_members["creator"])
    body = {"grade": grade.pk, "verdict": "changes_requested", "note": "Too cold", "shot": grade.shot_id, "frame": 3}
    first = creator.post("/api/grade-decisions/", body, format="json", HTTP_IDEMPOTENCY_KEY="sign-1")
    again = creator.post("/api/grade-decisions/", body, format="json", HTTP_IDEMPOTENCY_KEY="sign-1")
    assert first.status_code == 201, first.content
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert GradeDecision.objects.filter(grade=grade).count() == 1
