"""The demo: a film the project makes itself, its users, and the in-process Celery worker.

The demo film is built from the photographs scikit-image ships (no download): each shot is a
photograph under synthetic camera motion with synthetic film damage (`restoration.degrade`).
The shots are written one after another into a single FFV1/MKV "scan", ingested through the
same service as an upload, and cut into shots at the known frames. Each shot gets the clean
clip as version 1 (in review), so the review pages have two sources to compare.

Everything here is idempotent: running it again reuses what exists.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model

from webapp.catalogue.ingest import asset_ingest_path
from webapp.catalogue.models import AssetKind, Film, FilmStatus, Membership, Role
from webapp.catalogue.services import film_create, film_update, membership_create, shot_create, version_create, \
    version_publish

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo"
DEMO_USERS: tuple[tuple[str, str], ...] = (
    ("archivist", Role.ARCHIVIST),
    ("creator", Role.CREATOR),
    ("restorer", Role.RESTORER),
)
DEMO_FILM_TITLE = "Still Lives in Motion (demo)"
DEMO_FILM_MARKER = "demo-film:v1"  # in source_notes: how the demo recognises its own film
FPS = 24.0
FRAME_SIZE = (360, 480)  # (height, width): 4:3, small enough to build in seconds on a CPU


@dataclass(frozen=True)
class DemoShotPlan:
    source: str  # preferred scikit-image photograph (falls back to the next available one)
    frames: int
    motion: str
    strength: str


DEMO_SHOTS: tuple[DemoShotPlan, ...] = (
    DemoShotPlan("astronaut", 36, "pan", "medium"),
    DemoShotPlan("coffee", 30, "zoom", "light"),
    DemoShotPlan("chelsea", 42, "shake", "heavy"),
    DemoShotPlan("rocket", 24, "pan", "medium"),
    DemoShotPlan("hubble_deep_field", 36, "mixed", "medium"),
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
    return Film.objects.filter(source_notes__startswith=DEMO_FILM_MARKER).order_by("id").first()


def _memberships_ensure(film: Film, users: dict[str, object]) -> None:
    for username, role in DEMO_USERS:
        if not Membership.objects.filter(film=film, user=users[username]).exists():
            membership_create(film=film, user=users[username], role=role)


def _pick_sources(names: list[str], plans: Sequence[DemoShotPlan]) -> list[str]:
    """The planned photograph for each shot, or the next unused one when scikit-image lacks it."""
    chosen: list[str] = []
    spare = [name for name in names if name not in {plan.source for plan in plans}]
    for plan in plans:
        if plan.source in names:
            chosen.append(plan.source)
        elif spare:
            chosen.append(spare.pop(0))
        else:
            chosen.append(names[len(chosen) % len(names)])
    return chosen


def _as_colour(image):
    return image.expand(3, -1, -1) if image.shape[0] == 1 else image[:3]


def _render_clips(workdir: Path, plans: Sequence[DemoShotPlan], size: tuple[int, int],
                  progress: Callable[[str], None]) -> tuple[Path, list[Path], list[tuple[int, int]]]:
    """Write the damaged scan (all shots in one file) and each shot's clean clip. Returns cut frames."""
    from restoration.degrade import clean_sources

    sources = dict(clean_sources())
    names = _pick_sources(list(sources), plans)
    # One intra-op thread: as fast on frames this small, and many times faster on a shared CPU,
    # where extra OpenMP threads spin waiting for cores (measured: 2 s against 42 s a shot).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _write_scan_and_clean_clips(workdir, plans, names, sources, size, progress)
    finally:
        torch.set_num_threads(threads)


def _write_scan_and_clean_clips(workdir: Path, plans: Sequence[DemoShotPlan], names: list[str], sources: dict,
                                size: tuple[int, int], progress: Callable[[str], None]):
    from restoration.degrade import degrade, synthetic_clip
    from restoration.io import VideoWriter, write_video

    scan_path = workdir / "still-lives-in-motion-scan.mkv"
    clean_paths: list[Path] = []
    cuts: list[tuple[int, int]] = []
    first = 0
    with VideoWriter(scan_path, fps=FPS) as scan:
        for number, (plan, name) in enumerate(zip(plans, names, strict=True), start=1):
            progress(f"  shot {number}: {name}, {plan.frames} frames, {plan.motion} motion, {plan.strength} damage")
            clean = synthetic_clip(_as_colour(sources[name]), frames=plan.frames, size=size, seed=number,
                                   motion=plan.motion)
            damage = degrade(clean, seed=1000 + number, strength=plan.strength)
            scan.write(damage.damaged.clamp(0, 1))
            clean_path = workdir / f"shot-{number:02d}-clean.mkv"
            write_video(clean_path, damage.clean.clamp(0, 1), fps=FPS)
            clean_paths.append(clean_path)
            cuts.append((first, first + plan.frames - 1))
            first += plan.frames
    return scan_path, clean_paths, cuts


