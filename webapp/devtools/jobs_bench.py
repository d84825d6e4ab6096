"""The jobs benchmark (``manage.py bench_jobs``, part of ``make bench``): real Celery worker
processes on Redis and PostgreSQL, as in production.

- submit-to-running latency: a restore job dispatched to an idle worker, until its row says running;
- progress events: their rate and their lag (``sent_at`` in the event to its arrival here, through
  the Redis channel layer) while one longer job runs;
- throughput: one batch of N shots over 1, 2 and 4 worker processes, against the ideal (the one
  worker rate times the number of workers).

Jobs go to a queue of the bench's own (never the deployment's ``gpu`` queue, where a real worker
would take them) and write to a temporary media folder. Everything runs on the bench database
(``<name>_bench``) that ``bench_catalogue`` uses too.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from webapp.config.env import BASE_DIR

BENCH_USERNAME = "bench-jobs"
QUICK_SPEC = {"ops": [{"op": "deflicker"}]}
EVENTS_SPEC = {"ops": [{"op": "deflicker"}]}  # on a shot spanning the whole bench scan: a longer job


@dataclass(frozen=True)
class BenchConfig:
    shots: int = 24
    frames: int = 24
    height: int = 120
    width: int = 160
    workers: tuple[int, ...] = (1, 2, 4)
    latency_repeat: int = 10


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def workers(count: int, queue: str, media_root: Path, log_dir: Path):
    """``count`` worker processes (solo pool, one job at a time each) on ``queue``, ready when this yields."""
    from webapp.devtools.celery_app import celery_app

    app = celery_app()

    env = {**os.environ, "DATABASE_URL": _database_url(), "MEDIA_ROOT": str(media_root), "OMP_NUM_THREADS": "1"}
    names = [f"bench{count}-{n}-{uuid.uuid4().hex[:6]}@localhost" for n in range(count)]
    processes = []
    for name in names:
        log = (log_dir / f"{name.split('@')[0]}.log").open("wb")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "webapp.config", "worker", "-Q", queue, "-P", "solo", "-c", "1",
             "-n", name, "--without-gossip", "--without-mingle", "-l", "WARNING"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))
    try:
        deadline = time.monotonic() + 120
        while True:
            answered = {name for reply in app.control.ping(destination=names, timeout=0.5) for name in reply}
            if answered >= set(names):
                break
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"bench workers did not start (logs in {log_dir})")
        yield names
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def bench_queue():
    """Send the restore jobs to a queue of the bench's own while it runs."""
    from webapp.jobs.models import JobKind
    from webapp.jobs.registry import queue_redirected

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    with queue_redirected(JobKind.RESTORE, queue):
        yield queue


def _bench_film(config: BenchConfig, media_root: Path):
    """A film of ``shots`` shots of ``frames`` frames (random pictures) and a restorer, fresh each run."""
    from django.contrib.auth import get_user_model

    from restoration.api import synthetic_clip_write
    from webapp.catalogue.models import AssetKind, Film, Role
    from webapp.catalogue.services import asset_create, film_create, membership_create, shot_create

    Film.objects.filter(source_notes="bench-jobs").delete()
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USERNAME)
    film = film_create(title="Jobs bench", source_notes="bench-jobs")
    membership_create(film=film, user=user, role=Role.RESTORER)
    total = config.shots * config.frames
    name = f"bench/scan-{film.pk}.mkv"
    (media_root / name).parent.mkdir(parents=True, exist_ok=True)
    synthetic_clip_write(media_root / name, kind="noise", frames=total, height=config.height, width=config.width,
                         seed=0, fps=24.0)
    scan = asset_create(film=film, kind=AssetKind.ORIGINAL, file=name, width=config.width, height=config.height,
                        frame_count=total, fps=24.0, size_bytes=(media_root / name).stat().st_size)
    shots = [shot_create(film=film, number=n + 1, start_frame=n * config.frames,
                         end_frame=(n + 1) * config.frames - 1, fps=24.0, source=scan) for n in range(config.shots)]
    whole = shot_create(film=film, number=config.shots + 1, start_frame=0, end_frame=total - 1, fps=24.0, source=scan)
    return film, user, shots, whole


