"""Jobs under faults, in one process: the broker down when a job is sent, a message lost with
the broker, a message delivered twice or late, a worker gone silent, the database failing at a
job's start or after its commit, files left by a write cut short. The same faults on the real
services, with real workers killed, are the chaos suite's (tests/chaos)."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from tests.webapp import jobs_fixtures
from tests.webapp.factories import MediaAssetFactory
from tests.webapp.jobs_fixtures import CHEAP_SPEC, media_files
from webapp.catalogue.media_files import media_orphans_sweep, uncommitted_remove
from webapp.catalogue.models import Shot, ShotVersion
from webapp.jobs import lifecycle, runner, sweeper
from webapp.jobs.lifecycle import JOB_RUN_TASK
from webapp.jobs.models import RestorationJob
from webapp.jobs.runtime import output_path
from webapp.jobs.services import job_batch_restore_dispatch, job_restore_dispatch, job_run

pytestmark = pytest.mark.django_db

sent_messages = jobs_fixtures.sent_messages
shots = jobs_fixtures.shots

LONG_AGO = timedelta(hours=2)


class Broker:
    """Stands in for Celery's broker: refuses messages while ``down``, else records them."""

    def __init__(self):
        self.down, self.sent = False, []

    def send_task(self, name, args=None, kwargs=None, task_id=None, **options):
        if self.down:
            raise BrokerOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append((name, tuple(args or ()), task_id))


@pytest.fixture
def broker(monkeypatch) -> Broker:
    from webapp.config.celery import app

    broker = Broker()
    monkeypatch.setattr(app, "send_task", broker.send_task)
    return broker


def restore_job(shots, restorer=None) -> RestorationJob:
    return job_restore_dispatch(shot=shots[0], user=restorer, spec=CHEAP_SPEC)


def age(job: RestorationJob, **fields_ago: timedelta) -> None:
    RestorationJob.objects.filter(pk=job.pk).update(**{name: timezone.now() - ago for name, ago in fields_ago.items()})


# Every job reaches a worker ------------------------------------------------------------------


