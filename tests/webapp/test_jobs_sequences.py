"""An image-sequence scan (DPX frames) goes through the same jobs as a video file: analysis
(shots, metrics, previews), restore (a lossless FFV1 version at the source's depth) and delivery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse

from restoration.api import probe
from restoration.sequence import dpx
from tests.webapp import jobs_fixtures
from tests.webapp.delivery_fixtures import approve
from webapp.catalogue.models import MediaAsset, Shot
from webapp.delivery.services import delivery_dispatch
from webapp.jobs.models import RestorationJob
from webapp.jobs.services import job_run

sent_messages = jobs_fixtures.sent_messages

pytestmark = pytest.mark.django_db


@pytest.fixture
def scan_folder(settings, tmp_path) -> Path:
    """20 DPX frames (10-bit log, numbers 86400-86419): a picture, then a hard cut at the 11th
    frame to another, darker one."""
    root = tmp_path / "ingest"
    settings.INGEST_ROOTS = [root]
    folder = root / "reel1"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    first, second = (rng.integers(0, 1024, (48, 64, 3), dtype=np.uint16) for _ in range(2))
    for index in range(20):
        codes = first if index < 10 else second // 2
        dpx.write(folder / f"f_{86400 + index:06d}.dpx", codes, bits=10, transfer="logarithmic",
                  timecode=f"01:00:00:{index:02d}", frame_rate=24.0)
    return folder


def test_a_sequence_scan_is_analysed_restored_and_delivered(film, member, client_for, media_root, scan_folder,
                                                             sent_messages, django_capture_on_commit_callbacks):
    restorer = client_for(member(film, "restorer"))
    with django_capture_on_commit_callbacks(execute=True):
        response = restorer.post(f"/api/films/{film.pk}/assets/register/", {"path": "reel1"}, format="json")
    assert response.status_code == 201, response.content
    asset = MediaAsset.objects.get(pk=response.json()["id"])

    # Analysis: the cut found, shots on the sequence, previews of its frames.
    analysis = job_run(job_id=response.json()["analysis_job"])
    assert (analysis.status, analysis.error) == ("succeeded", "")
    shots = list(Shot.objects.filter(film=film).order_by("number"))
    assert [(s.start_frame, s.end_frame, s.source_id) for s in shots] == [(0, 9, asset.pk), (10, 19, asset.pk)]
    previews = {p.name for p in (media_root / "proxies" / str(asset.pk)).rglob("*.jpg")}
    assert {f"{i:06d}.jpg" for i in range(20)} <= previews
    thumbnail = restorer.get(reverse("shot-preview", args=[shots[1].pk, "thumbnail"]))
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"

    # Restore: the shot's frames through a spec, into a lossless version at the scan's depth.
    with django_capture_on_commit_callbacks(execute=True):
        response = restorer.post("/api/jobs/", {"shot": shots[1].pk, "pipeline": {"ops": [{"op": "deflicker"}]}}, format="json")
    assert response.status_code == 201, response.content
    job = job_run(job_id=response.json()["id"])
    assert (job.status, job.error) == ("succeeded", "")
    media = job.result_version.media
    assert (media.codec, media.frame_count, media.bit_depth, media.is_sequence) == ("ffv1", 10, 16, False)
    info = probe(media.file.path)
    assert (info.width, info.height, info.frame_count) == (64, 48, 10)

    # Delivery: shot 2's approved version and, as the fallback, shot 1's own scan frames.
    approve(shots[1], job.result_version)
    archivist = member(film, "archivist")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = delivery_dispatch(film=film, user=archivist, masters=["ffv1"], fallback="scan")
    delivery = job_run(job_id=delivery.pk)
    assert (delivery.status, delivery.error) == ("succeeded", "")
    master = RestorationJob.objects.get(pk=delivery.pk).deliverables.get(kind="master", codec="ffv1").asset
    assert master.frame_count == 20 and Path(master.file.path).is_file()
    assert np.isfinite(master.duration)
