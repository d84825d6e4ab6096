"""Colour's API: who may read, make and sign grades; grade history; scenes; which grade applies
to a shot; the grade a version is reviewed with; events and notifications of new grades."""

from __future__ import annotations

import pytest
from django.test import TestCase

from tests.webapp import colour_fixtures
from tests.webapp.colour_fixtures import COOL, IDENTITY, LOOK, make_grade
from tests.webapp.factories import InReviewVersionFactory, ShotFactory
from webapp.colour.models import Grade, GradeStatus, Scene, VersionGrade
from webapp.colour.services import grade_decision_record
from webapp.notifications.models import Notification

pytestmark = pytest.mark.django_db

colour_scan = colour_fixtures.colour_scan
colour_shots = colour_fixtures.colour_shots


@pytest.fixture
def shot(film):
    return ShotFactory(film=film, number=1)


def _approve(grade, film_members):
    for role in ("creator", "archivist"):
        grade_decision_record(grade=grade, reviewer=film_members[role], verdict="approve")
    grade.refresh_from_db()
    assert grade.status == GradeStatus.APPROVED
    return grade


def test_members_read_grades_and_outsiders_find_nothing(film, shot, film_members, outsider, other_film, member,
                                                        client_for):
    grade = make_grade(shot=shot)
    viewer = client_for(film_members["viewer"])
    body = viewer.get(f"/api/grades/{grade.pk}/").json()
    assert body["cdl"] == LOOK and body["status"] == "proposed" and body["has_lut"] is False
    assert (body["shot"], body["number"], body["source"], body["lut_url"]) == (shot.pk, 1, "manual",
                                                                             f"/api/grades/{grade.pk}/lut/")
    assert viewer.get(f"/api/grades/?shot={shot.pk}").json()["count"] == 1
    for client in (client_for(outsider), client_for(member(other_film, "archivist"))):
        assert client.get(f"/api/grades/{grade.pk}/").status_code == 404
        assert client.get(f"/api/grades/{grade.pk}/lut/").status_code == 404
        assert client.get(f"/api/grades/{grade.pk}/export/").status_code == 404
        assert client.get(f"/api/shots/{shot.pk}/grade/").status_code == 404
        assert client.get(f"/api/grades/?film={film.pk}").json()["count"] == 0
        # Naming the shot in a body is "does not exist", as for an id that does not exist.
        response = client.post("/api/grades/", {"shot": shot.pk, "cdl": LOOK}, format="json")
        assert response.status_code == 400 and "does not exist" in response.json()["detail"]
    assert client_for(None).get(f"/api/grades/{grade.pk}/").status_code == 401


@pytest.mark.parametrize(("role", "code"), [("viewer", 403), ("creator", 403), ("restorer", 201), ("archivist", 201)])
def test_restorers_and_archivists_make_grades_viewers_and_creators_do_not(film, shot, film_members, client_for,
                                                                          role, code):
    response = client_for(film_members[role]).post("/api/grades/", {"shot": shot.pk, "cdl": LOOK, "note": "warmer"},
                                                   format="json")
    assert response.status_code == code, response.json()
    if code == 403:
        assert "editing colour grades" in response.json()["detail"] and not Grade.objects.exists()
    else:
        grade = Grade.objects.get()
        assert (grade.author, grade.note, grade.source, grade.status) == (film_members[role], "warmer", "manual",
                                                                          "proposed")


