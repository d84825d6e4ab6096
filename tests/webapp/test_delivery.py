"""Delivery: the API's checks (400s that start nothing), the deliver job's masters with the scan's
sound, exports and checksums, fallbacks, reels, cancel and a full disk leaving nothing behind."""

from __future__ import annotations

import errno
import hashlib
import json
from pathlib import Path

import opentimelineio as otio
import pytest

from restoration import api as engine
from restoration.io import read_frames
from tests.webapp import delivery_fixtures, jobs_fixtures
from tests.webapp.delivery_fixtures import FRAMES, approve, frame_sound, restore, sound_by_frame
from tests.webapp.factories import FilmFactory
from webapp.catalogue.models import Film, MediaAsset
from webapp.delivery import jobs as delivery_jobs
from webapp.delivery.models import Deliverable
from webapp.jobs.lifecycle import job_cancel
from webapp.jobs.models import RestorationJob
from webapp.jobs.registry import queue_for
from webapp.jobs.services import job_run
from webapp.review.models import Decision

pytestmark = pytest.mark.django_db

sent_messages = jobs_fixtures.sent_messages
sound_shots = delivery_fixtures.sound_shots

OUTPUTS = ("deliveries", "tmp")  # where a delivery writes: its scratch and its final files


@pytest.fixture
def archivist(film, member):
    return member(film, "archivist")


@pytest.fixture
def approved(film, sound_shots):
    versions = [restore(film, shot) for shot in sound_shots]
    for shot, version in zip(sound_shots, versions, strict=True):
        approve(shot, version)
    return versions


def _deliver(client, film, body=None, code=202):
    response = client.post(f"/api/films/{film.pk}/deliver/", body or {}, format="json")
    assert response.status_code == code, response.content
    return response.json()


def _run(job_id):
    job = job_run(job_id=job_id)
    assert job.status == "succeeded", job.error
    return job


def test_the_masters_carry_the_approved_pictures_and_the_scans_sound_in_sync(film, approved, archivist, client_for,
                                                                             sent_messages, media_root):
    job = _deliver(client_for(archivist), film, {"masters": ["ffv1", "prores"], "exports": ["otio", "edl"]})
    assert queue_for("deliver") == "cpu"
    job = _run(job["id"])
    assert job.frames_total == 2 * FRAMES and "with sound" in job.message
    masters = {d.codec: d for d in Deliverable.objects.filter(kind="master")}
    assert set(masters) == {"ffv1", "prores"}
    assert {d.kind for d in Deliverable.objects.all()} == {"master", "otio", "edl"}
    expected = [frame_sound(n) for n in range(FRAMES)]
    for codec, deliverable in masters.items():
        path = deliverable.asset.file.path
        info = engine.probe(path)
        assert (info.codec, info.frame_count, info.fps) == ({"ffv1": "ffv1", "prores": "prores"}[codec], FRAMES, 24.0)
        assert info.audio == ((48_000, "stereo", 16),) and deliverable.sound
        assert sound_by_frame(path, FRAMES) == expected
    pictures = read_frames(masters["ffv1"].asset.file.path)
    conformed = [read_frames(v.media.file.path) for v in approved]
    assert (pictures[:4] - conformed[0]).abs().max() <= 1 / 255 + 1e-6
    assert (pictures[4:] - conformed[1]).abs().max() <= 1 / 255 + 1e-6
    assert masters["prores"].asset.pix_fmt == "yuv422p10le"
    for deliverable in Deliverable.objects.all():  # the checksums are the file's
        data = Path(deliverable.asset.file.path).read_bytes()
        assert deliverable.md5 == hashlib.md5(data).hexdigest()
        assert deliverable.sha256 == hashlib.sha256(data).hexdigest()
        assert deliverable.status == "ready" and deliverable.asset.kind == "delivery"
    assert [s["picture"] for s in masters["ffv1"].shots] == ["approved", "approved"]
    assert [(s["start_frame"], s["end_frame"]) for s in masters["ffv1"].shots] == [(0, 3), (4, 7)]
    assert Film.objects.get(pk=film.pk).status == "delivered"
    assert not [p for p in (media_root / "tmp").rglob("*") if p.is_file()]


