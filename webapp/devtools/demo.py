"""The demo: a film the project makes itself, its users, and the in-process Celery worker.

The demo film is built from the photographs scikit-image ships (no download): each shot is a
photograph under synthetic camera motion with synthetic film damage (`restoration.degrade`).
The shots are written one after another into a single FFV1/MKV "scan", ingested through the
same service as an upload, and cut into shots at the known frames. Then the same jobs as on a
real site, run by the in-process Celery worker (``embedded_worker``): an analyse job (metrics,
recommended pipelines, review proxies, thumbnails, filmstrips) and a batch restore job whose
children make each shot's version 1 (in review), so the review pages have two sources to compare.
Then colour: scenes proposed from the analysis, and a grade of shot 2 learned from two graded
stills by a grade_fit job, waiting for the creator's sign-off.

Everything here is idempotent: running it again reuses what exists and finishes what is missing.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import OperationalError

from restoration import api as engine
from restoration.api import DemoShot
from webapp.catalogue.ingest import asset_ingest_path
from webapp.catalogue.models import AssetKind, Film, FilmStatus, Membership, Role
from webapp.catalogue.services import (
    film_create,
    film_update,
    invitation_accept,
    invitation_create,
    membership_create,
    shot_create,
)
from webapp.devtools.seed import seed_catalogue, seeded_films
from webapp.jobs.models import RestorationJob

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo"
DEMO_USERS: tuple[tuple[str, str], ...] = (
    ("archivist", Role.ARCHIVIST),
    ("creator", Role.CREATOR),
    ("restorer", Role.RESTORER),
)
DEMO_FILM_TITLE = "Still Lives in Motion (demo)"
DEMO_INVENTORY_NUMBER = "DEMO-0001"  # how the demo recognises its own film
# The archive around the demo film: seeded films (metadata only) the demo users are members of.
DEMO_CATALOGUE_FILMS = 100
DEMO_CATALOGUE_SHOTS_PER_FILM = 30
FPS = 24.0
FRAME_SIZE = (360, 480)  # (height, width): 4:3, small enough to build in seconds on a CPU
# The demo's restorations: the clean preset without its scratch filter, which costs a fifth of
# the time on a CPU for little (on the heavy-damage shot: 21.26 dB against the preset's 21.31, the
# scan 18.65), so `make demo` stays under a minute.
DEMO_RESTORE_SPEC = {"ops": [{"op": "denoise"}, {"op": "dust"}, {"op": "deflicker"}]}
JOB_TIMEOUT_S = 900
# The shot whose grade the demo learns from graded stills (the coffee cup: warm tones show well).
DEMO_GRADED_SHOT = 2


DEMO_SHOTS: tuple[DemoShot, ...] = (
    DemoShot("astronaut", 36, "pan", "medium"),
    DemoShot("coffee", 30, "zoom", "light"),
    DemoShot("chelsea", 42, "shake", "heavy"),
    DemoShot("rocket", 24, "pan", "medium"),
    DemoShot("hubble_deep_field", 36, "mixed", "medium"),
)


@dataclass(frozen=True)
class DemoResult:
    film: Film
    users: dict[str, object]
    created: bool


def demo_users_ensure() -> dict[str, object]:
    """The three demo users with password ``demo`` (reset on every run, so the printed password works)."""
    User = get_user_model()
    users = {}
    for username, _role in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@demo.invalid"})
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users[username] = user
    return users


def _demo_film() -> Film | None:
    return Film.objects.filter(inventory_number=DEMO_INVENTORY_NUMBER).order_by("id").first()


def demo_catalogue_ensure(users: dict[str, object], progress: Callable[[str], None] = lambda line: None) -> None:
    """The demo users' archive: a seeded catalogue of films (metadata only) they are members of.
    A catalogue seeded earlier (by the demo or by hand) is reused; the demo users join its films."""
    members = [(users[username], role) for username, role in DEMO_USERS]
    if not seeded_films().exists():
        report = seed_catalogue(films=DEMO_CATALOGUE_FILMS, shots_per_film=DEMO_CATALOGUE_SHOTS_PER_FILM,
                                members=members)
        progress(f"Seeded the demo archive: {report.films} films, {report.shots} shots ({report.seconds:.1f} s).")
        return
    Membership.objects.bulk_create(
        [Membership(film=film, user=user, role=role) for film in seeded_films() for user, role in members],
        ignore_conflicts=True,
    )


def _memberships_ensure(film: Film, users: dict[str, object]) -> None:
    """The archivist owns the film (as ``film_create`` makes its creator); the others join as anyone
    does: the archivist invites them and they accept."""
    archivist = users["archivist"]
    if not Membership.objects.filter(film=film, user=archivist).exists():
        membership_create(film=film, user=archivist, role=Role.ARCHIVIST)
    for username, role in DEMO_USERS:
        if not Membership.objects.filter(film=film, user=users[username]).exists():
            invitation = invitation_create(film=film, invited_by=archivist, invitee=username, role=role)
            invitation_accept(invitation=invitation, user=users[username])


def _render_clips(workdir: Path, plans: Sequence[DemoShot], size: tuple[int, int],
                  progress: Callable[[str], None]) -> tuple[Path, list[tuple[int, int]]]:
    """Write the damaged scan (all shots in one file, with a sound track: a tone per shot, a click on
    each cut). Returns it and the shots' cut frames."""
    scan_path = workdir / "still-lives-in-motion-scan.mkv"
    for number, plan in enumerate(plans, start=1):
        progress(f"  shot {number}: {plan.source}, {plan.frames} frames, {plan.motion} motion, {plan.strength} damage")
    return scan_path, engine.demo_scan_write(scan_path, shots=plans, size=size, fps=FPS, sound=True)


