"""Learning a grade from graded reference stills, as a job: the request checks the references
(bad input is a 400 naming the problem, and nothing is kept), the cpu job fits and commits the
grade with its report, or fails with the engine's reason when the fit would not generalise."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.webapp import colour_fixtures, jobs_fixtures
from tests.webapp.colour_fixtures import COOL, LOOK, SCAN_NAME, graded_still
from tests.webapp.factories import InReviewVersionFactory, MediaAssetFactory
from webapp.catalogue.models import MediaAsset
from webapp.colour.models import Grade, GradeReference, Scene
from webapp.jobs.lifecycle import JOB_RUN_TASK
from webapp.jobs.models import RestorationJob
from webapp.jobs.services import job_run
from webapp.notifications.models import Notification

pytestmark = pytest.mark.django_db

colour_scan = colour_fixtures.colour_scan
colour_shots = colour_fixtures.colour_shots
sent_messages = jobs_fixtures.sent_messages


def _upload(path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/png")


def _png(array: np.ndarray, name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _nothing_kept(media_root) -> None:
    assert not RestorationJob.objects.exists()
    assert not GradeReference.objects.exists() and not Grade.objects.exists()
    assert not MediaAsset.objects.filter(kind="reference").exists()
    assert not (media_root / "colour").exists() or not [p for p in (media_root / "colour").rglob("*") if p.is_file()]
    assert not [p for p in (media_root / "incoming").rglob("*") if p.is_file()] if (media_root / "incoming").exists() \
        else True


def test_a_grade_is_learned_from_two_stills_through_the_job(film, colour_shots, film_members, client_for, media_root,
                                                            sent_messages, django_capture_on_commit_callbacks,
                                                            tmp_path):
    scan = media_root / SCAN_NAME
    # Stills of frames 1 and 4 of shot 2 (scan frames 7 and 10) graded with a known CDL.
    stills = [graded_still(tmp_path, scan, 7), graded_still(tmp_path, scan, 10)]
    shot = colour_shots[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(film_members["restorer"]).post(
            f"/api/films/{film.pk}/grade-fit/",
            {"shot": shot.pk, "still": [_upload(p) for p in stills], "frame": [1, 4], "note": "From the 1998 print"},
            format="multipart")
    assert response.status_code == 202, response.json()
    job = RestorationJob.objects.get(pk=response.json()["id"])
    assert (job.kind, job.status, job.shot) == ("grade_fit", "pending", shot)
    assert sent_messages == [(JOB_RUN_TASK, (job.pk,), job.celery_task_id)] and sent_messages.queues == ["cpu"]
    references = list(GradeReference.objects.order_by("frame"))
    assert [(r.shot, r.frame, r.grade) for r in references] == [(shot, 1, None), (shot, 4, None)]
    assert all(r.still.kind == "reference" and r.still.original_name.startswith("still-") for r in references)
    assert all((media_root / r.still.file.name).is_file() and r.still.file.name.startswith("colour/references/")
               for r in references)
    assert not [p for p in (media_root / "incoming").rglob("*") if p.is_file()]

    job = job_run(job_id=job.pk)
    assert job.status == "succeeded", job.error
    grade = Grade.objects.get()
    assert (grade.shot, grade.source, grade.status, grade.fit_job_id, grade.note) == (
        shot, "fit", "proposed", job.pk, "From the 1998 print")
    assert grade.cdl["slope"] == pytest.approx(LOOK["slope"], abs=0.08)
    assert grade.cdl["saturation"] == pytest.approx(LOOK["saturation"], abs=0.15)
    report = grade.report
    assert report["references"] == 2 and report["holdout"]["cdl"]["mean"] < 2.5
    assert report["fit"]["mean"] < report["identity"]["mean"] / 3
    assert "Grade 1 of shot 2 proposed (CIEDE2000 " in job.message and "held-out" in job.message
    assert set(GradeReference.objects.values_list("grade", flat=True)) == {grade.pk}
    assert Notification.objects.filter(kind="grade_ready", grade=grade, recipient=film_members["creator"]).exists()
    body = client_for(film_members["viewer"]).get(f"/api/grades/?fit_job={job.pk}").json()["results"]
    assert [g["id"] for g in body] == [grade.pk]
    still = client_for(film_members["viewer"]).get(f"/api/grade-references/{references[0].pk}/still/")
    assert still.status_code == 200 and still["Content-Type"] == "image/png"
    # A message delivered again for the finished job makes nothing twice.
    assert job_run(job_id=job.pk).status == "succeeded" and Grade.objects.count() == 1


def test_a_frame_of_another_version_is_a_reference_too(film, colour_shots, film_members, client_for, media_root,
                                                       sent_messages):
    """An earlier graded release of the shot, loaded as a version: its frame 2 is the still."""
    from restoration.colour.cdl import Cdl, cdl_apply
    from restoration.io import read_frames, write_video

    shot = colour_shots[0]
    graded = cdl_apply(read_frames(media_root / SCAN_NAME, 0, 6), Cdl.from_dict(LOOK))
    write_video(media_root / "assets/test/release.mkv", graded, fps=24.0)
    media = MediaAssetFactory(film=film, kind="mezzanine", file="assets/test/release.mkv", width=96, height=72,
                              frame_count=6, fps=24.0)
    version = InReviewVersionFactory(shot=shot, media=media)
    response = client_for(film_members["archivist"]).post(
        f"/api/films/{film.pk}/grade-fit/", {"shot": shot.pk, "references": [{"version": version.pk, "frame": 2}]},
        format="json")
    assert response.status_code == 202, response.json()
    job = job_run(job_id=response.json()["id"])
    assert job.status == "succeeded", job.error
    grade = Grade.objects.get()
    assert grade.report["holdout"] is None and "one still: nothing held out" in job.message
    assert grade.cdl["slope"] == pytest.approx(LOOK["slope"], abs=0.08)
    assert GradeReference.objects.get().version == version


def test_stills_that_disagree_on_the_look_are_refused_by_the_job(film, colour_shots, film_members, client_for,
                                                                 media_root, sent_messages, tmp_path):
    scan = media_root / SCAN_NAME
    stills = [graded_still(tmp_path, scan, 1, cdl=LOOK), graded_still(tmp_path, scan, 4, cdl=COOL)]
    response = client_for(film_members["restorer"]).post(
        f"/api/films/{film.pk}/grade-fit/",
        {"shot": colour_shots[0].pk, "still": [_upload(p) for p in stills], "frame": [1, 4]}, format="multipart")
    assert response.status_code == 202
    job = job_run(job_id=response.json()["id"])
    assert job.status == "failed" and "held-out error is CIEDE2000" in job.error
    assert "the references do not agree on one grade" in job.error
    assert not Grade.objects.exists()
    # The references stay with the job (a retry can use them); none is linked to a grade.
    assert GradeReference.objects.count() == 2 and not GradeReference.objects.filter(grade__isnull=False).exists()


@pytest.mark.parametrize("case", ["square", "noise", "outside", "text", "frames", "nine", "empty"])
def test_bad_references_are_refused_naming_the_problem_and_nothing_is_kept(film, colour_shots, film_members,
                                                                           client_for, media_root, tmp_path,
                                                                           sent_messages, case):
    scan = media_root / SCAN_NAME
    good = graded_still(tmp_path, scan, 2)
    shot = colour_shots[0]
    frames, stills, words = [2], [_upload(good)], ""
    if case == "square":  # another aspect: not this framing
        stills, words = [_png(np.full((96, 96, 3), 128, np.uint8), "square.png")], "the aspect differs by"
    elif case == "noise":  # the right size, another picture
        noise = np.random.default_rng(1).integers(0, 255, (72, 96, 3), dtype=np.uint8)
        stills, words = [_png(noise, "noise.png")], "noise.png): still cannot be registered"
    elif case == "outside":
        frames, words = [6], "Frame 6 is outside shot 1 (frames 0 to 5)"
    elif case == "text":
        stills = [SimpleUploadedFile("notes.png", b"not a picture", content_type="image/png")]
        words = "notes.png: not a readable image"
    elif case == "frames":
        frames, words = [2, 3], "one frame per still: 1 stills, 2 frames"
    elif case == "nine":
        stills, frames, words = [_upload(good) for _ in range(9)], [2] * 9, "Give 1 to 8 reference stills, got 9"
    elif case == "empty":
        stills, frames, words = [], [], "Send 1 to 8 graded stills"
    response = client_for(film_members["restorer"]).post(
        f"/api/films/{film.pk}/grade-fit/", {"shot": shot.pk, "still": stills, "frame": frames}, format="multipart")
    assert response.status_code == 400, response.json()
    assert words in response.json()["detail"]
    _nothing_kept(media_root)
    assert sent_messages == []


def test_a_still_over_the_limit_is_413_and_nothing_is_kept(film, colour_shots, film_members, client_for, media_root,
                                                           settings, tmp_path):
    settings.MAX_STILL_BYTES = 2000
    still = graded_still(tmp_path, media_root / SCAN_NAME, 2)
    response = client_for(film_members["restorer"]).post(
        f"/api/films/{film.pk}/grade-fit/", {"shot": colour_shots[0].pk, "still": [_upload(still)], "frame": [2]},
        format="multipart")
    assert response.status_code == 413 and "still limit of 2000 bytes" in response.json()["detail"]
    _nothing_kept(media_root)


@pytest.mark.parametrize(("role", "code"), [("viewer", 403), ("creator", 403), (None, 404)])
def test_fitting_needs_the_grade_role_on_the_film(film, colour_shots, film_members, outsider, client_for, media_root,
                                                  tmp_path, monkeypatch, role, code):
    from webapp.catalogue.upload_handlers import LimitedScanUploadHandler

    staged = []
    monkeypatch.setattr(LimitedScanUploadHandler, "new_file", lambda self, *args, **kwargs: staged.append(args))
    still = graded_still(tmp_path, media_root / SCAN_NAME, 2)
    user = film_members[role] if role else outsider
    response = client_for(user).post(f"/api/films/{film.pk}/grade-fit/",
                                     {"shot": colour_shots[0].pk, "still": [_upload(still)], "frame": [2]},
                                     format="multipart")
    assert response.status_code == code
    assert staged == []  # answered before the body was read
    _nothing_kept(media_root)


def test_version_references_must_be_of_the_shot_and_cover_the_frame(film, colour_shots, film_members, client_for,
                                                                    media_root, other_film):
    other_version = InReviewVersionFactory(shot=colour_shots[1])
    foreign = InReviewVersionFactory(shot=jobs_fixtures.ShotFactory(film=other_film))
    client = client_for(film_members["restorer"])
    url = f"/api/films/{film.pk}/grade-fit/"
    wrong_shot = client.post(url, {"shot": colour_shots[0].pk, "references": [{"version": other_version.pk,
                                                                               "frame": 1}]}, format="json")
    assert wrong_shot.status_code == 400 and "is not the shot being graded" in wrong_shot.json()["detail"]
    hidden = client.post(url, {"shot": colour_shots[0].pk, "references": [{"version": foreign.pk, "frame": 1}]},
                         format="json")
    assert hidden.status_code == 400 and "does not exist" in hidden.json()["detail"]
    no_media = client.post(url, {"shot": colour_shots[1].pk, "references": [{"version": other_version.pk,
                                                                             "frame": 1}]}, format="json")
    assert no_media.status_code == 400 and "has no picture" in no_media.json()["detail"]
    extra = client.post(url, {"shot": colour_shots[1].pk, "references": [{"version": other_version.pk, "frame": 1,
                                                                          "x": 1}]}, format="json")
    assert extra.status_code == 400 and "expected exactly" in extra.json()["detail"]
    _nothing_kept(media_root)


def test_a_scene_fit_names_the_shot_of_each_still(film, colour_shots, film_members, client_for, media_root, tmp_path,
                                                  sent_messages):
    scene = Scene.objects.create(film=film, name="Both", first_number=1, last_number=2)
    scan = media_root / SCAN_NAME
    stills = [graded_still(tmp_path, scan, 2), graded_still(tmp_path, scan, 9)]
    client = client_for(film_members["restorer"])
    url = f"/api/films/{film.pk}/grade-fit/"
    unnamed = client.post(url, {"scene": scene.pk, "still": [_upload(p) for p in stills], "frame": [2, 3]},
                          format="multipart")
    assert unnamed.status_code == 400 and "Name the shot of each reference frame" in unnamed.json()["detail"]
    response = client.post(url, {"scene": scene.pk, "still": [_upload(p) for p in stills], "frame": [2, 3],
                                 "still_shot": [colour_shots[0].pk, colour_shots[1].pk]}, format="multipart")
    assert response.status_code == 202, response.json()
    job = RestorationJob.objects.get()
    assert job.shot is None and job.params["scene"] == scene.pk
    assert [(r.shot.number, r.frame) for r in GradeReference.objects.order_by("shot__number")] == [(1, 2), (2, 3)]
