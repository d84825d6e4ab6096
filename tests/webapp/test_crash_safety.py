"""Crash safety with real worker processes (`celery -A webapp.config worker`) on PostgreSQL + Redis.

- A worker killed with SIGKILL mid-job: its heartbeat stops, the sweeper takes the job back once
  it is silent for JOB_HEARTBEAT_TIMEOUT_S (short here) and sends it again under a new id, a second
  worker finishes it, and exactly one version exists. The dead worker's own message, handed out
  again by Redis after the visibility timeout, is stale and dropped.
- A Redis restart (a throwaway redis-server with an append-only file, never the shared one) in
  the middle of a batch: the worker and this process reconnect by themselves, no job is lost and
  none runs twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from django.conf import settings
from django.db import connection

from restoration.io import write_video
from tests.webapp.factories import MediaAssetFactory, ShotFactory
from tests.webapp.redis_server import throwaway_redis
from webapp.catalogue.models import ShotVersion
from webapp.jobs.models import RestorationJob
from webapp.jobs.services import job_batch_restore_dispatch, job_restore_dispatch

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT_S = 3
HEARTBEAT_S, HEARTBEAT_TIMEOUT_S = 1, 4
# Slow enough to be killed mid-way (seconds on a CPU), a few frames enough for the Redis test.
SLOW_SPEC = {"ops": [{"op": "denoise"}]}
QUICK_SPEC = {"ops": [{"op": "deflicker"}]}


@pytest.fixture(autouse=True)
def real_services():
    if connection.vendor != "postgresql" or not settings.ENV.redis_url:
        pytest.fail("crash-safety tests need DATABASE_URL=postgres://... and REDIS_URL=redis://...")


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def worker(redis_url: str, media_root: Path, queue: str = "gpu"):
    """A real worker process (solo pool: the job runs in the process we kill)."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": redis_url, "MEDIA_ROOT": str(media_root),
           "CELERY_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S), "JOB_HEARTBEAT_S": str(HEARTBEAT_S),
           "JOB_HEARTBEAT_TIMEOUT_S": str(HEARTBEAT_TIMEOUT_S), "OMP_NUM_THREADS": "1"}
    log = (media_root.parent / f"worker-{time.monotonic_ns()}.log").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "webapp.config", "worker", "-Q", queue, "-P", "solo", "-c", "1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    process.log = log
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition, what: str, timeout: float = 60.0, process: subprocess.Popen | None = None):
    """Poll ``condition`` until it is true; fail naming ``what`` (and a dead worker's stderr)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            process.log.seek(0)
            pytest.fail(f"the worker exited ({process.returncode}) while waiting for {what}: "
                        f"{process.log.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def make_shots(film, media_root: Path, count: int, frames: int, height: int, width: int):
    name = "assets/test/crash-scan.mkv"
    (media_root / name).parent.mkdir(parents=True, exist_ok=True)
    clip = torch.rand(count * frames, 3, height, width, generator=torch.Generator().manual_seed(3))
    write_video(media_root / name, clip, fps=24.0)
    scan = MediaAssetFactory(film=film, file=name, width=width, height=height, frame_count=count * frames, fps=24.0)
    return [ShotFactory(film=film, number=n + 1, start_frame=n * frames, end_frame=(n + 1) * frames - 1, source=scan)
            for n in range(count)]


def test_a_worker_killed_mid_job_has_its_job_reclaimed_and_finished_once(film, member, media_root, settings):
    from webapp.jobs.sweeper import sweep

    settings.JOB_HEARTBEAT_TIMEOUT_S = HEARTBEAT_TIMEOUT_S
    # A queue of this test's own: nothing left over from other runs is taken, nothing of ours is left.
    subprocess.run(["redis-cli", "-u", settings.ENV.redis_url, "del", "gpu"], check=True, capture_output=True)
    shot = make_shots(film, media_root, count=1, frames=48, height=120, width=160)[0]
    job = job_restore_dispatch(shot=shot, user=member(film, "restorer"), spec=SLOW_SPEC)  # autocommit: sent now

    with worker(settings.ENV.redis_url, media_root) as first:
        wait_for(lambda: RestorationJob.objects.filter(pk=job.pk, status="running").exists(), "the job to start",
                 process=first)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)  # what a dead worker leaves behind

    with worker(settings.ENV.redis_url, media_root) as second:
        # This process stands in for Celery beat: a sweep every poll of the wait.
        wait_for(lambda: sweep() and RestorationJob.objects.get(pk=job.pk).is_finished,
                 "the reclaimed job to finish", process=second)
    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == ("succeeded", "", 2)
    versions = ShotVersion.objects.filter(shot=shot)
    assert versions.count() == 1 and job.result_version == versions.get()
    # The killed attempt's partial output is gone; only the version's file is left.
    assert list((media_root / "tmp" / "jobs").iterdir()) == []
    assert sorted(p.name for p in (media_root / "versions").rglob("*.mkv")) == [Path(versions.get().media.file.name).name]


@contextmanager
def broker(url: str):
    """Point this process's Celery app at ``url`` (and back), dropping pooled connections."""
    from webapp.config.celery import app

    old = app.conf.broker_url
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url = old
        app._pool = None
        app.amqp._producer_pool = None


def test_a_redis_restart_loses_and_duplicates_no_job(film, member, media_root, tmp_path):
    shots = make_shots(film, media_root, count=6, frames=6, height=48, width=64)
    restorer = member(film, "restorer")
    with throwaway_redis(tmp_path, persistent=True) as redis, broker(redis.url):
        before = job_batch_restore_dispatch(film=film, shot_ids=[s.pk for s in shots[:4]], user=restorer,
                                            spec=QUICK_SPEC)
        with worker(redis.url, media_root) as process:
            wait_for(lambda: before.children.filter(status="succeeded").exists(), "a first shot restored",
                     process=process)
            redis.restart()
            # This process reconnects by itself too: a batch sent after the restart arrives.
            after = job_batch_restore_dispatch(film=film, shot_ids=[s.pk for s in shots[4:]], user=restorer,
                                               spec=QUICK_SPEC)
            for batch in (before, after):
                wait_for(lambda batch=batch: RestorationJob.objects.get(pk=batch.pk).is_finished,
                         f"batch {batch.pk} to finish", process=process)
    children = RestorationJob.objects.filter(kind="restore")
    assert sorted(children.values_list("status", flat=True)) == ["succeeded"] * 6
    assert sorted(ShotVersion.objects.values_list("shot", flat=True)) == sorted(s.pk for s in shots)
    assert set(children.values_list("attempts", flat=True)) == {1}  # none ran twice
    assert [RestorationJob.objects.get(pk=b.pk).status for b in (before, after)] == ["succeeded", "succeeded"]
