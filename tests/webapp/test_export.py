"""Export of notes: CSV rows, and a PDF with one annotated still per comment."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
import torch
from PIL import Image, PdfParser

from restoration.io import probe, write_video
from tests.webapp.factories import CommentFactory, InReviewVersionFactory, MediaAssetFactory, ShotFactory
from tests.webapp.test_film_numbering import sequence_scan
from tests.webapp.test_review_page import page_client, shot_data
from webapp.catalogue.models import AssetKind
from webapp.catalogue.services import asset_create
from webapp.catalogue.timecode import timecode

pytestmark = pytest.mark.django_db

RED = "#ff0000"


def pdf_pages(data: bytes) -> list[Image.Image]:
    """Each page's picture, read back with Pillow's own PDF parser (one JPEG image per page)."""
    parser = PdfParser.PdfParser(buf=data)
    images = []
    for page_ref in parser.pages:
        page = parser.read_indirect(page_ref)
        (image_ref,) = page[b"Resources"][b"XObject"].values()
        stream = parser.read_indirect(image_ref)
        images.append(Image.open(io.BytesIO(stream.buf)))
    return images


@pytest.fixture
def grey_source(film, settings, tmp_path):
    """A 100-frame mid-grey scan of 96x128 pixels."""
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "scans").mkdir()
    path = tmp_path / "scans" / "grey.mkv"
    write_video(path, torch.full((100, 3, 96, 128), 0.5), fps=24, codec="ffv1")
    info = probe(path)
    return asset_create(
        film=film, kind=AssetKind.ORIGINAL, file="scans/grey.mkv", original_name="grey.mkv",
        size_bytes=path.stat().st_size, container=info.container, codec=info.codec, width=info.width,
        height=info.height, fps=info.fps, frame_count=info.frame_count, pix_fmt=info.pix_fmt,
    )


@pytest.fixture
def notes(film, film_members, grey_source):
    """Shot 2 (scan frames 48..95) with three comments on v1 (one with a red rectangle, one reply),
    and a comment on shot 1 that a shot export leaves out."""
    shot = ShotFactory(film=film, number=2, start_frame=48, end_frame=95, source=grey_source)
    version = InReviewVersionFactory(shot=shot, number=1)
    creator = film_members["creator"]
    first = CommentFactory(version=version, frame=30, author=creator, text="Flicker, left side",
                           drawing=[{"type": "rect", "x": 0.25, "y": 0.25, "w": 0.5, "h": 0.5, "colour": RED,
                                     "width": 0.03}])
    CommentFactory(version=version, frame=30, author=film_members["archivist"], text="Agreed", reply_to=first)
    CommentFactory(version=version, frame=5, frame_end=9, author=creator, text="Dust, \"big\", here", resolved=True)
    CommentFactory(version=InReviewVersionFactory(shot=ShotFactory(film=film, number=1)), frame=0, author=creator)
    return shot, version, first


def test_csv_lists_the_shots_notes_in_frame_order(notes, film_members, client_for):
    shot, version, first = notes
    response = client_for(film_members["viewer"]).get("/api/comments/export/", {"shot": shot.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="notes-' in response["Content-Disposition"] and "shot-2.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["frame"], r["text"]) for r in rows] == [
        ("5", 'Dust, "big", here'), ("30", "Flicker, left side"), ("30", "Agreed")
    ]
    dust, flicker, reply = rows
    # The film's numbering (start number 0) and timecode: shot frame 5 is the film's frame 48 + 5.
    assert (dust["frame_end"], dust["number"], dust["number_end"], dust["film_frame"], dust["timecode"],
            dust["resolved"]) == ("9", "5", "9", "53", "00:00:02:05", "yes")
    assert (flicker["number"], flicker["number_end"], flicker["timecode"], flicker["drawing_shapes"],
            flicker["author"]) == ("30", "", "00:00:03:06", "1", film_members["creator"].username)
    assert reply["reply_to"] == str(first.pk)


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0",
                                  "-2+3", "@SUM(A1:A2)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(notes, film_members, client_for, text):
    shot, version, _ = notes
    CommentFactory(version=version, frame=40, author=film_members["viewer"], text=text)
    response = client_for(film_members["viewer"]).get("/api/comments/export/", {"shot": shot.pk})
    rows = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    assert rows[-1]["text"] == "'" + text
    assert rows[0]["text"] == 'Dust, "big", here'  # plain text is left as it is


def test_film_export_takes_the_list_filters(notes, film, film_members, client_for):
    client = client_for(film_members["viewer"])
    rows = list(csv.DictReader(io.StringIO(client.get("/api/comments/export/", {"film": film.pk}).content.decode())))
    assert len(rows) == 4
    rows = list(csv.DictReader(io.StringIO(
        client.get("/api/comments/export/", {"film": film.pk, "resolved": "false"}).content.decode())))
    assert len(rows) == 3 and all(r["resolved"] == "no" for r in rows)


def test_pdf_has_one_page_per_comment_with_the_drawing_on_the_still(notes, film_members, client_for):
    shot, _, _ = notes
    response = client_for(film_members["viewer"]).get("/api/comments/export/", {"shot": shot.pk, "as": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.content)
    assert len(pages) == 3
    assert all(page.size == (1169, 827) for page in pages)
    # Frame order: the dust note (5), then the flicker note with its red rectangle (30), then the reply.
    page = np.asarray(pages[1].convert("RGB")).astype(int)
    red = (page[..., 0] > 200) & (page[..., 1] < 60) & (page[..., 2] < 60)
    grey = (abs(page - 128) < 12).all(axis=-1)
    assert red.sum() > 1000  # the rectangle is drawn
    assert grey.sum() > 50_000  # on the grey still of the scan


def test_export_needs_a_shot_or_film_a_known_format_and_membership(notes, film_members, client_for, member, other_film):
    shot, _, _ = notes
    client = client_for(film_members["viewer"])
    response = client.get("/api/comments/export/")
    assert response.status_code == 400 and "shot" in response.json()["fields"]
    response = client.get("/api/comments/export/", {"shot": shot.pk, "as": "docx"})
    assert response.status_code == 400 and "docx" in response.json()["detail"]
    response = client.get("/api/comments/export/", {"shot": "two"})
    assert response.status_code == 400
    stranger = client_for(member(other_film, "archivist"))
    assert stranger.get("/api/comments/export/", {"shot": shot.pk}).status_code == 404
    assert stranger.get("/api/comments/export/", {"film": shot.film_id}).status_code == 404


def test_the_still_of_a_note_on_a_retimed_version_is_the_frame_shown_at_that_time(film, grey_source, tmp_path):
    """Notes count shot frames (24 fps here); a version retimed to 36 fps shows its frame
    floor(1.5 f) at shot frame f, and the PDF's still is that frame."""
    from webapp.review.export import _still

    levels = torch.arange(15, dtype=torch.float32) * 12 + 40  # each frame its own grey
    path = tmp_path / "scans" / "retimed.mkv"
    write_video(path, (levels / 255).view(15, 1, 1, 1).expand(15, 3, 48, 64).contiguous(), fps=36, codec="ffv1")
    info = probe(path)
    media = asset_create(
        film=film, kind=AssetKind.MEZZANINE, file="scans/retimed.mkv", original_name="retimed.mkv",
        size_bytes=path.stat().st_size, container=info.container, codec=info.codec, width=info.width,
        height=info.height, fps=info.fps, frame_count=info.frame_count, pix_fmt=info.pix_fmt,
    )
    shot = ShotFactory(film=film, number=3, start_frame=0, end_frame=9, source=grey_source)
    version = InReviewVersionFactory(shot=shot, number=1, media=media)
    for frame in (0, 5, 9):
        still = _still(CommentFactory(version=version, frame=frame))
        assert abs(np.asarray(still.convert("L")).mean() - float(levels[frame * 3 // 2])) < 3, frame


# ---- the numbers and timecode the review page shows ------------------------------------------

def exported_rows(client, shot) -> dict[int, dict]:
    rows = csv.DictReader(io.StringIO(client.get("/api/comments/export/", {"shot": shot.pk}).content.decode()))
    return {int(row["comment"]): row for row in rows}


def on_screen(client, shot, frame: int) -> tuple[str, str]:
    """The number and timecode the review page has its viewer show at shot frame ``frame``
    (frontend/static/js/viewer/time-display.js: displayNumber and formatTimecode of its data)."""
    data = shot_data(client.get(f"/films/{shot.film_id}/shots/{shot.pk}/?frame={frame}"))
    numbering = data["numbering"]
    return str(numbering["start_number"] + frame), timecode(numbering["timecode_start"] + frame, data["shot"]["fps"])


def test_a_sequences_notes_carry_the_scans_file_numbers_and_timecode_as_the_review_page_shows(
        film, film_members, client_for):
    """A DPX sequence numbered from 86400 with the header timecode 01:00:00:00: a note on shot
    frame 3 (scan frame 3) reads 86403 at 01:00:00:03, as the viewer shows it; frames stay 0-based."""
    film.frame_number_start = 1001  # the scan's own numbers win over the film's
    film.save(update_fields=["frame_number_start"])
    scan = sequence_scan(film, first=86400, timecode="01:00:00:00")
    shot = ShotFactory(film=film, number=1, start_frame=0, end_frame=47, source=scan, fps=24.0)
    version = InReviewVersionFactory(shot=shot, number=1)
    one = CommentFactory(version=version, frame=3, author=film_members["creator"], text="Scratch")
    span = CommentFactory(version=version, frame=3, frame_end=7, author=film_members["creator"], text="Dust")
    client = page_client(film_members["viewer"])
    rows = exported_rows(client_for(film_members["viewer"]), shot)

    number, shown_timecode = on_screen(client, shot, 3)
    assert (number, shown_timecode) == ("86403", "01:00:00:03")
    assert (rows[one.pk]["number"], rows[one.pk]["timecode"]) == (number, shown_timecode)
    assert (rows[span.pk]["number"], rows[span.pk]["number_end"]) == (number, on_screen(client, shot, 7)[0]) \
        == ("86403", "86407")
    assert (rows[one.pk]["frame"], rows[one.pk]["frame_end"], rows[one.pk]["film_frame"]) == ("3", "", "3")
    assert (rows[span.pk]["frame"], rows[span.pk]["frame_end"]) == ("3", "7")
    # The PDF's heading says the same.
    from webapp.review.export import heading

    assert heading(one).endswith("· frame 86403 · 01:00:00:03")
    assert heading(span).endswith("· frames 86403–86407 · 01:00:00:03")


def test_a_later_shot_of_a_sequence_counts_from_its_own_place_in_the_scan(film, film_members, client_for):
    scan = sequence_scan(film, first=86400, timecode="01:00:00:00")
    shot = ShotFactory(film=film, number=2, start_frame=100, end_frame=147, source=scan, fps=24.0)
    note = CommentFactory(version=InReviewVersionFactory(shot=shot, number=1), frame=3,
                          author=film_members["creator"])
    row = exported_rows(client_for(film_members["viewer"]), shot)[note.pk]
    assert (row["number"], row["timecode"]) == on_screen(page_client(film_members["viewer"]), shot, 3) \
        == ("86503", "01:00:04:07")
    assert (row["frame"], row["film_frame"]) == ("3", "103")


def test_a_video_files_notes_carry_the_films_start_number_and_timecode_as_the_review_page_shows(
        film, film_members, client_for):
    """A video file's shot shows the film's start number + frame and the film's timecode at the
    shot's place in the film (as the viewer did before sequences had their own numbering)."""
    film.frame_number_start = 1001
    film.save(update_fields=["frame_number_start"])
    shot = ShotFactory(film=film, number=4, start_frame=100, end_frame=147, source=MediaAssetFactory(film=film),
                       fps=24.0)
    note = CommentFactory(version=InReviewVersionFactory(shot=shot, number=1), frame=3, frame_end=5,
                          author=film_members["creator"])
    row = exported_rows(client_for(film_members["viewer"]), shot)[note.pk]
    assert (row["number"], row["timecode"]) == on_screen(page_client(film_members["viewer"]), shot, 3) \
        == ("1004", "00:00:04:07")
    assert (row["number_end"], row["frame"], row["frame_end"], row["film_frame"]) == ("1006", "3", "5", "103")
    from webapp.review.export import heading

    assert heading(note).endswith("· frames 1004–1006 · 00:00:04:07")