def _stage_in_ingest_root(scan_path: Path) -> Path:
    """Put the scan where a server-side registration may read it (the first INGEST_ROOT)."""
    folder = Path(settings.INGEST_ROOTS[0]) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / scan_path.name
    shutil.copyfile(scan_path, target)
    return target


def demo_build(*, progress: Callable[[str], None] = lambda line: None,
               plans: Sequence[DemoShot] = DEMO_SHOTS, size: tuple[int, int] = FRAME_SIZE) -> DemoResult:
    """Create (or reuse) the demo users and film, then run its jobs. Returns the film and the users.

    The jobs run on the in-process Celery worker, which must be running (``embedded_worker``).
    ``plans`` and ``size`` exist for tests, which build a smaller film the same way.
    """
    users = demo_users_ensure()
    demo_catalogue_ensure(users, progress)
    film = _demo_film()
    if film is not None and film.shots.count() == len(plans):
        _memberships_ensure(film, users)
        demo_jobs_run(film=film, user=users["restorer"], progress=progress)
        return DemoResult(film=film, users=users, created=False)
    if film is not None:  # an earlier run stopped half-way: start again
        film.delete()  # its files go once the delete commits (catalogue.receivers)

    progress("Building the demo film from scikit-image photographs (synthetic motion and damage)...")
    with tempfile.TemporaryDirectory(prefix="demo-") as tmp:
        scan_path, cuts = _render_clips(Path(tmp), plans, size, progress)
        registered = _stage_in_ingest_root(scan_path)
        film = film_create(
            title=DEMO_FILM_TITLE,
            year=1927,
            directors="The scikit-image photographers",
            runtime_minutes=1,
            inventory_number=DEMO_INVENTORY_NUMBER,
            source_notes="Made by the demo from scikit-image's sample photographs under synthetic camera motion "
                         "and film damage. Demo data only.",
        )
        try:
            _memberships_ensure(film, users)
            scan = asset_ingest_path(film=film, path=str(registered))
            for number, (start, end) in enumerate(cuts, start=1):
                shot_create(film=film, number=number, start_frame=start, end_frame=end, fps=FPS, source=scan)
            progress(f"Demo film cut: {film.title}, {len(cuts)} shots, {cuts[-1][1] + 1} frames.")
            demo_jobs_run(film=film, user=users["restorer"], progress=progress)
        except BaseException:
            film.delete()
            raise
    return DemoResult(film=film, users=users, created=True)


