"""Faults on the real services, with real workers: a worker killed at each step of a restore,
PostgreSQL stopped mid-job, Redis stopped mid-job and while the job commits, jobs posted while
Redis is down, messages lost in a Redis restart. Each ends with exactly one version, its file
present, nothing else left in the media folder, and the job finished; each records how long
recovery took (``make chaos`` prints them).

The services run with short fault settings (``run.py``: heartbeat 1 s, silent after 5 s, a
sweep every second), so the times measure the mechanism, not the production timeouts; the
production figures follow from them (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import torch
from django.conf import settings

from restoration.io import write_video
from tests.chaos.processes import wait_for
from tests.webapp.factories import MediaAssetFactory, ShotFactory
from webapp.catalogue.models import Shot, ShotVersion
from webapp.jobs.faultpoints import AFTER_COMMIT, BEFORE_COMMIT, BEFORE_RENAME
from webapp.jobs.models import RestorationJob
from webapp.jobs.services import job_restore_dispatch

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

# Seconds of work on one CPU core: long enough to stop a service while the job runs.
SLOW_SPEC = {"ops": [{"op": "denoise"}]}
QUICK_SPEC = {"ops": [{"op": "deflicker"}]}


def make_shot(film, media_root: Path, *, frames: int, height: int = 120, width: int = 160) -> Shot:
    name = "assets/chaos/scan.mkv"
    (media_root / name).parent.mkdir(parents=True, exist_ok=True)
    clip = torch.rand(frames, 3, height, width, generator=torch.Generator().manual_seed(5))
    write_video(media_root / name, clip, fps=24.0)
    scan = MediaAssetFactory(film=film, file=name, width=width, height=height, frame_count=frames, fps=24.0)
    return ShotFactory(film=film, number=1, start_frame=0, end_frame=frames - 1, source=scan)


def job_row(job: RestorationJob) -> RestorationJob:
    return RestorationJob.objects.get(pk=job.pk)


def assert_restored_once(job: RestorationJob, shot: Shot, media_root: Path) -> ShotVersion:
    """The job succeeded once, its one version's file is there, and nothing else was left."""
    job.refresh_from_db()
    assert (job.status, job.error) == ("succeeded", ""), job.message
    version = ShotVersion.objects.get(shot=shot)
    assert job.result_version_id == version.pk
    assert Path(version.media.file.path).is_file()
    assert sorted(p.relative_to(media_root).as_posix() for p in (media_root / "versions").rglob("*") if p.is_file()) \
        == [version.media.file.name]
    assert [p.name for p in (media_root / "tmp" / "jobs").iterdir()] == []
    assert Shot.objects.get(pk=shot.pk).status == "in_review"
    return version


@pytest.mark.parametrize("point", [BEFORE_RENAME, BEFORE_COMMIT, AFTER_COMMIT])
def test_a_worker_killed_at_any_step_of_a_restore_leaves_one_version_and_no_orphan(
        point, film, member, media_root, gpu_worker, chaos_folder, recovery):
    shot = make_shot(film, media_root, frames=8, height=48, width=64)
    flag = chaos_folder / f"fired-{point}-{time.monotonic_ns()}"
    doomed = gpu_worker(JOB_FAULTPOINT=f"{point}@{flag}")
    job = job_restore_dispatch(shot=shot, user=member(film, "restorer"), spec=QUICK_SPEC)
    wait_for(lambda: doomed.poll() is not None, f"the worker to die at {point}")
    killed_at = time.monotonic()
    assert doomed.returncode == -signal.SIGKILL and flag.exists()
    row = job_row(job)
    # What the crash left: the job running (or, after the commit, succeeded) and no worker.
    assert row.status == ("succeeded" if point == AFTER_COMMIT else "running")
    assert ShotVersion.objects.filter(shot=shot).count() == (1 if point == AFTER_COMMIT else 0)

    replacement = gpu_worker(JOB_FAULTPOINT=f"{point}@{flag}")  # as a supervisor restarts it; fires no more
    wait_for(lambda: job_row(job).status == "succeeded", "the job to be taken back and finished", alive=(replacement,))
    version = assert_restored_once(job, shot, media_root)
    if point == AFTER_COMMIT:
        # The crash lost what follows the commit; the message, redelivered, renders the previews.
        wait_for(lambda: (media_root / "proxies" / str(version.media_id)).is_dir(), "the redelivery's previews",
                 alive=(replacement,))
    recovery(f"worker SIGKILLed {point.replace('restore.', '').replace('_', ' ')}", time.monotonic() - killed_at,
             attempts=job_row(job).attempts)
    assert job_row(job).attempts == (1 if point == AFTER_COMMIT else 2)


def test_postgres_stopped_for_15_s_mid_job_delays_the_job_without_losing_it(
        film, member, media_root, gpu_worker, postgres, recovery):
    shot = make_shot(film, media_root, frames=48)
    running = gpu_worker()
    job = job_restore_dispatch(shot=shot, user=member(film, "restorer"), spec=SLOW_SPEC)
    wait_for(lambda: job_row(job).frames_done > 0, "the job to make progress", alive=(running,))
    postgres.stop()
    time.sleep(15)
    postgres.start()
    back_at = time.monotonic()
    wait_for(lambda: job_row(job).status == "succeeded", "the job to finish after the outage", alive=(running,))
    recovery("PostgreSQL down 15 s mid-job", time.monotonic() - back_at, after="PostgreSQL back",
             attempts=job_row(job).attempts)
    assert_restored_once(job, shot, media_root)