def _wait(predicate, what: str, timeout: float = 600.0, poll: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise RuntimeError(f"timed out waiting for {what}")


def _latency(shots, user, repeat: int) -> tuple[list[float], list[float]]:
    """Seconds from dispatch to running, and to succeeded, for ``repeat`` single-shot jobs in turn."""
    from webapp.jobs.models import RestorationJob
    from webapp.jobs.services import job_restore_dispatch

    to_running, to_done = [], []
    for n in range(repeat + 1):
        submitted = time.time()
        job = job_restore_dispatch(shot=shots[n % len(shots)], user=user, spec=QUICK_SPEC)
        started = _wait(lambda job=job: RestorationJob.objects.filter(pk=job.pk, started_at__isnull=False)
                        .values_list("started_at", flat=True).first(), "a job to start")
        finished = _wait(lambda job=job: RestorationJob.objects.filter(pk=job.pk, status="succeeded")
                         .values_list("finished_at", flat=True).first(), "a job to finish")
        if n:  # the first one warms the worker up (imports, first CUDA/CPU kernels)
            to_running.append(started.timestamp() - submitted)
            to_done.append(finished.timestamp() - submitted)
    return to_running, to_done


def _progress_events(shot, user) -> tuple[int, float, list[float]]:
    """Listen to one longer job's group: (events, seconds it ran, lag of each event in seconds)."""
    from channels.layers import get_channel_layer

    from webapp.jobs.models import RestorationJob
    from webapp.jobs.services import job_create, jobs_enqueue
    from webapp.realtime.groups import job_group
    from webapp.realtime.layers import RESYNC_EVENT

    job = job_create(film=shot.film, kind="restore", shot=shot, created_by=user, params={"spec": EVENTS_SPEC})
    lags: list[float] = []
    subscribed, done = threading.Event(), threading.Event()

    async def listen():
        # One event loop for the whole subscription (the layer keeps per-loop connections).
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(job_group(job.pk), channel)
        subscribed.set()
        while True:
            event = await asyncio.wait_for(layer.receive(channel), timeout=600)
            if event["type"] == RESYNC_EVENT:  # Redis came back from an outage: not a job's event
                continue
            lags.append(time.time() - event["sent_at"])
            if event["type"] == "job.finished":
                done.set()
                return

    listener = threading.Thread(target=lambda: asyncio.run(listen()), daemon=True)
    listener.start()
    if not subscribed.wait(timeout=30):
        raise RuntimeError("could not subscribe to the job's channel group")
    jobs_enqueue([job])
    listener.join(timeout=600)
    job = RestorationJob.objects.get(pk=job.pk)
    if not done.is_set() or job.status != "succeeded":
        raise RuntimeError(f"the progress-events job {job.pk} ended {job.status}: {job.error}")
    return len(lags), (job.finished_at - job.started_at).total_seconds(), lags


def _throughput(film, user, shots) -> float:
    """Seconds from dispatching a batch of every shot to the batch finishing."""
    from webapp.jobs.models import RestorationJob
    from webapp.jobs.services import job_batch_restore_dispatch

    started = time.monotonic()
    batch = job_batch_restore_dispatch(film=film, shot_ids=[s.pk for s in shots], user=user, spec=QUICK_SPEC)
    status = _wait(lambda: RestorationJob.objects.filter(pk=batch.pk, finished_at__isnull=False)
                   .values_list("status", flat=True).first(), "the batch to finish", poll=0.05)
    if status != "succeeded":
        raise RuntimeError(f"the bench batch {batch.pk} ended {status}")
    return time.monotonic() - started


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[q] if len(values) > 1 else values[0]


def run(config: BenchConfig, write) -> None:
    """Run the benchmark and ``write`` its report (markdown tables), line by line."""
    if connection.vendor != "postgresql" or not settings.ENV.redis_url:
        raise RuntimeError("the jobs bench needs DATABASE_URL (PostgreSQL) and REDIS_URL: real workers share them")
    media_root = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    settings.MEDIA_ROOT = media_root
    try:
        film, user, shots, whole = _bench_film(config, media_root)
        write(f"Jobs: {config.shots} shots x {config.frames} frames at {config.width}x{config.height}, "
              f"spec {QUICK_SPEC['ops'][0]['op']}; worker processes `celery worker -P solo` on Redis + "
              f"PostgreSQL; {os.cpu_count()} CPU cores, OMP_NUM_THREADS=1 per worker")
        write("")
        with bench_queue() as queue:
            with workers(1, queue, media_root, media_root):
                to_running, to_done = _latency(shots, user, config.latency_repeat)
                count, seconds, lags = _progress_events(whole, user)
            write("| measure | p50 | p95 |")
            write("|---|---:|---:|")
            write(f"| submit -> running (idle worker), ms | {statistics.median(to_running) * 1000:.0f} | "
                  f"{_p(to_running, 18) * 1000:.0f} |")
            write(f"| submit -> succeeded ({config.frames}-frame shot), ms | "
                  f"{statistics.median(to_done) * 1000:.0f} | {_p(to_done, 18) * 1000:.0f} |")
            write(f"| progress event lag (worker -> Redis channel layer -> listener), ms | "
                  f"{statistics.median(lags) * 1000:.1f} | {_p(lags, 18) * 1000:.1f} |")
            write("")
            write(f"Progress events: {count} in {seconds:.1f} s for one {whole.frame_count}-frame job "
                  f"({count / seconds:.2f} per second: progress is written at most twice a second, "
                  f"plus the start and finish events).")
            write("")
            write("| workers | batch wall time s | shots/s | ideal shots/s | efficiency |")
            write("|---:|---:|---:|---:|---:|")
            single = None
            for count in config.workers:
                with workers(count, queue, media_root, media_root):
                    seconds = _throughput(film, user, shots)
                rate = config.shots / seconds
                single = single or rate / count
                ideal = single * count
                write(f"| {count} | {seconds:.1f} | {rate:.2f} | {ideal:.2f} | {rate / ideal:.0%} |")
    finally:
        shutil.rmtree(media_root, ignore_errors=True)
