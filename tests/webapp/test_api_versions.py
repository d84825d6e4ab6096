"""Shots (read-only) and versions: create drafts, publish them, and the shot follows."""

from __future__ import annotations

import pytest

from tests.webapp.factories import InReviewVersionFactory, MediaAssetFactory, ShotFactory, ShotVersionFactory
from webapp.catalogue.models import Shot, ShotVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def shot(film):
    return ShotFactory(film=film, number=1)


@pytest.fixture
def restorer_client(film, member, client_for):
    return client_for(member(film, "restorer"))


def test_restorer_creates_numbered_drafts(film, shot, restorer_client):
    first = restorer_client.post("/api/versions/", {"shot": shot.pk, "pipeline_spec": {"ops": []}, "notes": "dust"})
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["number"], body["status"], body["film"], body["published_at"]) == (1, "draft", film.pk, None)
    second = restorer_client.post("/api/versions/", {"shot": shot.pk, "based_on": body["id"]})
    assert (second.json()["number"], second.json()["based_on"]) == (2, body["id"])


def test_version_links_must_stay_in_the_shot_and_film(film, shot, restorer_client):
    other_shot_version = ShotVersionFactory(shot=ShotFactory(film=film, number=2))
    response = restorer_client.post("/api/versions/", {"shot": shot.pk, "based_on": other_shot_version.pk})
    assert response.status_code == 400 and "based_on" in response.json()["fields"]
    foreign_media = MediaAssetFactory()
    response = restorer_client.post("/api/versions/", {"shot": shot.pk, "media": foreign_media.pk})
    assert response.status_code == 400 and "media" in response.json()["fields"]
    response = restorer_client.post("/api/versions/", {"shot": shot.pk, "pipeline_spec": ["dust"]})
    assert response.status_code == 400 and "pipeline_spec" in response.json()["fields"]
    assert not ShotVersion.objects.filter(shot=shot).exists()


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"ops": [{"op": "no-such-op"}]}, "ops[0].op"),
        ({"ops": [{"op": "dust", "colour": 1}]}, "unknown key 'colour'"),
        ({"steps": []}, "steps: unknown key"),
        ({"ops": [], "retime": {"fps": -1}}, "retime.fps"),
    ],
)
def test_pipeline_specs_are_checked_by_the_engine(shot, restorer_client, spec, words):
    response = restorer_client.post("/api/versions/", {"shot": shot.pk, "pipeline_spec": spec})
    assert response.status_code == 400
    assert "pipeline_spec" in response.json()["fields"] and words in response.json()["detail"]
    assert not ShotVersion.objects.exists()


def test_a_valid_engine_spec_is_stored_as_given(shot, restorer_client):
    spec = {"ops": "analysis", "retime": {"fps": 24}}
    response = restorer_client.post("/api/versions/", {"shot": shot.pk, "pipeline_spec": spec})
    assert response.status_code == 201, response.content
    assert ShotVersion.objects.get().pipeline_spec == spec


def test_status_and_number_are_not_for_the_client(shot, restorer_client):
    response = restorer_client.post("/api/versions/", {"shot": shot.pk, "status": "approved", "number": 9})
    assert response.status_code == 400
    assert response.json()["fields"] == {"number": ["Read-only field."], "status": ["Read-only field."]}


def test_publish_moves_draft_to_review_and_the_shot_with_it(shot, restorer_client):
    draft = ShotVersionFactory(shot=shot, number=1)
    response = restorer_client.post(f"/api/versions/{draft.pk}/publish/")
    assert response.status_code == 200
    assert response.json()["status"] == "in_review" and response.json()["published_at"]
    assert Shot.objects.get(pk=shot.pk).status == "in_review"
    again = restorer_client.post(f"/api/versions/{draft.pk}/publish/")
    assert again.status_code == 400 and "Only a draft can be published" in again.json()["detail"]


def test_only_notes_change_after_creation(shot, restorer_client):
    version = InReviewVersionFactory(shot=shot, number=1)
    assert restorer_client.patch(f"/api/versions/{version.pk}/", {"notes": "grain kept"}).json()["notes"] == "grain kept"
    response = restorer_client.patch(f"/api/versions/{version.pk}/", {"pipeline_spec": {}})
    assert response.status_code == 400 and "pipeline_spec" in response.json()["fields"]


def test_version_filters(film, shot, staff_user, client_for):
    second_shot = ShotFactory(film=film, number=2)
    draft = ShotVersionFactory(shot=shot, number=1)
    review = InReviewVersionFactory(shot=shot, number=2)
    InReviewVersionFactory(shot=second_shot, number=1)
    client = client_for(staff_user)
    ids = lambda query: [row["id"] for row in client.get("/api/versions/", query).json()["results"]]  # noqa: E731
    assert ids({"shot": shot.pk}) == [draft.pk, review.pk]
    assert ids({"shot": shot.pk, "status": "in_review"}) == [review.pk]
    assert ids({"shot": shot.pk, "ordering": "-number"}) == [review.pk, draft.pk]


def test_shot_filters_and_read_only(film, staff_user, client_for):
    for number in range(1, 6):
        ShotFactory(film=film, number=number, status="approved" if number % 2 else "pending")
    client = client_for(staff_user)
    rows = client.get("/api/shots/", {"film": film.pk, "number_min": 2, "number_max": 4}).json()["results"]
    assert [row["number"] for row in rows] == [2, 3, 4]
    rows = client.get("/api/shots/", {"film": film.pk, "status": "approved", "ordering": "-number"}).json()["results"]
    assert [row["number"] for row in rows] == [5, 3, 1]
    assert rows[0]["frame_count"] == 48 and rows[0]["version_count"] == 0
    assert client.post("/api/shots/", {"film": film.pk}).status_code == 405
