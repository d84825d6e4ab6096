"""CPU jobs: analysing a scan into shots with metrics and previews, rendering previews (delivering
is tests/webapp/test_delivery*.py); the preview endpoints; automatic retries of transient errors."""

from __future__ import annotations

import errno
import io

import pytest
import torch
from django.db import OperationalError
from PIL import Image

from restoration.io import write_video
from tests.webapp import jobs_fixtures
from tests.webapp.factories import MediaAssetFactory
from tests.webapp.jobs_fixtures import CHEAP_SPEC, files_under, media_files
from webapp.catalogue.models import Film, Shot
from webapp.catalogue.previews import FILMSTRIP_HEIGHT
from webapp.catalogue.services import film_update
from webapp.jobs import services
from webapp.jobs.lifecycle import JOB_RUN_TASK
from webapp.jobs.models import RestorationJob
from webapp.jobs.services import (
    JobRetryLater,
    is_transient,
    job_proxies_dispatch,
    job_run,
)

pytestmark = pytest.mark.django_db

sent_messages = jobs_fixtures.sent_messages
shots = jobs_fixtures.shots

SCAN = "assets/test/two-shots.mkv"


@pytest.fixture
def two_shot_scan(film, media_root):
    """20 frames, 64x48: a still picture, then a hard cut at frame 10 to a darker one."""
    generator = torch.Generator().manual_seed(0)
    first = torch.rand(1, 3, 48, 64, generator=generator).expand(10, 3, 48, 64)
    second = (torch.rand(1, 3, 48, 64, generator=generator) * 0.5).expand(10, 3, 48, 64)
    (media_root / SCAN).parent.mkdir(parents=True)
    write_video(media_root / SCAN, torch.cat([first, second]).contiguous(), fps=24.0)
    film_update(film=film, fields={"status": "ingesting"})
    return MediaAssetFactory(film=film, file=SCAN, width=64, height=48, frame_count=20, fps=24.0)


def test_analysing_a_scan_makes_its_shots_with_metrics_and_previews(film, member, client_for, two_shot_scan,
                                                                     sent_messages, media_root,
                                                                     django_capture_on_commit_callbacks):
    client = client_for(member(film, "restorer"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/films/{film.pk}/analyse/", {"asset": two_shot_scan.pk}, format="json")
    assert response.status_code == 202, response.json()
    job = RestorationJob.objects.get(pk=response.json()["id"])
    assert sent_messages == [(JOB_RUN_TASK, (job.pk,), job.celery_task_id)]
    job = job_run(job_id=job.pk)
    assert (job.status, job.progress, job.frames_total, job.error) == ("succeeded", 1.0, 20, "")
    shots = list(Shot.objects.filter(film=film).order_by("number"))
    assert [(s.number, s.start_frame, s.end_frame, s.source, s.status) for s in shots] == [
        (1, 0, 9, two_shot_scan, "pending"), (2, 10, 19, two_shot_scan, "pending")]
    assert {"noise", "dust", "flicker", "recommended_pipeline", "colour_notes"} <= set(shots[0].metrics)
    # the boundary into each shot is stored and given by the shots API
    assert [s.transition_in for s in shots] == [None, {"type": "cut", "start_frame": 10, "end_frame": 10}]
    listed = client.get(f"/api/shots/?film={film.pk}").json()
    listed = listed["results"] if isinstance(listed, dict) else listed
    assert [s["transition_in"] for s in sorted(listed, key=lambda s: s["number"])] == [s.transition_in for s in shots]
    assert Film.objects.get(pk=film.pk).status == "in_restoration"
    # Review previews of the original: every frame at the review height, a filmstrip per shot.
    previews = files_under(media_root) - media_files(media_root)
    assert {f"proxies/{two_shot_scan.pk}/48/{i:06d}.jpg" for i in range(20)} <= previews
    assert {f"proxies/{two_shot_scan.pk}/filmstrip-0-10.jpg", f"proxies/{two_shot_scan.pk}/filmstrip-10-20.jpg"} <= previews

    # Analysing again refreshes the metrics of the same shots; it never adds shots twice.
    Shot.objects.filter(pk=shots[0].pk).update(metrics={})
    again = services.job_create(film=film, kind="analyse", created_by=None, params={"asset": two_shot_scan.pk})
    assert job_run(job_id=again.pk).status == "succeeded"
    assert Shot.objects.filter(film=film).count() == 2 and Shot.objects.get(pk=shots[0].pk).metrics


@pytest.mark.parametrize("asset, words", [(999999, "No scan 999999"), ("seven", "valid integer")])
def test_analysing_needs_a_scan_of_the_film(film, other_film, member, client_for, sent_messages, asset, words):
    response = client_for(member(film, "archivist")).post(f"/api/films/{film.pk}/analyse/", {"asset": asset},
                                                           format="json")
    assert response.status_code == 400 and words in str(response.json()["fields"]["asset"])
    assert not RestorationJob.objects.exists() and sent_messages == []


def test_a_scan_of_another_film_is_not_found_by_its_id(film, other_film, member, client_for, sent_messages):
    foreign = MediaAssetFactory(film=other_film, frame_count=10, width=64, height=48)
    client = client_for(member(film, "archivist"))
    response = client.post(f"/api/films/{film.pk}/analyse/", {"asset": foreign.pk}, format="json")
    assert response.status_code == 400 and not RestorationJob.objects.exists()
    assert client.post(f"/api/films/{other_film.pk}/analyse/", {"asset": foreign.pk},
                       format="json").status_code == 404


@pytest.mark.parametrize("role, code", [("viewer", 403), ("creator", 403), ("restorer", 202)])
def test_rendering_proxies_needs_publish(film, member, client_for, two_shot_scan, sent_messages, role, code):
    response = client_for(member(film, role)).post(f"/api/films/{film.pk}/proxies/", {"asset": two_shot_scan.pk},
                                                    format="json")
    assert response.status_code == code


def test_the_proxies_job_renders_the_previews(film, two_shot_scan, media_root, sent_messages):
    job = job_proxies_dispatch(film=film, asset_id=two_shot_scan.pk, user=None)
    assert job_run(job_id=job.pk).status == "succeeded"
    assert len([p for p in files_under(media_root) if p.startswith(f"proxies/{two_shot_scan.pk}/48/")]) == 20


def test_previews_of_shots_and_versions_are_for_members_only(film, other_film, member, client_for, shots):
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    version = job_run(job_id=job.pk).result_version
    viewer = client_for(member(film, "viewer"))
    shot_body = viewer.get(f"/api/shots/{shots[0].pk}/").json()
    version_body = viewer.get(f"/api/versions/{version.pk}/").json()
    assert shot_body["thumbnail_url"] == f"/api/shots/{shots[0].pk}/thumbnail.jpg"
    assert version_body["filmstrip_url"] == f"/api/versions/{version.pk}/filmstrip.jpg"
    for url in (shot_body["thumbnail_url"], shot_body["filmstrip_url"], version_body["thumbnail_url"],
                version_body["filmstrip_url"]):
        response = viewer.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert response.content[:2] == b"\xff\xd8"
    strip = Image.open(io.BytesIO(viewer.get(version_body["filmstrip_url"]).content))
    assert strip.height == FILMSTRIP_HEIGHT and strip.width == 4 * round(64 * FILMSTRIP_HEIGHT / 48)  # 4 frames
    outsider = client_for(member(other_film, "archivist"))
    assert outsider.get(shot_body["thumbnail_url"]).status_code == 404
    assert outsider.get(version_body["filmstrip_url"]).status_code == 404
    assert viewer.get(f"/api/shots/{shots[0].pk}/poster.jpg").status_code == 404


# Transient errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("exc, transient", [
    (OperationalError("server closed the connection"), True),
    (OSError(errno.ENOSPC, "No space left on device"), True),
    (OSError(errno.ENOENT, "No such file"), False),
    (ValueError("bad spec"), False),
    (RuntimeError("GPU on fire"), False),
])
def test_what_is_transient(exc, transient):
    assert is_transient(exc) is transient