def test_a_job_posted_while_the_broker_is_down_is_accepted_and_sent_by_the_sweeper(
        film, member, client_for, shots, broker, django_capture_on_commit_callbacks):
    broker.down = True
    client = client_for(member(film, "restorer"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/jobs/", {"shot": shots[0].pk, "preset": "clean"}, format="json")
    assert response.status_code == 201, response.json()  # created: the broker's outage only delays it
    job = RestorationJob.objects.get(pk=response.json()["id"])
    assert (job.status, job.dispatched_at) == ("pending", None)  # the row is the outbox

    assert broker.sent == []
    broker.down = False
    assert sweeper.jobs_dispatch_unsent() == []  # within the grace: the send on commit may be under way
    age(job, created_at=LONG_AGO)
    assert sweeper.jobs_dispatch_unsent() == [job.pk]
    assert broker.sent == [(JOB_RUN_TASK, (job.pk,), job.celery_task_id)]
    job.refresh_from_db()
    assert job.dispatched_at is not None
    assert sweeper.jobs_dispatch_unsent() == []  # sent once


def test_a_sent_job_whose_message_the_broker_lost_is_sent_again(film, shots, sent_messages, monkeypatch):
    job = restore_job(shots)
    age(job, created_at=LONG_AGO, dispatched_at=LONG_AGO)
    monkeypatch.setattr(sweeper, "broker_task_ids", lambda: {job.celery_task_id})
    assert sweeper.jobs_dispatch_lost() == []  # still queued: nothing to do
    monkeypatch.setattr(sweeper, "broker_task_ids", lambda: None)
    assert sweeper.jobs_dispatch_lost() == []  # the broker cannot say: never guess
    monkeypatch.setattr(sweeper, "broker_task_ids", set)
    assert sweeper.jobs_dispatch_lost() == [job.pk]
    assert sent_messages[-1] == (JOB_RUN_TASK, (job.pk,), job.celery_task_id)  # the same id: a copy is dropped


@contextmanager
def broker_url(url: str):
    """Point this process's Celery app at ``url`` (and back), dropping pooled connections."""
    from webapp.config.celery import app

    old = app.conf.broker_url
    app.conf.broker_url, app._pool, app.amqp._producer_pool = url, None, None
    try:
        yield
    finally:
        app.conf.broker_url, app._pool, app.amqp._producer_pool = old, None, None


def test_the_in_process_broker_holds_what_this_process_sent_it_and_nothing_else(film, shots, sent_messages):
    # It held "nothing on the first sweep, then cannot say": a job this process had sent, waiting
    # behind others for longer than JOB_REDISPATCH_AFTER_S, was called lost and sent again.
    with broker_url("memory://"):
        waiting, lost = restore_job(shots), restore_job(shots)
        assert lifecycle.jobs_enqueue([waiting]) == 1  # sent by this process: held until it runs
        age(waiting, created_at=LONG_AGO, dispatched_at=LONG_AGO)
        age(lost, created_at=LONG_AGO, dispatched_at=LONG_AGO)  # sent before a restart, or by a command
        assert waiting.celery_task_id in sweeper.broker_task_ids()
        assert lost.celery_task_id not in sweeper.broker_task_ids()
        assert sweeper.jobs_dispatch_lost() == [lost.pk]
        assert sweeper.jobs_dispatch_lost() == []  # both held now, sweep after sweep


@pytest.mark.integration
def test_redis_holds_the_ids_of_queued_and_unacknowledged_messages(film, shots, settings):
    """On the real Redis, in a queue of this test's own (no worker of another test takes it)."""
    import redis

    from webapp.jobs.lifecycle import jobs_enqueue
    from webapp.jobs.registry import queue_redirected

    if not settings.ENV.redis_url:
        pytest.fail("needs REDIS_URL=redis://...")
    queue = f"test-held-{os.getpid()}-{time.monotonic_ns()}"
    job = restore_job(shots)
    with queue_redirected("restore", queue):
        assert jobs_enqueue([job]) == 1
        held = sweeper.broker_task_ids()
    redis.Redis.from_url(settings.ENV.redis_url).delete(queue)
    assert job.celery_task_id in held
    with queue_redirected("restore", queue):
        assert job.celery_task_id not in sweeper.broker_task_ids()  # consumed: it would be sent again


# Deliveries twice, late, or of a taken-back job ---------------------------------------------------------


def test_a_stale_message_is_dropped_and_the_current_one_runs(film, shots, sent_messages):
    job = restore_job(shots)
    assert job_run(job_id=job.pk, task_id="an-older-message").status == "pending"
    assert RestorationJob.objects.get(pk=job.pk).attempts == 0
    assert job_run(job_id=job.pk, task_id=job.celery_task_id).status == "succeeded"


def test_a_second_delivery_while_the_job_runs_with_a_live_heartbeat_is_dropped(film, shots, sent_messages):
    job = restore_job(shots)
    RestorationJob.objects.filter(pk=job.pk).update(status="running", attempts=1, started_at=timezone.now(),
                                                    heartbeat_at=timezone.now())
    row = job_run(job_id=job.pk, task_id=job.celery_task_id)
    assert (row.status, row.attempts) == ("running", 1)
    assert not ShotVersion.objects.exists()


def test_a_retry_takes_over_the_attempt_it_abandoned_and_a_silent_job_is_taken_over(film, shots, sent_messages):
    job = restore_job(shots)
    RestorationJob.objects.filter(pk=job.pk).update(status="running", attempts=1, started_at=timezone.now(),
                                                    heartbeat_at=timezone.now())
    # The database failed while this attempt ran: the row could not be put back to pending.
    row = job_run(job_id=job.pk, task_id=job.celery_task_id, abandoned_attempt=1)
    assert (row.status, row.attempts) == ("succeeded", 2)

    second = job_restore_dispatch(shot=shots[1], user=None, spec=CHEAP_SPEC)
    RestorationJob.objects.filter(pk=second.pk).update(status="running", attempts=1, started_at=timezone.now())
    age(second, heartbeat_at=LONG_AGO)  # its worker died; the visibility timeout redelivered the message
    assert job_run(job_id=second.pk, task_id=second.celery_task_id).status == "succeeded"


def test_a_silent_running_job_is_taken_back_sent_again_and_its_old_message_is_stale(
        film, shots, sent_messages, settings):
    job = restore_job(shots)
    live = job_restore_dispatch(shot=shots[1], user=None, spec=CHEAP_SPEC)
    for row in (job, live):  # both started, the first by a worker that died
        RestorationJob.objects.filter(pk=row.pk).update(status="running", attempts=1, started_at=timezone.now(),
                                                        heartbeat_at=timezone.now())
    Shot.objects.filter(pk=shots[0].pk).update(status="in_restoration")
    age(job, heartbeat_at=timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT_S + 5))
    sent_before = len(sent_messages)

    assert sweeper.jobs_reclaim_silent() == [job.pk]
    reclaimed = RestorationJob.objects.get(pk=job.pk)
    assert reclaimed.status == "pending" and reclaimed.celery_task_id != job.celery_task_id
    assert "no heartbeat" in reclaimed.message
    assert sent_messages[sent_before:] == [(JOB_RUN_TASK, (job.pk,), reclaimed.celery_task_id)]
    assert Shot.objects.get(pk=shots[0].pk).status != "in_restoration"  # nothing runs on it now
    assert RestorationJob.objects.get(pk=live.pk).status == "running"  # a live heartbeat is left alone

    assert job_run(job_id=job.pk, task_id=job.celery_task_id).status == "pending"  # the dead worker's message
    row = job_run(job_id=job.pk, task_id=reclaimed.celery_task_id)
    assert (row.status, row.attempts) == ("succeeded", 2)
    assert ShotVersion.objects.filter(shot=shots[0]).count() == 1


@pytest.mark.django_db(transaction=True)  # the thread has a connection of its own: it sees committed rows
def test_the_heartbeat_thread_stamps_the_row_while_the_job_runs(film, shots, sent_messages, settings):
    settings.JOB_HEARTBEAT_S = 0.05
    job = restore_job(shots)
    start = timezone.now() - timedelta(minutes=5)
    RestorationJob.objects.filter(pk=job.pk).update(status="running", attempts=1, heartbeat_at=start)
    job.refresh_from_db()
    stamps = set()
    with runner.Heartbeat(job):
        deadline = time.monotonic() + 5
        while len(stamps) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
            stamps.add(RestorationJob.objects.get(pk=job.pk).heartbeat_at)
    assert len(stamps - {start}) >= 2  # stamped again and again, not once
    assert runner.heartbeat_is_live(RestorationJob.objects.get(pk=job.pk))
    after = RestorationJob.objects.get(pk=job.pk).heartbeat_at
    time.sleep(0.2)
    assert RestorationJob.objects.get(pk=job.pk).heartbeat_at == after  # stopped with the job


# Transient means transient everywhere -------------------------------------------------------


def test_the_database_failing_at_the_start_of_a_job_is_retried_by_its_task(film, shots, sent_messages, monkeypatch):
    from webapp.jobs.tasks import job_run_task

    real, calls = runner._job_start, []

    def database_restarting(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "_job_start", database_restarting)
    job = restore_job(shots)
    job_run_task.apply(args=(job.pk,), task_id=job.celery_task_id)  # apply runs the retry at once
    job.refresh_from_db()
    assert (job.status, job.attempts, len(calls)) == ("succeeded", 1, 2)


def test_a_bug_at_the_start_of_a_job_is_not_retried(film, shots, sent_messages, monkeypatch):
    from webapp.jobs.tasks import job_run_task

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise KeyError("a bug")

    monkeypatch.setattr(runner, "_job_start", broken)
    job = restore_job(shots)
    result = job_run_task.apply(args=(job.pk,), task_id=job.celery_task_id)
    assert isinstance(result.result, KeyError) and len(calls) == 1


# Side effects after the commit never undo it ------------------------------------------------------


def test_events_failing_after_the_commit_leave_the_version_and_its_file(film, shots, sent_messages, media_root,
                                                                       monkeypatch):
    from webapp.jobs.kinds import restore

    def redis_gone(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(restore, "version_created_announce", redis_gone)
    monkeypatch.setattr(restore, "_version_previews", redis_gone)
    job = restore_job(shots)
    row = job_run(job_id=job.pk, task_id=job.celery_task_id)
    assert row.status == "succeeded"
    version = ShotVersion.objects.get(shot=shots[0])
    assert Path(version.media.file.path).is_file()
    assert media_files(media_root) == {jobs_fixtures.SCAN_NAME, version.media.file.name}


def test_a_batch_whose_last_child_could_not_sum_itself_in_is_finished_by_the_sweep(film, shots, sent_messages,
                                                                                  monkeypatch):
    # The demo on SQLite lost this write to "database is locked"; PostgreSQL restarting loses it too.
    parent = job_batch_restore_dispatch(film=film, shot_ids=None, user=None, spec=CHEAP_SPEC)
    first, last = parent.children.order_by("id")
    job_run(job_id=first.pk)
    real_batch_sync = lifecycle.batch_sync

    def database_locked(parent_id, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(lifecycle, "batch_sync", database_locked)
    assert job_run(job_id=last.pk).status == "succeeded"
    monkeypatch.setattr(lifecycle, "batch_sync", real_batch_sync)
    parent.refresh_from_db()
    assert parent.status == "running" and parent.children_summary["succeeded"] == 1  # left open

    assert sweeper.sweep().batches_finished == []  # a child's own sum may still be on its way
    later = timezone.now() + timedelta(seconds=sweeper.BATCH_RESYNC_GRACE_S + 1)
    result = sweeper.sweep(now=later)
    assert result.batches_finished == [parent.pk] and result.faults()["batches_finished"] == 1
    parent.refresh_from_db()
    assert (parent.status, parent.message) == ("succeeded", "All 2 shots restored.")
    assert parent.children_summary == {"pending": 0, "running": 0, "succeeded": 2, "failed": 0, "cancelled": 0}
    assert sweeper.sweep(now=later).batches_finished == []


def test_cleanup_never_removes_a_file_a_row_names_nor_anything_when_the_database_cannot_say(
        film, media_root, monkeypatch):
    committed, partial = media_root / "versions/1/committed.mkv", media_root / "versions/1/partial.mkv"
    committed.parent.mkdir(parents=True)
    committed.write_bytes(b"x")
    partial.write_bytes(b"x")
    MediaAssetFactory(film=film, file="versions/1/committed.mkv")
    uncommitted_remove(committed, partial, None)
    assert committed.is_file() and not partial.exists()

    partial.write_bytes(b"x")
    from webapp.catalogue import media_files as module

    def database_down(names):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(module, "names_in_use", database_down)
    uncommitted_remove(committed, partial)
    assert committed.is_file() and partial.is_file()


# Orphans ---------------------------------------------------------------------------------


def test_a_new_attempt_removes_what_an_attempt_killed_between_rename_and_commit_left(film, shots, sent_messages,
                                                                                     media_root):
    job = restore_job(shots)
    _, orphan = output_path(job, folder="versions", stem="shot1", extension=".mkv")
    orphan.write_bytes(b"renamed, never committed")
    other_job = media_root / f"versions/{film.pk}/shot1-job{job.pk + 1000}-abcdef12.mkv"
    other_job.write_bytes(b"another job's")
    job_run(job_id=job.pk, task_id=job.celery_task_id)
    version = ShotVersion.objects.get(shot=shots[0])
    assert not orphan.exists() and other_job.is_file()
    assert Path(version.media.file.path).is_file()


def test_the_orphan_sweep_removes_old_unnamed_files_only(film, media_root):
    def put(name: str, *, old: bool) -> Path:
        path = media_root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        if old:
            os.utime(path, (time.time() - 7200, time.time() - 7200))
        return path

    named = put("versions/1/named.mkv", old=True)
    MediaAssetFactory(film=film, file="versions/1/named.mkv")
    orphan = put("versions/1/orphan.mkv", old=True)
    young = put("versions/1/being-written.mkv", old=False)
    scratch = put("tmp/jobs/job9-abc.mkv", old=True)  # the jobs' sweeper's, not this one's
    gone_asset_pictures = put("proxies/999999/thumb.jpg", old=True)
    os.utime(gone_asset_pictures.parent, (time.time() - 7200, time.time() - 7200))
    report = media_orphans_sweep(grace_s=3600)
    assert report.removed_files == ["versions/1/orphan.mkv"]
    assert report.removed_picture_folders == ["proxies/999999"] and report.too_young == 1
    assert named.is_file() and young.is_file() and scratch.is_file() and not orphan.exists()


def test_the_scratch_sweep_keeps_running_jobs_files_and_young_ones(film, shots, sent_messages, media_root):
    running = restore_job(shots)
    RestorationJob.objects.filter(pk=running.pk).update(status="running")
    scratch = media_root / "tmp" / "jobs"
    scratch.mkdir(parents=True)
    names = {"old_dead": "job99999-aaaa.mkv", "old_hidden": ".job99999-bbbb.mkv",
             "running": f"job{running.pk}-cccc.mkv", "young": "job99998-dddd.mkv", "not_a_job": "notes.txt"}
    for key, name in names.items():
        (scratch / name).write_bytes(b"x")
        if key != "young":
            os.utime(scratch / name, (time.time() - 7200, time.time() - 7200))
    assert sorted(sweeper.job_scratch_sweep()) == sorted([names["old_dead"], names["old_hidden"]])
    assert sorted(p.name for p in scratch.iterdir()) == sorted([names["running"], names["young"], names["not_a_job"]])


def test_one_failing_step_does_not_stop_the_sweep(film, shots, sent_messages, monkeypatch):
    job = restore_job(shots)
    RestorationJob.objects.filter(pk=job.pk).update(dispatched_at=None)
    age(job, created_at=LONG_AGO)

    def database_down(**kwargs):
        raise OperationalError("the database is restarting")

    monkeypatch.setattr(sweeper, "jobs_reclaim_silent", database_down)
    result = sweeper.sweep()
    assert result.sent == [job.pk] and result.counts()["sent"] == 1