def demo_jobs_run(*, film: Film, user, progress: Callable[[str], None] = lambda line: None,
                  timeout_s: float = JOB_TIMEOUT_S) -> None:
    """What a restorer would start on a new film, through the same services and Celery tasks:
    analyse the scan (metrics, proxies, thumbnails), restore every shot that has no version yet
    (one batch job), then put the film in review. Waits for each job; raises if one fails."""
    from webapp.jobs.services import job_analyse_dispatch, job_batch_restore_dispatch, restore_spec_resolve

    scan = film.assets.filter(kind=AssetKind.ORIGINAL).order_by("id").first()
    unmeasured = film.shots.filter(metrics={}).exists()
    if scan is not None and unmeasured:
        _wait(job_analyse_dispatch(film=film, asset_id=scan.pk, user=user), "analyse the scan", progress, timeout_s)
    missing = list(film.shots.filter(versions__isnull=True).order_by("number").values_list("pk", flat=True))
    if missing:
        spec = restore_spec_resolve(pipeline=DEMO_RESTORE_SPEC)
        batch = job_batch_restore_dispatch(film=film, shot_ids=missing, user=user, spec=spec)
        _wait(batch, f"restore {len(missing)} shots", progress, timeout_s)
    if film.status != FilmStatus.IN_REVIEW:
        film_update(film=film, fields={"status": FilmStatus.IN_REVIEW})
    demo_colour_run(film=film, user=user, progress=progress, timeout_s=timeout_s)


def demo_colour_run(*, film: Film, user, progress: Callable[[str], None] = lambda line: None,
                    timeout_s: float = JOB_TIMEOUT_S) -> None:
    """Colour, as a colourist and a restorer would start it: scenes proposed from the analysis,
    then a grade of one shot learned from two graded stills (a warm print look applied to two of
    its frames, framed and compressed like another transfer's), uploaded through the same service
    as the API and fitted by a grade_fit job. The grade waits for the creator's and the
    archivist's sign-off (they are notified). Skipped when the shot has a grade or a fit already."""
    from webapp.colour.models import Grade
    from webapp.colour.references import ReferenceInput
    from webapp.colour.services import scenes_propose
    from webapp.jobs.services import job_grade_fit_dispatch

    if not film.scenes.exists():
        made = scenes_propose(film=film, user=user)
        progress(f"Scenes proposed from the analysis: {len(made)}.")
    shots = list(film.shots.order_by("number").select_related("source"))
    shot = shots[min(DEMO_GRADED_SHOT, len(shots)) - 1] if shots else None
    if shot is None or shot.source is None:
        return
    fitting = RestorationJob.objects.filter(film=film, kind="grade_fit").exclude(status__in=("failed", "cancelled"))
    if Grade.objects.filter(shot=shot).exists() or fitting.exists():
        return
    frames = sorted({min(1, shot.frame_count - 1), max(0, shot.frame_count - 2)})
    uploads = []
    try:
        with tempfile.TemporaryDirectory(prefix="demo-stills-") as tmp:
            for frame in frames:
                still = Path(tmp) / f"graded-print-shot{shot.number}-frame{frame}.png"
                engine.demo_graded_still_write(shot.source.file.path, shot.start_frame + frame, still)
                uploads.append(_staged_upload(still))
        job = job_grade_fit_dispatch(
            film=film, user=user, shot=shot, references=[ReferenceInput(frame=f, upload=u) for f, u in zip(
                frames, uploads, strict=True)],
            note="Learned from two graded stills of a warm print (demo).")
    finally:
        for upload in uploads:
            upload.close()  # the stored stills are links of their own
    _wait(job, f"learn shot {shot.number}'s grade from {len(frames)} graded stills", progress, timeout_s)