def test_grades_are_numbered_per_shot_and_never_edited(film, shot, film_members, client_for):
    client = client_for(film_members["restorer"])
    first = client.post("/api/grades/", {"shot": shot.pk, "cdl": LOOK}, format="json").json()
    second = client.post("/api/grades/", {"shot": shot.pk, "cdl": COOL, "parent": first["id"]}, format="json").json()
    other = client.post("/api/grades/", {"shot": ShotFactory(film=film, number=2).pk, "cdl": LOOK},
                        format="json").json()
    assert (first["number"], second["number"], other["number"]) == (1, 2, 1)
    assert second["parent"] == first["id"]
    history = client.get(f"/api/grades/?shot={shot.pk}&ordering=-number").json()["results"]
    assert [g["number"] for g in history] == [2, 1] and history[0]["cdl"] == COOL
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/api/grades/{first['id']}/", {"note": "x"}, format="json").status_code == 405
    grade = Grade.objects.get(pk=first["id"])
    grade.note = "edited"
    with pytest.raises(ValueError, match="append-only"):
        grade.save()


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"cdl": {**LOOK, "slope": [-1, 1, 1]}}, "cdl", "slope must be 0 or more"),
    ({"cdl": {**LOOK, "offset": [0, 0, 12]}}, "cdl", "offset must be within -10..10"),
    ({"cdl": {**LOOK, "slope": [1, 1]}}, "cdl", "at least 3 elements"),
    ({"cdl": {**LOOK, "gain": 1}}, "cdl", "Unknown field"),
    ({"cdl": LOOK, "colour": "warm"}, "colour", "Unknown field"),
    ({"cdl": LOOK, "scene": "SCENE"}, "non_field_errors", "shot or its scene"),
])
def test_bad_grades_are_refused_naming_the_problem_and_nothing_is_made(film, shot, film_members, client_for,
                                                                       body, field, words):
    if body.get("scene") == "SCENE":
        body = {**body, "scene": Scene.objects.create(film=film, name="s", first_number=1, last_number=1).pk}
    response = client_for(film_members["archivist"]).post("/api/grades/", {"shot": shot.pk, **body}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"] and words in response.json()["detail"]
    assert not Grade.objects.exists() and not Notification.objects.exists()


def test_a_grade_made_from_a_parent_keeps_its_lut_unless_told_not_to(film, shot, film_members, client_for):
    from restoration import api as engine

    lut = engine.grade_lut(engine.grade_check(LOOK), baked=True)
    parent = make_grade(shot=shot, cdl=IDENTITY, lut=lut)
    client = client_for(film_members["restorer"])
    kept = client.post("/api/grades/", {"shot": shot.pk, "cdl": COOL, "parent": parent.pk}, format="json").json()
    dropped = client.post("/api/grades/", {"shot": shot.pk, "cdl": COOL, "parent": parent.pk, "keep_lut": False},
                          format="json").json()
    assert kept["has_lut"] and not dropped["has_lut"]
    assert bytes(Grade.objects.get(pk=kept["id"]).lut) == lut.table


def test_scenes_are_runs_of_shots_that_do_not_overlap_and_restorers_edit_them(film, film_members, client_for):
    for number in (1, 2, 3, 4):
        ShotFactory(film=film, number=number)
    restorer = client_for(film_members["restorer"])
    assert client_for(film_members["viewer"]).post(
        "/api/scenes/", {"film": film.pk, "name": "Night", "first_number": 1, "last_number": 2},
        format="json").status_code == 403
    scene = restorer.post("/api/scenes/", {"film": film.pk, "name": "Night", "first_number": 1, "last_number": 2},
                          format="json").json()
    assert scene["shots"] == list(film.shots.filter(number__in=[1, 2]).order_by("number").values_list("pk", flat=True))
    overlap = restorer.post("/api/scenes/", {"film": film.pk, "name": "Dawn", "first_number": 2, "last_number": 3},
                            format="json")
    assert overlap.status_code == 400 and "already the scene" in overlap.json()["detail"]
    missing = restorer.post("/api/scenes/", {"film": film.pk, "name": "Far", "first_number": 4, "last_number": 9},
                            format="json")
    assert missing.status_code == 400 and "no shot 5, 6, 7, 8, 9" in missing.json()["detail"]
    moved = restorer.patch(f"/api/scenes/{scene['id']}/", {"last_number": 3}, format="json")
    assert moved.status_code == 200 and len(moved.json()["shots"]) == 3
    make_grade(scene=Scene.objects.get(pk=scene["id"]))
    refused = restorer.delete(f"/api/scenes/{scene['id']}/")
    assert refused.status_code == 400 and "has grades" in refused.json()["detail"]
    assert Scene.objects.filter(pk=scene["id"]).exists()


def test_scenes_are_proposed_from_the_analysis_for_shots_of_one_look(film, film_members, client_for):
    warm = {"is_grey": False, "black_level": 0.05, "white_level": 0.9, "red_gain": 0.9, "green_gain": 1.0,
            "blue_gain": 1.15, "saturation": 20.0}
    cold = {**warm, "red_gain": 1.2, "blue_gain": 0.8}
    grey = {"is_grey": True, "black_level": 0.1, "white_level": 0.8}
    for number, metrics in enumerate([warm, warm, {**warm, "saturation": 21.0}, cold, grey, grey, {}], start=1):
        ShotFactory(film=film, number=number, metrics=metrics)
    response = client_for(film_members["archivist"]).post("/api/scenes/propose/", {"film": film.pk}, format="json")
    assert response.status_code == 201
    assert [(s["first_number"], s["last_number"], s["source"]) for s in response.json()] == [
        (1, 3, "analysis"), (5, 6, "analysis")]
    # Again: every shot that could be is in a scene already; nothing new.
    assert client_for(film_members["archivist"]).post("/api/scenes/propose/", {"film": film.pk},
                                                      format="json").json() == []
    assert client_for(film_members["viewer"]).post("/api/scenes/propose/", {"film": film.pk},
                                                   format="json").status_code == 403


def test_the_grade_that_applies_is_the_shots_approved_else_its_scenes(film, film_members, client_for):
    shots = [ShotFactory(film=film, number=n) for n in (1, 2)]
    scene = Scene.objects.create(film=film, name="Both", first_number=1, last_number=2)
    client = client_for(film_members["viewer"])
    nothing = client.get(f"/api/shots/{shots[0].pk}/grade/").json()
    assert nothing == {"shot": shots[0].pk, "scene": scene.pk, "approved": None, "approved_from": None,
                       "current": None, "current_from": None}
    scene_grade = _approve(make_grade(scene=scene, cdl=COOL), film_members)
    own = make_grade(shot=shots[0], cdl=LOOK)
    body = client.get(f"/api/shots/{shots[0].pk}/grade/").json()
    # The shot's own grade is only proposed: the scene's approved one applies; previews show the shot's.
    assert (body["approved"]["id"], body["approved_from"]) == (scene_grade.pk, "scene")
    assert (body["current"]["id"], body["current_from"]) == (own.pk, "shot")
    _approve(own, film_members)
    body = client.get(f"/api/shots/{shots[0].pk}/grade/").json()
    assert (body["approved"]["id"], body["approved_from"]) == (own.pk, "shot")
    assert client.get(f"/api/shots/{shots[1].pk}/grade/").json()["approved"]["id"] == scene_grade.pk


def test_a_version_records_the_grade_it_is_reviewed_with(film, film_members, client_for):
    shot, other_shot = ShotFactory(film=film, number=1), ShotFactory(film=film, number=2)
    version = InReviewVersionFactory(shot=shot)
    grade, foreign = make_grade(shot=shot), make_grade(shot=other_shot)
    assert client_for(film_members["viewer"]).get(f"/api/versions/{version.pk}/grade/").status_code == 404
    assert client_for(film_members["viewer"]).put(f"/api/versions/{version.pk}/grade/", {"grade": grade.pk},
                                                  format="json").status_code == 403
    wrong = client_for(film_members["creator"]).put(f"/api/versions/{version.pk}/grade/", {"grade": foreign.pk},
                                                    format="json")
    assert wrong.status_code == 400 and "neither shot 1 nor its scene" in wrong.json()["detail"]
    done = client_for(film_members["creator"]).put(f"/api/versions/{version.pk}/grade/", {"grade": grade.pk},
                                                   format="json")
    assert done.status_code == 200 and done.json()["mode"] == "reviewed"
    link = VersionGrade.objects.get(version=version)
    assert (link.grade, link.recorded_by) == (grade, film_members["creator"])
    assert client_for(film_members["viewer"]).get(f"/api/versions/{version.pk}/grade/").json()["grade"] == grade.pk



def test_a_new_grade_tells_the_film_and_the_people_who_sign_it_once_committed(film, shot, film_members, client_for,
                                                                              sent):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for(film_members["restorer"]).post("/api/grades/", {"shot": shot.pk, "cdl": LOOK},
                                                             format="json")
    grade_id = response.json()["id"]
    created = [event for group, event in sent if group == f"film.{film.pk}"]
    assert [event["type"] for event in created] == ["grade.created"] and created[0]["grade"]["id"] == grade_id
    notified = Notification.objects.filter(kind="grade_ready")
    assert set(notified.values_list("recipient", flat=True)) == {film_members["creator"].pk,
                                                                 film_members["archivist"].pk}
    note = client_for(film_members["creator"]).get("/api/notifications/?kind=grade_ready").json()["results"][0]
    assert note["grade"] == grade_id and note["url"] == f"/films/{film.pk}/shots/{shot.pk}/?grade={grade_id}"
    assert "grade 1 of shot 1 is waiting for your sign-off" in note["text"]
    # A rolled-back grade announces nothing.
    sent.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        bad = client_for(film_members["restorer"]).post("/api/grades/", {"shot": shot.pk, "cdl": {**LOOK, "power": [0, 1, 1]}},
                                                        format="json")
    assert bad.status_code == 400 and sent == []
