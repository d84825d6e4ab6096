"""Batch restores: one parent job, a restore child per shot; aggregation, failures, cancel, retry;
the shot's status while it is restored; the film group's events."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.webapp import jobs_fixtures
from tests.webapp.factories import MediaAssetFactory, ShotFactory
from tests.webapp.jobs_fixtures import CHEAP_SPEC
from webapp.catalogue.models import Shot, ShotVersion
from webapp.jobs import runtime, services
from webapp.jobs.lifecycle import JOB_RUN_TASK
from webapp.jobs.models import RestorationJob
from webapp.jobs.services import job_batch_restore_dispatch, job_cancel, job_retry, job_run

pytestmark = pytest.mark.django_db

# Shared fixtures (tests/webapp/jobs_fixtures.py), made visible to pytest in this module.
sent_messages = jobs_fixtures.sent_messages
shots = jobs_fixtures.shots


async def drain(layer, channel) -> list[dict]:
    """The messages waiting on ``channel``, in order."""
    events = []
    while True:
        try:
            events.append(await asyncio.wait_for(layer.receive(channel), 0.5))
        except TimeoutError:
            return events


def run_children(parent: RestorationJob) -> None:
    """What the GPU workers do with the batch's messages."""
    for child_id in parent.children.order_by("id").values_list("id", flat=True):
        job_run(job_id=child_id)
    parent.refresh_from_db()


@pytest.fixture
def failing_second_shot(monkeypatch):
    """The pipeline fails on shot 2 (its frames are the brighter half of the ramp scan)."""
    from restoration import pipeline

    real = pipeline.run_pipeline
    curse = {"on": True}

    def run(frames, spec, **kwargs):
        if curse["on"] and float(frames.mean()) > 0.5:
            raise RuntimeError("shot 2 is cursed")
        return real(frames, spec, **kwargs)

    monkeypatch.setattr(pipeline, "run_pipeline", run)
    return curse