def test_redis_stopped_mid_job_and_through_its_commit_keeps_the_version_and_the_next_job_runs(
        film, member, media_root, gpu_worker, redis_server, recovery):
    shot = make_shot(film, media_root, frames=48)
    running = gpu_worker()
    restorer = member(film, "restorer")
    job = job_restore_dispatch(shot=shot, user=restorer, spec=SLOW_SPEC)
    wait_for(lambda: job_row(job).frames_done > 0, "the job to make progress", alive=(running,))
    redis_server.stop()
    # The job ends and commits while Redis is down: its events and its message's ack fail.
    wait_for(lambda: job_row(job).status == "succeeded", "the job to commit without Redis", alive=(running,))
    version = assert_restored_once(job, shot, media_root)
    redis_server.start()
    back_at = time.monotonic()
    second = job_restore_dispatch(shot=shot, user=restorer, spec=QUICK_SPEC)
    wait_for(lambda: job_row(second).status == "succeeded", "a job sent after Redis came back", alive=(running,))
    recovery("Redis down mid-job and at its commit", time.monotonic() - back_at,
             after="Redis back, until the next job is done")
    assert Path(version.media.file.path).is_file()
    assert ShotVersion.objects.filter(shot=shot).count() == 2 and job_row(job).attempts == 1


def test_a_job_posted_while_redis_is_down_is_created_and_runs_once_redis_is_back(
        film, member, client_for, media_root, gpu_worker, redis_server, recovery):
    shot = make_shot(film, media_root, frames=8, height=48, width=64)
    running = gpu_worker()
    client = client_for(member(film, "restorer"))
    redis_server.stop()
    started = time.monotonic()
    response = client.post("/api/jobs/", {"shot": shot.pk, "pipeline": QUICK_SPEC}, format="json")
    answered_s = time.monotonic() - started
    assert response.status_code == 201, response.content
    job = RestorationJob.objects.get(pk=response.json()["id"])
    assert (job.status, job.dispatched_at) == ("pending", None)
    redis_server.start()
    back_at = time.monotonic()
    wait_for(lambda: job_row(job).status == "succeeded", "the sweeper to send the job", alive=(running,))
    recovery("job posted while Redis is down", time.monotonic() - back_at, after="Redis back",
             answered_s=round(answered_s, 2), dispatch_grace_s=settings.JOB_DISPATCH_GRACE_S)
    assert_restored_once(job, shot, media_root)


def test_a_message_lost_in_a_redis_restart_is_sent_again(film, member, media_root, gpu_worker, redis_server,
                                                         recovery):
    shot = make_shot(film, media_root, frames=8, height=48, width=64)
    job = job_restore_dispatch(shot=shot, user=member(film, "restorer"), spec=QUICK_SPEC)
    assert job_row(job).dispatched_at is not None  # sent, and queued: no worker listens yet
    redis_server.stop()  # without persistence: the queued message is gone
    redis_server.start()
    back_at = time.monotonic()
    running = gpu_worker()
    wait_for(lambda: job_row(job).status == "succeeded", "the sweeper to send the lost job again", alive=(running,))
    recovery("queued message lost in a Redis restart", time.monotonic() - back_at, after="Redis back",
             redispatch_after_s=settings.JOB_REDISPATCH_AFTER_S)
    assert_restored_once(job, shot, media_root)


def test_a_redis_restart_in_the_middle_of_batches_loses_and_duplicates_no_job(
        film, member, media_root, gpu_worker, redis_server, recovery):
    from webapp.jobs.services import job_batch_restore_dispatch

    name = "assets/chaos/batch-scan.mkv"
    (media_root / name).parent.mkdir(parents=True, exist_ok=True)
    write_video(media_root / name, torch.rand(36, 3, 48, 64, generator=torch.Generator().manual_seed(6)), fps=24.0)
    scan = MediaAssetFactory(film=film, file=name, width=64, height=48, frame_count=36, fps=24.0)
    shots = [ShotFactory(film=film, number=n + 1, start_frame=6 * n, end_frame=6 * n + 5, source=scan)
             for n in range(6)]
    restorer = member(film, "restorer")
    running = gpu_worker()
    before = job_batch_restore_dispatch(film=film, shot_ids=[s.pk for s in shots[:4]], user=restorer,
                                        spec=QUICK_SPEC)
    wait_for(lambda: before.children.filter(status="succeeded").exists(), "a first shot restored", alive=(running,))
    redis_server.stop()  # the queued children's messages are lost with it
    redis_server.start()
    back_at = time.monotonic()
    after = job_batch_restore_dispatch(film=film, shot_ids=[s.pk for s in shots[4:]], user=restorer, spec=QUICK_SPEC)
    for batch in (before, after):
        wait_for(lambda batch=batch: job_row(batch).status == "succeeded", f"batch {batch.pk} to finish",
                 alive=(running,))
    recovery("Redis restarted mid-batch (queued messages lost)", time.monotonic() - back_at,
             after="Redis back, until both batches are done")
    children = RestorationJob.objects.filter(kind="restore")
    assert sorted(children.values_list("status", flat=True)) == ["succeeded"] * 6
    assert sorted(ShotVersion.objects.values_list("shot", flat=True)) == sorted(s.pk for s in shots)
    assert set(children.values_list("attempts", flat=True)) == {1}  # none ran twice
