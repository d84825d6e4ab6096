"""A film's frame numbering is the film's, not each browser's: the number shown for a shot's first
frame (e.g. 1001) is stored on the film, set by its archivists; the review page hands it to the
viewer with the shot's place in the film's timecode. A shot of an image sequence shows the scan's
own file numbers (86400...) and its own timecode instead (display only: frames stay keyed from 0)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.webapp.factories import InReviewVersionFactory, MediaAssetFactory, ShotFactory
from tests.webapp.test_review_page import page_client, shot_data
from webapp.catalogue.models import Film
from webapp.catalogue.selectors import ShotNumbering, shot_numbering
from webapp.catalogue.timecode import timecode, timecode_frame
from webapp.live.selectors import playlist_items
from webapp.live.services import session_create

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


# ---- a scan's own numbering: an image sequence's shot shows the scanner's file numbers ----------

def sequence_scan(film, *, first=86400, frames=500, timecode="", fps=24.0):
    """A DPX sequence's row numbered from ``first`` (86400 is 01:00:00:00 at 24 fps), its first
    frame's DPX timecode ``timecode`` ("" when the header has none)."""
    return MediaAssetFactory(film=film, container="image_sequence", codec="dpx", fps=fps, frame_count=frames,
                             file="assets/test/reel/f_%06d.dpx", sequence_pattern="f_%06d.dpx",
                             sequence_first=first, sequence_last=first + frames - 1, sequence_format="dpx",
                             sequence_bits=10, sequence_timecode=timecode)


@pytest.mark.parametrize("text, fps, frame", [
    ("00:00:00:00", 24, 0), ("01:00:00:00", 24, 86400), ("10:00:04:04", 24, 864100), ("01:00:00:00", 25, 90000),
    ("01:00:00:00", 23.976, 86400), ("00:00:01;05", 30, 35),
])
def test_a_timecode_is_read_back_as_timecode_counts(text, fps, frame):
    assert timecode_frame(text, fps) == frame
    assert timecode(frame, fps) == text.replace(";", ":")


@pytest.mark.parametrize("text, fps", [
    ("", 24), ("01:00:00", 24), ("01:60:00:00", 24), ("01:00:60:00", 24), ("01:00:00:24", 24), ("1:0:0:0", 24),
    ("aa:bb:cc:dd", 24), ("01:00:00:00:00", 24),
])
def test_what_is_not_a_timecode_at_the_shots_rate_is_none(text, fps):
    assert timecode_frame(text, fps) is None


def test_a_video_files_shot_keeps_the_films_numbering_and_timecode(film):
    shot = ShotFactory(film=film, start_frame=100, end_frame=147, source=MediaAssetFactory(film=film))
    assert shot_numbering(shot=shot, film_start=1001) == ShotNumbering(
        start_number=1001, timecode_start=100, source_numbers=None, scan_timecode=False)
    shot.source = None  # a shot without a scan too
    assert shot_numbering(shot=shot, film_start=0).start_number == 0


def test_a_sequences_shot_counts_from_the_scans_file_number_of_its_first_frame(film):
    scan = sequence_scan(film)  # no timecode in its headers: the film's timecode stays
    first_shot = ShotFactory(film=film, number=1, start_frame=0, end_frame=99, source=scan)
    later_shot = ShotFactory(film=film, number=2, start_frame=100, end_frame=147, source=scan)
    assert shot_numbering(shot=first_shot, film_start=1001) == ShotNumbering(
        start_number=86400, timecode_start=0, source_numbers=(86400, 86499), scan_timecode=False)
    # Shot frame f is scan frame start_frame + f, the file numbered sequence_first + start_frame + f.
    assert shot_numbering(shot=later_shot, film_start=1001) == ShotNumbering(
        start_number=86500, timecode_start=100, source_numbers=(86500, 86547), scan_timecode=False)


def test_a_sequence_with_a_timecode_shows_its_own_timecode_from_the_shots_place_in_it(film):
    scan = sequence_scan(film, first=1, timecode="10:00:00:00")  # the numbers and the timecode need not agree
    shot = ShotFactory(film=film, number=2, start_frame=100, end_frame=147, source=scan)
    numbering = shot_numbering(shot=shot, film_start=0)
    assert (numbering.start_number, numbering.scan_timecode) == (101, True)
    assert timecode(numbering.timecode_start, shot.fps) == "10:00:04:04"  # 100 frames at 24 fps after 10:00:00:00
    assert timecode(numbering.timecode_start + 47, shot.fps) == "10:00:06:03"  # the shot's last frame