def test_restoring_the_whole_film_is_one_batch_with_a_child_per_shot(film, member, client_for, shots, sent_messages,
                                                                       django_capture_on_commit_callbacks):
    client = client_for(member(film, "restorer"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/films/{film.pk}/restore/", {"shots": "all", "preset": "clean"}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    parent = RestorationJob.objects.get(pk=body["id"])
    children = list(parent.children.order_by("shot__number"))
    assert (body["kind"], body["status"], body["frames_total"], body["parent"]) == ("restore_batch", "pending", 8, None)
    assert body["children_summary"] == {"pending": 2, "running": 0, "succeeded": 0, "failed": 0, "cancelled": 0}
    assert [(c.kind, c.shot, c.status, c.params) for c in children] == [
        ("restore", shot, "pending", parent.params and {"spec": parent.params["spec"]}) for shot in shots]
    assert parent.params["shots"] == "all"
    # One message per child, each naming its row; nothing for the parent, which never runs itself.
    assert sent_messages == [(JOB_RUN_TASK, (c.pk,), c.celery_task_id) for c in children]
    listed = client.get("/api/jobs/", {"parent": parent.pk}).json()["results"]
    assert sorted(row["id"] for row in listed) == [c.pk for c in children]
    assert [row["id"] for row in client.get("/api/jobs/", {"top_level": "true"}).json()["results"]] == [parent.pk]


def test_a_batch_takes_the_same_few_queries_for_3_or_30_shots(film, media_root, sent_messages):
    scan = MediaAssetFactory(film=film, frame_count=300, width=64, height=48)
    for number in range(1, 31):
        ShotFactory(film=film, number=number, start_frame=(number - 1) * 10, end_frame=number * 10 - 1, source=scan)
    ids = list(Shot.objects.filter(film=film).order_by("number").values_list("pk", flat=True))
    counts = []
    for selection in (ids[:3], ids):
        with CaptureQueriesContext(connection) as queries:
            job_batch_restore_dispatch(film=film, shot_ids=selection, user=None, spec=CHEAP_SPEC)
        counts.append(len(queries))
    assert counts[0] == counts[1] and RestorationJob.objects.filter(kind="restore").count() == 33


def test_every_shot_restored_succeeds_the_batch(film, shots, sent_messages):
    parent = job_batch_restore_dispatch(film=film, shot_ids=None, user=None, spec=CHEAP_SPEC)
    run_children(parent)
    assert (parent.status, parent.progress, parent.frames_done, parent.frames_total) == ("succeeded", 1.0, 8, 8)
    assert parent.children_summary == {"pending": 0, "running": 0, "succeeded": 2, "failed": 0, "cancelled": 0}
    assert parent.failed_shots == [] and parent.started_at <= parent.finished_at
    assert ShotVersion.objects.filter(status="in_review").count() == 2


def test_a_failed_shot_does_not_stop_the_others_and_is_listed(film, shots, sent_messages, failing_second_shot,
                                                               member, client_for):
    parent = job_batch_restore_dispatch(film=film, shot_ids=[shots[1].pk, shots[0].pk], user=None, spec=CHEAP_SPEC)
    run_children(parent)
    assert parent.status == "failed" and parent.error == "1 of 2 shots failed, 0 cancelled."
    assert parent.children_summary == {"pending": 0, "running": 0, "succeeded": 1, "failed": 1, "cancelled": 0}
    assert parent.failed_shots == [{"shot": shots[1].pk, "number": 2, "error": "RuntimeError: shot 2 is cursed"}]
    assert list(ShotVersion.objects.values_list("shot", flat=True)) == [shots[0].pk]
    body = client_for(member(film, "viewer")).get(f"/api/jobs/{parent.pk}/").json()
    assert body["failed_shots"] == parent.failed_shots and body["progress"] == 0.5
    # The failed shot is back to pending; the restored one is in review.
    assert [s.status for s in Shot.objects.order_by("number")] == ["in_review", "pending"]


def test_retrying_a_batch_reruns_only_its_failed_shots(film, shots, sent_messages, failing_second_shot,
                                                       django_capture_on_commit_callbacks):
    parent = job_batch_restore_dispatch(film=film, shot_ids=None, user=None, spec=CHEAP_SPEC)
    run_children(parent)
    failed_child = parent.children.get(status="failed")
    sent_messages.clear()
    failing_second_shot["on"] = False
    with django_capture_on_commit_callbacks(execute=True):
        again = job_retry(job=parent)
    failed_child.refresh_from_db()
    assert (again.status, again.finished_at, again.error) == ("running", None, "")
    assert (failed_child.status, failed_child.attempts, failed_child.error) == ("pending", 0, "")
    assert sent_messages == [(JOB_RUN_TASK, (failed_child.pk,), failed_child.celery_task_id)]
    job_run(job_id=failed_child.pk)
    parent.refresh_from_db()
    assert parent.status == "succeeded" and parent.failed_shots == []
    assert ShotVersion.objects.count() == 2  # the shot restored the first time is not restored again


def test_cancelling_a_batch_cancels_its_unfinished_children(film, shots, sent_messages):
    parent = job_batch_restore_dispatch(film=film, shot_ids=None, user=None, spec=CHEAP_SPEC)
    first, second = parent.children.order_by("shot__number")
    job_run(job_id=first.pk)
    job_cancel(job=parent)
    parent.refresh_from_db()
    second.refresh_from_db()
    assert (parent.status, second.status) == ("cancelled", "cancelled")
    assert parent.children_summary == {"pending": 0, "running": 0, "succeeded": 1, "failed": 0, "cancelled": 1}
    # The message of the cancelled child still arrives: it does nothing.
    assert job_run(job_id=second.pk).attempts == 0 and ShotVersion.objects.count() == 1


def test_a_running_shot_is_in_restoration_and_its_film_hears_everything(film, shots, monkeypatch):
    from channels.layers import get_channel_layer

    from restoration import pipeline
    from webapp.jobs.events import film_group

    monkeypatch.setattr(runtime, "PROGRESS_INTERVAL_S", 0.0)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(film_group(film.pk), channel)
    seen_status = []
    real = pipeline.run_pipeline

    def run(frames, spec, **kwargs):
        seen_status.append(Shot.objects.get(pk=shots[0].pk).status)
        return real(frames, spec, **kwargs)

    monkeypatch.setattr(pipeline, "run_pipeline", run)
    job = services.job_create(film=film, kind="restore", shot=shots[0], created_by=None, params={"spec": CHEAP_SPEC})
    job = job_run(job_id=job.pk)
    assert seen_status == ["in_restoration"]
    events = async_to_sync(drain)(layer, channel)
    types = [event["type"] for event in events]
    assert types[0] == "job.progress" and types[1:2] == ["shot.status"] and types[-1] == "job.finished"
    assert events[1] == {"type": "shot.status", "shot": shots[0].pk, "status": "in_restoration"}
    assert {"type": "version.created", "shot": shots[0].pk, "version": job.result_version_id, "number": 1} in events
    assert events[-1]["status"] == "succeeded" and events[-1]["result_version"] == job.result_version_id


@pytest.mark.parametrize("role, code", [("viewer", 403), ("creator", 403), (None, 404)])
def test_only_restorers_and_archivists_restore_a_film(film, other_film, member, client_for, shots, sent_messages,
                                                       role, code):
    user = member(film, role) if role else member(other_film, "archivist")
    response = client_for(user).post(f"/api/films/{film.pk}/restore/", {"shots": "all", "preset": "clean"},
                                     format="json")
    assert response.status_code == code
    assert not RestorationJob.objects.exists() and sent_messages == []


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"shots": [], "preset": "clean"}, "shots", "non-empty list"),
        ({"shots": "some", "preset": "clean"}, "shots", '"all"'),
        ({"shots": [1, True], "preset": "clean"}, "shots", "shot ids"),
        ({"shots": "all"}, "non_field_errors", "either"),
        ({"shots": "all", "pipeline": {"ops": [{"op": "paint"}]}}, "pipeline", "ops[0].op"),
        ({"shots": "all", "preset": "clean", "priority": 9}, "priority", "Unknown"),
    ],
)
def test_bad_batch_requests_are_400_naming_the_field(film, member, client_for, shots, sent_messages, body, field,
                                                     words):
    response = client_for(member(film, "archivist")).post(f"/api/films/{film.pk}/restore/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"] and words in str(response.json()["fields"][field])
    assert not RestorationJob.objects.exists() and sent_messages == []