def _stage_in_ingest_root(scan_path: Path) -> Path:
    """Put the scan where a server-side registration may read it (the first INGEST_ROOT)."""
    folder = Path(settings.INGEST_ROOTS[0]) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / scan_path.name
    shutil.copyfile(scan_path, target)
    return target


def demo_build(*, progress: Callable[[str], None] = lambda line: None,
               plans: Sequence[DemoShotPlan] = DEMO_SHOTS, size: tuple[int, int] = FRAME_SIZE) -> DemoResult:
    """Create (or reuse) the demo users and film. Returns the film and the users.

    ``plans`` and ``size`` exist for tests, which build a smaller film the same way.
    """
    users = demo_users_ensure()
    film = _demo_film()
    if film is not None and film.shots.count() == len(plans):
        _memberships_ensure(film, users)
        return DemoResult(film=film, users=users, created=False)
    if film is not None:  # an earlier run stopped half-way: start again
        _film_delete_with_files(film)

    progress("Building the demo film from scikit-image photographs (synthetic motion and damage)...")
    with tempfile.TemporaryDirectory(prefix="demo-") as tmp:
        scan_path, clean_paths, cuts = _render_clips(Path(tmp), plans, size, progress)
        registered = _stage_in_ingest_root(scan_path)
        film = film_create(
            title=DEMO_FILM_TITLE,
            year=1927,
            directors="The scikit-image photographers",
            runtime_minutes=1,
            source_notes=f"{DEMO_FILM_MARKER} Made by `manage.py demo` from scikit-image's sample photographs "
                         "under synthetic camera motion and film damage. Demo data only.",
        )
        try:
            _memberships_ensure(film, users)
            scan = asset_ingest_path(film=film, path=str(registered))
            for number, ((start, end), clean_path) in enumerate(zip(cuts, clean_paths, strict=True), start=1):
                shot = shot_create(film=film, number=number, start_frame=start, end_frame=end, fps=FPS,
                                   source=scan)
                clean = asset_ingest_path(film=film, path=clean_path, restrict_to_roots=False,
                                          kind=AssetKind.MEZZANINE)
                version = version_create(
                    shot=shot, author=users["restorer"], media=clean,
                    pipeline_spec={"ops": []},
                    notes="Demo: the undamaged clip, standing in for a restored version.",
                )
                version_publish(version=version)
            film_update(film=film, fields={"status": FilmStatus.IN_REVIEW})
        except BaseException:
            _film_delete_with_files(film)
            raise
    progress(f"Demo film ready: {film.title}, {len(cuts)} shots, {cuts[-1][1] + 1} frames.")
    return DemoResult(film=film, users=users, created=True)


def _film_delete_with_files(film: Film) -> None:
    for asset in film.assets.all():
        Path(settings.MEDIA_ROOT, asset.file.name).unlink(missing_ok=True)
    film.delete()


@shared_task(name="webapp.demo.close_worker_connections")
def close_worker_connections() -> None:
    from django.db import connections

    connections.close_all()


@contextlib.contextmanager
def embedded_worker(queues: tuple[str, ...] = ("cpu", "gpu"), loglevel: str = "WARNING") -> Iterator[object]:
    """A Celery worker in a thread of this process, on the app of webapp/config/celery.py.

    With the embedded defaults the broker is in-memory (``memory://``), which only a worker in
    the same process can reach. `start_worker` (Celery's documented embedded worker) runs the
    real WorkController in a daemon thread with the solo pool; a ping round trip on the first
    queue proves it consumes before this yields.
    """
    from celery.contrib.testing.tasks import ping  # registers celery.ping
    from celery.contrib.testing.worker import start_worker
    from celery.result import allow_join_result

    from webapp.config.celery import app

    with start_worker(app, pool="solo", concurrency=1, queues=list(queues), loglevel=loglevel,
                      perform_ping_check=False, shutdown_timeout=30) as worker:
        with allow_join_result():
            if ping.apply_async(queue=queues[0]).get(timeout=30) != "pong":
                raise RuntimeError("the embedded Celery worker did not answer a ping")
        try:
            yield worker
        finally:
            # The worker thread keeps its own database connection (CONN_MAX_AGE); close it on
            # that thread, or the database cannot be dropped or migrated while it lingers.
            with allow_join_result():
                close_worker_connections.apply_async(queue=queues[0]).get(timeout=30)
