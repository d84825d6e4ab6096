"""A film's frame numbering is the film's, not each browser's: the number shown for a shot's first
frame (e.g. 1001) is stored on the film, set by its archivists; the review page hands it to the
viewer with the shot's place in the film's timecode."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.webapp.factories import InReviewVersionFactory, MediaAssetFactory, ShotFactory
from tests.webapp.test_review_page import page_client, shot_data
from webapp.catalogue.models import Film

pytestmark = pytest.mark.django_db


def test_archivists_set_the_films_start_number_and_others_cannot(film, member, client_for):
    archivist, creator = member(film, "archivist"), member(film, "creator")
    response = client_for(archivist).patch(f"/api/films/{film.pk}/", {"frame_number_start": 1001}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["frame_number_start"] == 1001
    assert Film.objects.get(pk=film.pk).frame_number_start == 1001
    assert client_for(creator).patch(f"/api/films/{film.pk}/", {"frame_number_start": 1},
                                     format="json").status_code == 403
    assert Film.objects.get(pk=film.pk).frame_number_start == 1001


@pytest.mark.parametrize("value", [-1, 10_000_000, "1001a", None])
def test_a_bad_start_number_is_refused(film, member, client_for, value):
    response = client_for(member(film, "archivist")).patch(f"/api/films/{film.pk}/", {"frame_number_start": value},
                                                           format="json")
    assert response.status_code == 400 and "frame_number_start" in response.json()["fields"]
    assert Film.objects.get(pk=film.pk).frame_number_start == 0


def test_the_database_bounds_the_start_number(film):
    with transaction.atomic(), pytest.raises(IntegrityError):
        Film.objects.filter(pk=film.pk).update(frame_number_start=10_000_000)


def test_the_review_page_gives_the_viewer_the_films_numbering_and_timecode_place(film, member):
    Film.objects.filter(pk=film.pk).update(frame_number_start=1001)
    scan = MediaAssetFactory(film=film, frame_count=500)
    shot = ShotFactory(film=film, number=4, start_frame=100, end_frame=147, source=scan)
    InReviewVersionFactory(shot=shot, number=1, media=MediaAssetFactory(film=film, kind="mezzanine", frame_count=48))
    for role, may_edit in (("archivist", True), ("viewer", False)):
        data = shot_data(page_client(member(film, role)).get(f"/films/{film.pk}/shots/{shot.pk}/"))
        assert data["film"]["frame_number_start"] == 1001 and data["film"]["may_edit"] is may_edit
        assert data["shot"]["start_frame"] == 100  # its timecode starts at the film's frame 100