def test_shots_of_another_film_are_named_and_nothing_is_created(film, other_film, member, client_for, shots,
                                                                sent_messages):
    stranger = ShotFactory(film=other_film)
    response = client_for(member(film, "restorer")).post(
        f"/api/films/{film.pk}/restore/", {"shots": [shots[0].pk, stranger.pk], "preset": "clean"}, format="json")
    assert response.status_code == 400
    assert str(stranger.pk) in str(response.json()["fields"]["shots"])
    assert not RestorationJob.objects.exists() and sent_messages == []


def test_retry_through_the_api(film, other_film, member, client_for, shots, sent_messages, failing_second_shot,
                               django_capture_on_commit_callbacks):
    job = services.job_create(film=film, kind="restore", shot=shots[1], created_by=None, params={"spec": CHEAP_SPEC})
    assert job_run(job_id=job.pk).status == "failed"
    assert client_for(member(other_film, "archivist")).post(f"/api/jobs/{job.pk}/retry/").status_code == 404
    assert client_for(member(film, "creator")).post(f"/api/jobs/{job.pk}/retry/").status_code == 403
    restorer = client_for(member(film, "restorer"))
    with django_capture_on_commit_callbacks(execute=True):
        response = restorer.post(f"/api/jobs/{job.pk}/retry/")
    assert response.status_code == 202 and response.json()["status"] == "pending"
    job.refresh_from_db()
    assert sent_messages == [(JOB_RUN_TASK, (job.pk,), job.celery_task_id)]
    again = restorer.post(f"/api/jobs/{job.pk}/retry/")
    assert again.status_code == 400 and "this one is pending" in str(again.json())