def test_a_transient_error_puts_the_job_back_to_pending_for_a_retry(film, shots, media_root, monkeypatch):
    from restoration import pipeline

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline, "run_pipeline", disk_full)
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    with pytest.raises(JobRetryLater):
        job_run(job_id=job.pk, final_attempt=False)
    job.refresh_from_db()
    assert job.status == "pending" and "No space left" in job.message and job.attempts == 1
    assert Shot.objects.get(pk=shots[0].pk).status == "pending"
    # The last attempt records the failure instead.
    job = job_run(job_id=job.pk, final_attempt=True)
    assert (job.status, job.attempts) == ("failed", 2) and "No space left" in job.error
    assert media_files(media_root) == {jobs_fixtures.SCAN_NAME}


def test_the_task_retries_with_exponential_backoff(settings):
    from webapp.jobs.tasks import retry_delay_s

    assert [retry_delay_s(n) for n in range(4)] == [settings.JOB_AUTORETRY_BACKOFF_S * 2**n for n in range(4)]
    assert retry_delay_s(30) == settings.JOB_AUTORETRY_BACKOFF_MAX_S


def test_a_job_whose_worker_kept_dying_is_failed_not_run_again(film, shots, settings):
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    RestorationJob.objects.filter(pk=job.pk).update(status="running", attempts=settings.JOB_MAX_ATTEMPTS)
    job = job_run(job_id=job.pk)
    assert job.status == "failed" and "Gave up after" in job.error and job.attempts == settings.JOB_MAX_ATTEMPTS


def test_the_task_retries_a_transient_error_and_then_succeeds(film, shots, media_root, monkeypatch):
    """Through the Celery task (run in place, as `apply` does: its retry runs at once, without the pause)."""
    from restoration import pipeline
    from webapp.jobs.tasks import job_run_task

    real, calls = pipeline.run_pipeline, []

    def full_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run_pipeline", full_once)
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    job_run_task.apply(args=(job.pk,), task_id=job.celery_task_id)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error, len(calls)) == ("succeeded", 2, "", 2)


def test_a_soft_time_limit_fails_the_job_without_retrying(film, shots, media_root, monkeypatch, settings):
    from celery.exceptions import SoftTimeLimitExceeded

    from restoration import pipeline
    from webapp.jobs.tasks import job_run_task

    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(pipeline, "run_pipeline", too_slow)
    assert (job_run_task.soft_time_limit, job_run_task.time_limit) == (settings.JOB_SOFT_TIME_LIMIT_S,
                                                                      settings.JOB_TIME_LIMIT_S)
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    job_run_task.apply(args=(job.pk,), task_id=job.celery_task_id)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("failed", 1) and "SoftTimeLimitExceeded" in job.error
    assert media_files(media_root) == {jobs_fixtures.SCAN_NAME}