def test_the_exports_hold_the_cut_its_versions_decisions_and_grades(film, approved, archivist, client_for,
                                                                    sent_messages, film_members):
    from tests.webapp.colour_fixtures import LOOK, make_grade
    from webapp.colour.services import grade_decision_record

    grade = make_grade(shot=approved[0].shot, cdl=LOOK)
    for role in ("creator", "archivist"):
        grade_decision_record(grade=grade, reviewer=film_members[role], verdict="approve")
    Decision.objects.create(version=approved[1], reviewer=archivist, role="archivist", verdict="approve", note="Fine")
    approved[1].shot.transition_in = {"type": "dissolve", "start_frame": 3, "end_frame": 4}  # the analysis's span
    approved[1].shot.save(update_fields=["transition_in"])
    job = _deliver(client_for(archivist), film, {"masters": [], "exports": ["otio", "edl", "ccc"]})
    _run(job["id"])
    files = {d.kind: Path(d.asset.file.path).read_text(encoding="utf-8") for d in Deliverable.objects.all()}
    timeline = otio.adapters.read_from_string(files["otio"], "otio_json")
    video = timeline.tracks[0]
    assert [item.name for item in video] == ["Shot 1", "dissolve", "Shot 2"]
    assert (video[1].in_offset.value, video[1].out_offset.value) == (1, 1)
    assert [clip.source_range.duration.value for clip in video.find_clips()] == [4, 4]
    assert video.duration().value == 8
    record = video[2].metadata["restoration"]
    assert (record["version"], record["picture"], list(record["scan_frames"])) == (approved[1].number, "approved",
                                                                                  [4, 7])
    assert [(d["role"], d["verdict"], d["note"]) for d in record["decisions"]] == [("archivist", "approve", "Fine")]
    assert list(video[0].metadata["restoration"]["grade"]["cdl"]["slope"]) == list(LOOK["slope"])
    assert [track.kind for track in timeline.tracks] == ["Video", "Audio"]
    edl = files["edl"]
    assert "001  S1V1     B     C        00:00:00:00 00:00:00:04 00:00:00:00 00:00:00:04" in edl
    assert "002  S1V1     B     C        00:00:00:04 00:00:00:04 00:00:00:04 00:00:00:04" in edl
    assert "002  S2V1     B     D    002 00:00:00:00 00:00:00:04 00:00:00:04 00:00:00:08" in edl
    sop = "*ASC_SOP (" + " ".join(f"{v:.6f}" for v in LOOK["slope"]) + ")"
    assert sop in edl and f"*ASC_SAT {LOOK['saturation']:.6f}" in edl and edl.count("*ASC_SOP") == 1
    corrections = engine.grade_file_corrections(files["ccc"].encode(), name="grades.ccc")
    assert list(corrections) == ["shot-1"]
    assert Film.objects.get(pk=film.pk).status != "delivered"  # no master: not delivered