def test_a_timecode_at_another_rate_than_the_shots_is_not_shown_as_the_scans(film):
    scan = sequence_scan(film, timecode="01:00:00:24")  # frame 24 of a second: not a 24 fps timecode
    shot = ShotFactory(film=film, start_frame=100, end_frame=147, source=scan)
    numbering = shot_numbering(shot=shot, film_start=0)
    assert (numbering.start_number, numbering.timecode_start, numbering.scan_timecode) == (86500, 100, False)


def test_the_review_page_gives_a_sequences_shot_the_scans_numbers_and_keeps_frames_from_zero(film, member):
    Film.objects.filter(pk=film.pk).update(frame_number_start=1001)
    scan = sequence_scan(film, timecode="01:00:00:00")
    shot = ShotFactory(film=film, number=2, start_frame=12, end_frame=59, source=scan)
    InReviewVersionFactory(shot=shot, number=1, media=MediaAssetFactory(film=film, kind="mezzanine", frame_count=48))
    response = page_client(member(film, "archivist")).get(f"/films/{film.pk}/shots/{shot.pk}/?frame=5")
    assert "files 86412–86459" in response.content.decode()  # the page's header, beside the frame count
    data = shot_data(response)
    assert data["numbering"] == {"start_number": 86412, "timecode_start": 86412, "scan_numbers": True,
                                 "scan_timecode": True}
    # Display only: the page's frame, the shot's frames and the film's own start number keep their meaning.
    assert data["frame"] == 5 and data["shot"]["start_frame"] == 12 and data["shot"]["frame_count"] == 48
    assert data["film"]["frame_number_start"] == 1001


def test_the_review_page_gives_a_video_files_shot_the_films_numbering(film, member):
    Film.objects.filter(pk=film.pk).update(frame_number_start=1001)
    shot = ShotFactory(film=film, number=4, start_frame=100, end_frame=147, source=MediaAssetFactory(film=film))
    response = page_client(member(film, "viewer")).get(f"/films/{film.pk}/shots/{shot.pk}/")
    assert "film frames 100–147" in response.content.decode()
    data = shot_data(response)
    assert data["numbering"] == {"start_number": 1001, "timecode_start": 100, "scan_numbers": False,
                                 "scan_timecode": False}


def test_the_film_page_lists_a_sequences_shots_by_the_scans_file_numbers(film, member):
    scan = sequence_scan(film, timecode="01:00:00:00")
    ShotFactory(film=film, number=1, start_frame=0, end_frame=11, source=scan)
    ShotFactory(film=film, number=2, start_frame=12, end_frame=59, source=scan)
    video = ShotFactory(film=film, number=3, start_frame=100, end_frame=147, source=MediaAssetFactory(film=film))
    html = page_client(member(film, "viewer")).get(f"/films/{film.pk}/").content.decode()
    assert "01:00:00:00 · 86400–86411 · 12 fr" in html
    assert "01:00:00:12 · 86412–86459 · 48 fr" in html
    assert html.count('data-numbered-by="scan"') == 2
    assert f"{timecode(video.start_frame, 24)} · 100–147 · 48 fr" in html  # a video file's shot as before


def test_a_live_sessions_playlist_numbers_a_sequences_shot_as_its_review_page_does(film, member):
    Film.objects.filter(pk=film.pk).update(frame_number_start=1001)
    film.refresh_from_db()
    scan = sequence_scan(film, timecode="01:00:00:00")
    shots = [ShotFactory(film=film, number=1, start_frame=12, end_frame=59, source=scan),
             ShotFactory(film=film, number=2, start_frame=100, end_frame=147, source=MediaAssetFactory(film=film))]
    session = session_create(film=film, created_by=member(film, "archivist"), title="Reel one",
                             versions=[InReviewVersionFactory(shot=shot, number=1) for shot in shots])
    items = playlist_items(session=session)
    assert [(i["start_number"], i["scan_numbers"], i["timecode_start"], i["scan_timecode"]) for i in items] == [
        (86412, True, 86412, True), (1001, False, 100, False)]
