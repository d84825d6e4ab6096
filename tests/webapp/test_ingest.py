"""Ingest: uploads and server-side paths are probed, stored under generated names, all-or-nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from django.core.files.uploadedfile import SimpleUploadedFile

from restoration.io import write_video
from webapp.catalogue.ingest import IngestError, asset_ingest_upload
from webapp.catalogue.models import Film, MediaAsset

pytestmark = pytest.mark.django_db


def make_clip(path: Path, *, frames: int = 6, height: int = 48, width: int = 64, channels: int = 3) -> Path:
    ramp = torch.linspace(0.1, 0.9, width)[None, None, None, :].expand(frames, channels, height, width).clone()
    if channels == 3:
        ramp[:, 0] *= 0.6
    write_video(path, ramp, fps=24)
    return path


def make_monob_clip(path: Path) -> Path:
    """1-bit PNG frames in a QuickTime file: PyAV reads it, the restoration engine cannot use it."""
    mov = path.with_suffix(".tmp.mov")
    with av.open(str(mov), "w") as container:
        stream = container.add_stream("png", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "monob"
        for number in range(4):
            picture = np.random.default_rng(number).integers(0, 255, (48, 64, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="monob")
            frame.pts = number
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    mov.rename(path)
    return path


def make_wide_clip(path: Path) -> Path:
    """A valid FFV1 stream 16400 px wide (tiny on disk): beyond any real scan."""
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = 16400, 16, "gray"
        for number in range(2):
            frame = av.VideoFrame.from_ndarray(np.zeros((16, 16400), np.uint8), format="gray")
            frame.pts = number
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def truncate(path: Path, *, keep: float = 1.0, keep_bytes: int | None = None) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: keep_bytes if keep_bytes is not None else int(len(data) * keep)])
    return path


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def upload(client, film, path: Path, name: str | None = None):
    data = SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="video/x-matroska")
    return client.post(f"/api/films/{film.pk}/assets/upload/", {"file": data}, format="multipart")


# --- accepted ---------------------------------------------------------------------------------


def test_upload_stores_probed_scan_under_generated_name(film, member, client_for, media_root, tmp_path):
    restorer = member(film, "restorer")
    clip = make_clip(tmp_path / "reel 1 (final).mkv", frames=7)

    response = upload(client_for(restorer), film, clip)

    assert response.status_code == 201, response.content
    asset = MediaAsset.objects.get(pk=response.json()["id"])
    assert asset.film_id == film.pk and asset.kind == "original"
    assert asset.original_name == "reel 1 (final).mkv"
    assert "reel" not in asset.file.name and asset.file.name.endswith(".mkv")
    assert (asset.width, asset.height, asset.frame_count, asset.codec) == (64, 48, 7, "ffv1")
    stored = Path(asset.file.path)
    assert stored.is_file() and stored.resolve().is_relative_to(media_root.resolve())
    assert stored.read_bytes() == clip.read_bytes()
    # The staged upload is gone: only the stored scan remains.
    assert files_under(media_root) == {asset.file.name}
    film.refresh_from_db()
    assert film.status == "ingesting"


def test_register_copies_file_under_ingest_root(film, member, client_for, media_root, ingest_root):
    archivist = member(film, "archivist")
    (ingest_root / "scans").mkdir()
    make_clip(ingest_root / "scans" / "reel2.mkv")

    response = client_for(archivist).post(
        f"/api/films/{film.pk}/assets/register/", {"path": "scans/reel2.mkv"}, format="json"
    )

    assert response.status_code == 201, response.content
    asset = MediaAsset.objects.get(pk=response.json()["id"])
    assert asset.original_name == "reel2.mkv" and asset.frame_count == 6
    assert Path(asset.file.path).is_file()
    assert (ingest_root / "scans" / "reel2.mkv").is_file()  # the archive keeps its own file
    assert files_under(media_root) == {asset.file.name}


def test_register_accepts_absolute_path_inside_root(film, member, client_for, media_root, ingest_root):
    restorer = member(film, "restorer")
    clip = make_clip(ingest_root / "abs.mkv")
    response = client_for(restorer).post(
        f"/api/films/{film.pk}/assets/register/", {"path": str(clip)}, format="json"
    )
    assert response.status_code == 201, response.content


# --- refused, and nothing left behind ----------------------------------------------------------


def assert_refused(response, status: int, *words: str):
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    for word in words:
        assert word in detail, detail


@pytest.fixture
def unchanged(media_root, db):
    """Asserts after the test body that no file and no row were added."""
    def tables():
        return (list(MediaAsset.objects.values_list("pk", flat=True)),
                list(Film.objects.values_list("pk", "status", "updated_at")))

    before_files, before_tables = files_under(media_root), tables()
    yield
    assert files_under(media_root) == before_files
    assert tables() == before_tables


def test_an_upload_goes_on_to_analysis_once_committed(film, member, client_for, media_root, tmp_path,
                                                     django_capture_on_commit_callbacks, monkeypatch):
    from webapp.config.celery import app
    from webapp.jobs.models import RestorationJob

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    clip = make_clip(tmp_path / "reel.mkv", frames=12)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client_for(member(film, "restorer")), film, clip)

    assert response.status_code == 201, response.content
    job = RestorationJob.objects.get(pk=response.json()["analysis_job"])
    assert (job.kind, job.film_id, job.params["asset"]) == ("analyse", film.pk, response.json()["id"])
    assert job.status == "succeeded", job.error
    assert film.shots.count() == 1  # a 12-frame ramp is one shot


def test_analysis_can_be_left_for_later_and_a_bad_flag_is_refused(film, member, client_for, media_root, tmp_path):
    from webapp.jobs.models import RestorationJob

    restorer = client_for(member(film, "restorer"))
    clip = make_clip(tmp_path / "reel.mkv", frames=6)
    data = SimpleUploadedFile("reel.mkv", clip.read_bytes(), content_type="video/x-matroska")
    response = restorer.post(f"/api/films/{film.pk}/assets/upload/?analyse=maybe", {"file": data}, format="multipart")
    assert response.status_code == 400 and "analyse" in response.json()["detail"]
    assert not MediaAsset.objects.exists() and files_under(media_root) == set()

    data = SimpleUploadedFile("reel.mkv", clip.read_bytes(), content_type="video/x-matroska")
    response = restorer.post(f"/api/films/{film.pk}/assets/upload/?analyse=false", {"file": data}, format="multipart")
    assert response.status_code == 201 and response.json()["analysis_job"] is None
    assert not RestorationJob.objects.exists()


@pytest.mark.parametrize(
    "make_bad, words",
    [
        (lambda p: (p.write_text("this is a text file, not a video\n" * 50), p)[1], ("bad.mkv", "not a readable video")),
        (lambda p: truncate(make_clip(p, frames=30, height=64, width=64), keep=0.5), ("bad.mkv", "truncated")),
        (lambda p: truncate(make_clip(p, frames=8, height=32, width=32), keep_bytes=700), ("bad.mkv",)),
        (lambda p: make_clip(p, height=8, width=8), ("bad.mkv", "too small", "8x8")),
        (lambda p: make_wide_clip(p), ("bad.mkv", "absurd picture size 16400x16")),
        (lambda p: make_monob_clip(p), ("bad.mkv", "unsupported pixel format monob")),
        (lambda p: (p.write_bytes(b""), p)[1], ("bad.mkv", "empty")),
    ],
    ids=["not-a-video", "truncated", "cut-in-header", "tiny", "absurd-width", "one-bit-pixels", "empty"],
)
def test_bad_uploads_are_refused_without_trace(film, member, client_for, unchanged, tmp_path, make_bad, words):
    restorer = member(film, "restorer")
    bad = make_bad(tmp_path / "bad.mkv")
    response = upload(client_for(restorer), film, bad)
    assert_refused(response, 400, *words)


def test_file_with_no_video_frames_is_refused(film, member, client_for, unchanged, tmp_path):
    clip = make_clip(tmp_path / "full.mkv", frames=20, height=64, width=64)
    header_only = tmp_path / "header.mkv"
    with av.open(str(clip)) as container:
        first_packet_at = next(p for p in container.demux(video=0) if p.size).pos
    header_only.write_bytes(clip.read_bytes()[:first_packet_at])
    response = upload(client_for(member(film, "restorer")), film, header_only)
    assert response.status_code == 400
    assert "header.mkv" in response.json()["detail"]


def test_upload_over_the_limit_is_413_and_leaves_nothing(film, member, client_for, unchanged, settings, tmp_path):
    settings.MAX_UPLOAD_BYTES = 1000
    clip = make_clip(tmp_path / "big.mkv", frames=12)
    assert clip.stat().st_size > 1000
    response = upload(client_for(member(film, "restorer")), film, clip)
    assert_refused(response, 413, "limit of 1000 bytes")
    assert response.json()["code"] == "request_too_large"


def test_a_picture_over_the_pixel_budget_is_refused_naming_its_size_and_the_budget(
    film, member, client_for, unchanged, settings, tmp_path
):
    settings.MAX_FRAME_PIXELS = 64 * 48 - 1
    response = upload(client_for(member(film, "restorer")), film, make_clip(tmp_path / "big.mkv", height=48, width=64))
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "64x48" in detail and "3072 pixels" in detail and "budget of 3071 pixels" in detail, detail


def test_a_picture_at_the_pixel_budget_is_taken(film, member, client_for, media_root, settings, tmp_path):
    settings.MAX_FRAME_PIXELS = 64 * 48
    response = upload(client_for(member(film, "restorer")), film, make_clip(tmp_path / "fits.mkv", height=48, width=64))
    assert response.status_code == 201, response.content


def test_upload_without_file_field_is_400(film, member, client_for, unchanged):
    response = client_for(member(film, "restorer")).post(
        f"/api/films/{film.pk}/assets/upload/", {"note": "no file"}, format="multipart"
    )
    assert_refused(response, 400, "'file'")


def test_upload_name_with_traversal_is_reduced_to_a_plain_name(film, member, client_for, media_root, tmp_path):
    """Django keeps only the base name of an uploaded file; the stored path is generated anyway."""
    clip = make_clip(tmp_path / "scan.mkv")
    response = upload(client_for(member(film, "restorer")), film, clip, name="../../../../etc/evil.mkv")
    assert response.status_code == 201, response.content
    asset = MediaAsset.objects.get()
    assert asset.original_name == "evil.mkv"
    assert Path(asset.file.path).resolve().is_relative_to(media_root.resolve())
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize("name", ["../evil.mkv", "a/b.mkv", "a\\b.mkv", "..", "", "nul\x00.mkv", "x" * 300])
def test_service_refuses_names_that_are_not_plain(film, unchanged, name):
    upload = SimpleUploadedFile("placeholder.mkv", b"not a video")
    upload._name = name  # bypass Django's own sanitising, as another caller of the service could
    with pytest.raises(IngestError, match="file name"):
        asset_ingest_upload(film=film, upload=upload)


@pytest.mark.parametrize(
    "path, words",
    [
        ("../outside.mkv", ("'..'",)),
        ("scans/../../outside.mkv", ("'..'",)),
        ("missing.mkv", ("not a file in the allowed ingest folders",)),
        ("/etc/passwd", ("not a file in the allowed ingest folders",)),
        ("link-out.mkv", ("not a file in the allowed ingest folders",)),
        ("folder", ("no numbered DPX, TIFF, PNG or EXR frames in the folder",)),  # an empty sequence
        ("not-video.mkv", ("not-video.mkv", "not a readable video")),
        ("", ("path",)),
    ],
)
def test_register_refuses_paths_outside_roots_and_bad_files(
    film, member, client_for, unchanged, ingest_root, tmp_path, path, words
):
    make_clip(tmp_path / "outside.mkv")
    (ingest_root / "link-out.mkv").symlink_to(tmp_path / "outside.mkv")
    (ingest_root / "folder").mkdir()
    (ingest_root / "not-video.mkv").write_text("hello\n" * 100)
    response = client_for(member(film, "archivist")).post(
        f"/api/films/{film.pk}/assets/register/", {"path": path}, format="json"
    )
    assert response.status_code == 400, response.content
    detail = str(response.json())
    for word in words:
        assert word in detail, detail


def test_register_answers_the_same_for_a_missing_path_and_one_outside_the_roots(
    film, member, client_for, unchanged, ingest_root, tmp_path
):
    """Nothing tells a restorer whether a path exists elsewhere on the server."""
    make_clip(tmp_path / "exists.mkv")
    client = client_for(member(film, "restorer"))
    answers = []
    for path in (tmp_path / "exists.mkv", tmp_path / "missing.mkv", tmp_path / "no-folder" / "x.mkv"):
        response = client.post(f"/api/films/{film.pk}/assets/register/", {"path": str(path)}, format="json")
        answers.append((response.status_code, response.json()["detail"].replace(str(path), "<path>")))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 400


def test_register_of_a_symlink_that_stays_inside_the_root_is_accepted(film, member, client_for, media_root, ingest_root):
    make_clip(ingest_root / "real.mkv")
    (ingest_root / "alias.mkv").symlink_to(ingest_root / "real.mkv")
    response = client_for(member(film, "restorer")).post(
        f"/api/films/{film.pk}/assets/register/", {"path": "alias.mkv"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["original_name"] == "real.mkv"


# --- who may ingest ----------------------------------------------------------------------------


@pytest.mark.parametrize("role, status", [("viewer", 403), ("creator", 403)])
def test_members_who_may_not_publish_get_403(film, member, client_for, unchanged, tmp_path, role, status):
    clip = make_clip(tmp_path / "scan.mkv")
    assert upload(client_for(member(film, role)), film, clip).status_code == status


def test_outsiders_get_404_and_anonymous_401_or_403(film, outsider, client_for, api_client, unchanged, tmp_path):
    clip = make_clip(tmp_path / "scan.mkv")
    assert upload(client_for(outsider), film, clip).status_code == 404
    assert upload(api_client, film, clip).status_code in (401, 403)
    response = client_for(outsider).post(f"/api/films/{film.pk}/assets/register/", {"path": "x.mkv"}, format="json")
    assert response.status_code == 404


def test_member_of_another_film_gets_404(film, other_film, member, client_for, unchanged, tmp_path):
    clip = make_clip(tmp_path / "scan.mkv")
    restorer_elsewhere = member(other_film, "restorer")
    assert upload(client_for(restorer_elsewhere), film, clip).status_code == 404


def test_browser_upload_needs_csrf(film, member, session_client_for, unchanged, tmp_path):
    """Session-authenticated uploads without the CSRF token are refused (the handler still cleans up)."""
    clip = make_clip(tmp_path / "scan.mkv")
    response = upload(session_client_for(member(film, "restorer")), film, clip)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


CSRF_SECRET = "a" * 32  # a CSRF secret the session client sends both as its cookie and in the header


def staging_spy(monkeypatch) -> list[str]:
    """The names of the uploads the handler starts staging."""
    from webapp.catalogue import upload_handlers

    staged: list[str] = []
    original = upload_handlers.LimitedScanUploadHandler.new_file

    def spy(self, field_name, file_name, *args, **kwargs):
        staged.append(file_name)
        return original(self, field_name, file_name, *args, **kwargs)

    monkeypatch.setattr(upload_handlers.LimitedScanUploadHandler, "new_file", spy)
    return staged


def test_a_session_upload_with_the_csrf_header_is_stored(film, member, session_client_for, media_root, tmp_path):
    client = session_client_for(member(film, "restorer"))
    client.cookies["csrftoken"] = CSRF_SECRET
    data = SimpleUploadedFile("scan.mkv", make_clip(tmp_path / "scan.mkv").read_bytes())
    response = client.post(f"/api/films/{film.pk}/assets/upload/?analyse=false", {"file": data},
                           format="multipart", HTTP_X_CSRFTOKEN=CSRF_SECRET)
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("role, status", [(None, 404), ("viewer", 403)])
def test_who_may_not_upload_is_answered_before_anything_is_staged(
    film, member, outsider, session_client_for, unchanged, tmp_path, monkeypatch, role, status
):
    staged = staging_spy(monkeypatch)
    client = session_client_for(outsider if role is None else member(film, role))
    client.cookies["csrftoken"] = CSRF_SECRET
    data = SimpleUploadedFile("scan.mkv", make_clip(tmp_path / "scan.mkv").read_bytes())
    response = client.post(f"/api/films/{film.pk}/assets/upload/", {"file": data}, format="multipart",
                           HTTP_X_CSRFTOKEN=CSRF_SECRET)
    assert response.status_code == status
    assert staged == []


def test_upload_is_streamed_through_the_limited_handler(film, member, client_for, media_root, tmp_path, monkeypatch):
    """The scan goes through LimitedScanUploadHandler in chunks, never as one in-memory blob."""
    from webapp.catalogue import upload_handlers

    chunks: list[int] = []
    original = upload_handlers.LimitedScanUploadHandler.receive_data_chunk

    def spy(self, raw_data, start):
        chunks.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(upload_handlers.LimitedScanUploadHandler, "receive_data_chunk", spy)
    monkeypatch.setattr(upload_handlers.LimitedScanUploadHandler, "chunk_size", 4096)
    clip = make_clip(tmp_path / "scan.mkv", frames=20, height=96, width=128)
    response = upload(client_for(member(film, "restorer")), film, clip)
    assert response.status_code == 201
    assert len(chunks) > 1 and max(chunks) <= 4096
    assert sum(chunks) == clip.stat().st_size


def test_staged_files_left_by_a_crash_are_swept(media_root):
    from webapp.catalogue.ingest import STALE_STAGED_SECONDS, incoming_dir

    folder = incoming_dir()
    stale, fresh = folder / "upload-old.part", folder / "upload-new.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    old = time.time() - STALE_STAGED_SECONDS - 60
    os.utime(stale, (old, old))
    incoming_dir()
    assert not stale.exists() and fresh.exists()