def test_a_distribution_encode_has_per_shot_figures_and_the_sound(film, approved, archivist, client_for,
                                                                   sent_messages, media_root, client):
    body = {"masters": [], "distribution": {"codec": "h264", "target": "psnr:45", "preset": "ultrafast"}}
    job = _run(_deliver(client_for(archivist), film, body)["id"])
    assert job.frames_total == 2 * FRAMES  # the scratch lossless conform, then the encode
    item = client_for(archivist).get(f"/api/deliverables/?film={film.pk}").json()["results"]
    assert [(i["kind"], i["codec"], i["container"]) for i in item] == [("distribution", "h264", "mov,mp4,m4a,3gp,3g2,mj2")]
    item = item[0]
    assert item["encoding"]["target"] == "psnr:45" and item["encoding"]["preset"] == "ultrafast"
    assert [(s["number"], s["start_frame"], s["end_frame"]) for s in item["shots"]] == [(1, 0, 3), (2, 4, 7)]
    assert all(s["quality"] >= 45 and 0 <= s["crf"] <= 51 for s in item["shots"])
    path = Deliverable.objects.get().asset.file.path
    info = engine.probe(path)
    assert info.frame_count == FRAMES and item["sound"] and info.audio[0][:2] == (48_000, "stereo")
    assert item["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert not [p for p in media_root.rglob("*") if p.is_file() and p.relative_to(media_root).parts[0] == "tmp"]
    client.force_login(archivist)
    page = client.get(f"/films/{film.pk}/delivery/").content.decode()
    stored = Deliverable.objects.get().shots[0]
    assert not stored["capped"]  # psnr:45 needs a CRF below the highest on this picture
    assert "psnr:45" in page and f'<td class="num">{stored["crf"]}</td><td class="num">{stored["quality"]}' in page
    assert "capped at CRF" not in page


def test_a_shot_above_the_target_at_the_highest_crf_is_stored_and_shown_capped(film, approved, archivist, client_for,
                                                                               sent_messages, client):
    body = {"masters": [], "distribution": {"codec": "h264", "target": "psnr:10", "preset": "ultrafast"}}
    _run(_deliver(client_for(archivist), film, body)["id"])
    stored = Deliverable.objects.get().shots
    assert [(s["crf"], s["capped"]) for s in stored] == [(51, True), (51, True)]  # every shot beats 10 dB at 51
    assert all(s["quality"] > 10 for s in stored)
    item = client_for(archivist).get(f"/api/deliverables/?film={film.pk}").json()["results"][0]
    assert [s["capped"] for s in item["shots"]] == [True, True]
    client.force_login(archivist)
    page = client.get(f"/films/{film.pk}/delivery/").content.decode()
    assert page.count(">capped at CRF 51</span>") == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"masters": ["h264"]}, "masters"),
    ({"exports": ["aaf"]}, "exports"),
    ({"masters": [], "exports": []}, "masters"),
    ({"reel": {"first": 2, "last": 1}}, "reel"),
    ({"reel": {"first": 5, "last": 9}}, "reel"),
    ({"fallback": "nearest"}, "fallback"),
    ({"colour": True}, "colour"),
    ({"distribution": {"codec": "vp9", "target": "ssim:0.97"}}, "distribution"),
    ({"distribution": {"codec": "h264", "target": "ssim:2"}}, "distribution"),
    ({"distribution": {"codec": "h264", "target": "ssim:0.97", "crf": 20}}, "distribution"),
])
def test_bad_requests_are_400s_that_start_nothing(film, approved, archivist, client_for, body, field):
    response = client_for(archivist).post(f"/api/films/{film.pk}/deliver/", body, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()
    assert not RestorationJob.objects.filter(kind="deliver").exists()


def test_unapproved_shots_are_listed_until_a_fallback_is_chosen(film, sound_shots, archivist, client_for,
                                                                 sent_messages):
    approve(sound_shots[0], restore(film, sound_shots[0]))
    response = client_for(archivist).post(f"/api/films/{film.pk}/deliver/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["unapproved_shots"] == ["2"] and "2" in response.json()["fields"]["film"][0]
    assert not RestorationJob.objects.filter(kind="deliver").exists()
    _run(_deliver(client_for(archivist), film, {"fallback": "scan"})["id"])
    master = Deliverable.objects.get(kind="master")
    assert [s["picture"] for s in master.shots] == ["approved", "scan"]
    scan = read_frames(sound_shots[1].source.file.path, 4, 4)
    assert (read_frames(master.asset.file.path)[4:] - scan).abs().max() <= 1 / 255 + 1e-6
    assert sound_by_frame(master.asset.file.path, FRAMES) == [frame_sound(n) for n in range(FRAMES)]
    assert Film.objects.get(pk=film.pk).status != "delivered"  # a fallback is not the approved film


def test_the_latest_fallback_takes_the_newest_published_version(film, sound_shots, archivist, client_for,
                                                                sent_messages):
    approve(sound_shots[0], restore(film, sound_shots[0]))
    restore(film, sound_shots[1])
    newest = restore(film, sound_shots[1])
    _run(_deliver(client_for(archivist), film, {"fallback": "latest"})["id"])
    assert [(s["picture"], s["version"]) for s in Deliverable.objects.get().shots] == [
        ("approved", 1), ("latest", newest.number)]


def test_a_film_without_shots_or_approved_shots_cannot_be_delivered(film, sound_shots, member, client_for):
    empty = FilmFactory(title="Empty")
    response = client_for(member(empty, "archivist")).post(f"/api/films/{empty.pk}/deliver/", {}, format="json")
    assert response.status_code == 400 and "no shots" in response.json()["detail"]
    response = client_for(member(film, "archivist")).post(f"/api/films/{film.pk}/deliver/", {"fallback": "scan"},
                                                          format="json")
    assert response.status_code == 400 and "approved" in response.json()["detail"]


def test_a_reel_is_its_shots_with_their_own_sound(film, approved, archivist, client_for, sent_messages):
    _run(_deliver(client_for(archivist), film, {"reel": {"first": 2, "last": 2}})["id"])
    master = Deliverable.objects.get()
    assert master.reel == {"first": 2, "last": 2} and master.asset.frame_count == 4
    assert sound_by_frame(master.asset.file.path, 4) == [frame_sound(n) for n in range(4, 8)]
    assert "shots-2-2" in master.asset.original_name
    assert Film.objects.get(pk=film.pk).status != "delivered"  # a reel does not deliver the film


def test_a_retimed_picture_is_refused_with_sound_and_delivered_picture_only(film, approved, archivist, client_for,
                                                                            sent_messages):
    for version in approved:
        MediaAsset.objects.filter(pk=version.media_id).update(fps=12.0)  # both retimed to 12 fps
    response = client_for(archivist).post(f"/api/films/{film.pk}/deliver/", {}, format="json")
    assert response.status_code == 400 and "sound" in response.json()["fields"]
    _run(_deliver(client_for(archivist), film, {"sound": False})["id"])
    master = Deliverable.objects.get()
    assert not master.sound and engine.probe(master.asset.file.path).audio == () and master.asset.fps == 12.0


def test_only_archivists_deliver(film, approved, member, client_for, other_film):
    for role in ("restorer", "creator", "viewer"):
        assert client_for(member(film, role)).post(f"/api/films/{film.pk}/deliver/", {}).status_code == 403
    assert client_for(member(other_film, "archivist")).post(f"/api/films/{film.pk}/deliver/", {}).status_code == 404


def test_a_cancelled_delivery_leaves_no_file_and_no_row(film, approved, archivist, client_for, sent_messages,
                                                        media_root, monkeypatch):
    job_id = _deliver(client_for(archivist), film, {"masters": ["ffv1", "prores"]})["id"]
    real_join = delivery_jobs.clips_join

    def cancelled_midway(spans, output, *, progress, **options):
        def report(done, total):
            job_cancel(job=RestorationJob.objects.get(pk=job_id))
            progress(done, total)
        return real_join(spans, output, progress=report, **options)

    monkeypatch.setattr(delivery_jobs, "clips_join", cancelled_midway)
    assert job_run(job_id=job_id).status == "cancelled"
    assert not Deliverable.objects.exists() and not MediaAsset.objects.filter(kind="delivery").exists()
    assert not [p for p in media_root.rglob("*") if p.is_file() and p.relative_to(media_root).parts[0] in OUTPUTS]


def test_a_full_disk_fails_the_delivery_with_nothing_left_looking_complete(film, approved, archivist, client_for,
                                                                           sent_messages, media_root, monkeypatch):
    job_id = _deliver(client_for(archivist), film, {"exports": ["edl"]})["id"]

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(delivery_jobs, "edl_text", disk_full)
    job = job_run(job_id=job_id, final_attempt=True)
    assert job.status == "failed" and "No space left on device" in job.error
    assert not Deliverable.objects.exists() and not MediaAsset.objects.filter(kind="delivery").exists()
    assert not [p for p in media_root.rglob("*") if p.is_file() and p.relative_to(media_root).parts[0] in OUTPUTS]


def test_the_approvals_moving_after_the_request_fail_the_job_with_the_reason(film, approved, archivist, client_for,
                                                                             sent_messages):
    job_id = _deliver(client_for(archivist), film)["id"]
    approve_none = approved[1].shot
    type(approve_none).objects.filter(pk=approve_none.pk).update(approved_version=None)
    job = job_run(job_id=job_id)
    assert job.status == "failed" and "Shots without an approved version: 2" in job.error
    assert json.loads(json.dumps(job.params))["fallback"] is None