def _staged_upload(path: Path):
    """A file as an upload streamed to the staging folder (what the fit API hands the service)."""
    from webapp.catalogue.upload_handlers import StagedUploadedFile

    upload = StagedUploadedFile(path.name, "image/png", path.stat().st_size, None)
    with open(path, "rb") as source:
        shutil.copyfileobj(source, upload)
    upload.flush()
    upload.seek(0)
    return upload


def _wait(job: RestorationJob, what: str, progress: Callable[[str], None], timeout_s: float) -> None:
    """Follow a job run by the worker, printing its progress every quarter; raise if it fails."""
    progress(f"Job #{job.pk}: {what} (in-process worker)...")
    deadline, shown = time.monotonic() + timeout_s, 0
    while not job.is_finished:
        if time.monotonic() > deadline:
            raise RuntimeError(f"job #{job.pk} ({what}) did not finish within {timeout_s:.0f} s: is the worker running?")
        time.sleep(0.2)
        try:
            job.refresh_from_db()
        except OperationalError:  # SQLite: the in-process worker is writing; read again next time
            continue
        quarter = int(job.progress * 4)
        if quarter != shown and not job.is_finished:
            shown = quarter
            progress(f"  job #{job.pk} at {job.progress:.0%}: {job.message or 'running'}")
    if job.status != "succeeded":
        raise RuntimeError(f"job #{job.pk} ({what}) {job.status}: {job.error} {job.failed_shots or ''}".rstrip())
    progress(f"  done: {job.message}")


@shared_task(name="webapp.devtools.demo.close_worker_connections")
def close_worker_connections() -> None:
    from django.db import connections

    connections.close_all()


@contextlib.contextmanager
def embedded_worker(queues: tuple[str, ...] = ("cpu", "gpu"), loglevel: str = "WARNING",
                    sweep_interval_s: float | None = None) -> Iterator[object]:
    """A Celery worker in a thread of this process, on the app of webapp/config/celery.py.

    With the embedded defaults the broker is in-memory (``memory://``), which only a worker in
    the same process can reach. `start_worker` (Celery's documented embedded worker) runs the
    real WorkController in a daemon thread with the solo pool; a ping round trip on the first
    queue proves it consumes before this yields. With ``sweep_interval_s``, a thread runs the
    fault sweep that often (``jobs.sweeper``: Celery beat's part at scale).
    """
    from celery.contrib.testing.tasks import ping  # registers celery.ping
    from celery.contrib.testing.worker import start_worker
    from celery.result import allow_join_result

    from webapp.devtools.celery_app import celery_app

    app = celery_app()

    with start_worker(app, pool="solo", concurrency=1, queues=list(queues), loglevel=loglevel,
                      perform_ping_check=False, shutdown_timeout=30) as worker:
        with allow_join_result():
            if ping.apply_async(queue=queues[0]).get(timeout=30) != "pong":
                raise RuntimeError("the embedded Celery worker did not answer a ping")
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweep_until, args=(stop, sweep_interval_s), name="sweeper", daemon=True)
        if sweep_interval_s is not None:
            sweeper.start()
        try:
            yield worker
        finally:
            stop.set()
            if sweeper.is_alive():
                sweeper.join()
            # The worker thread keeps its own database connection (CONN_MAX_AGE); close it on
            # that thread, or the database cannot be dropped or migrated while it lingers.
            with allow_join_result():
                close_worker_connections.apply_async(queue=queues[0]).get(timeout=30)


def _sweep_until(stop: threading.Event, interval_s: float) -> None:
    from django.db import connections

    from webapp.jobs.sweeper import sweep_forever

    try:
        sweep_forever(stop, interval_s)
    finally:
        connections.close_all()  # this thread's own
