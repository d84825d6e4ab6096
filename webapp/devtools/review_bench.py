"""Benchmarks of review (``manage.py bench_review``). Each part is a function registered in
``BENCH_PARTS``; ``--only <part>`` runs one.

Seek: a real daphne server on loopback serves a synthetic 1080p shot (scan and one version, proxies
rendered ahead at 480 and 1080, as jobs do); a websocket client logged in with a session cookie
seeks to random frames the way the viewer does (one request per source, from the frame on, with
the prefetch window behind it, superseding the previous seek's requests) and times each seek from
sending the requests to receiving the JPEGs of frame f of both A and B.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from webapp.config.env import BASE_DIR

SEEK_HEIGHTS = (480, 1080)
SEEK_PREFETCH = 24  # frames asked per source on each seek, as the viewer does (PREFETCH_AHEAD)
BENCH_USERNAME = "bench-reviewer"


@dataclass(frozen=True)
class SeekFigures:
    height: int
    seeks: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    mean_jpeg_kb: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seek_fixture_build(*, workdir: Path, frames: int, progress: Callable[[str], None]) -> dict:
    """A film with one 1080p shot, its scan and a version, proxies rendered at every bench
    height, and a member; returns what the client needs."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from restoration.api import synthetic_clip_write
    from webapp.catalogue.ingest import asset_fields_from_probe
    from webapp.catalogue.models import AssetKind, Role
    from webapp.catalogue.proxies import proxy_render
    from webapp.catalogue.services import asset_create, film_create, membership_create, shot_create, version_create

    user = get_user_model().objects.create_user(BENCH_USERNAME, password=None)
    film = film_create(title="Seek bench")
    membership_create(film=film, user=user, role=Role.VIEWER)
    assets = []
    for name, seed, shift in (("scan.mkv", 1, 3), ("v1.mkv", 2, -2)):
        path = Path(workdir) / "media" / "bench" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        progress(f"  writing {name}: {frames} frames at 1920x1080")
        info = synthetic_clip_write(path, kind="moving_texture", frames=frames, height=1080, width=1920,
                                    seed=seed, fps=24, codec="ffv1", shift_px=shift)
        assets.append(asset_create(
            film=film, kind=AssetKind.ORIGINAL if name == "scan.mkv" else AssetKind.MEZZANINE,
            file=f"bench/{name}", original_name=name, **asset_fields_from_probe(info, path=path),
        ))
    scan, version_media = assets
    shot = shot_create(film=film, number=1, start_frame=0, end_frame=frames - 1, fps=24.0, source=scan)
    version_create(shot=shot, author=user, media=version_media, pipeline_spec={"ops": []})
    for asset in assets:
        progress(f"  rendering proxies of {asset.original_name} at {', '.join(map(str, SEEK_HEIGHTS))}")
        proxy_render(asset=asset, heights=SEEK_HEIGHTS)
    client = Client()
    client.force_login(user)
    return {"shot_id": shot.pk, "frames": frames, "session": client.cookies["sessionid"].value}


def _seek_client_run(*, port: int, fixture: dict, height: int, seeks: int, seed: int) -> SeekFigures:
    """The client runs in its own process: autobahn's asyncio client cannot share a process with
    Django's daphne app, which has already chosen autobahn's Twisted flavour."""
    command = [sys.executable, "-m", "webapp.devtools.review_bench_client", "--port", str(port), "--shot",
               str(fixture["shot_id"]), "--frames", str(fixture["frames"]), "--height", str(height),
               "--seeks", str(seeks), "--seed", str(seed), "--prefetch", str(SEEK_PREFETCH)]
    env = {**os.environ, "BENCH_SESSION": fixture["session"]}  # not on the command line, where ps shows it
    result = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"the seek client failed: {result.stderr[-2000:]}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    timings = measured["timings_ms"]
    cuts = statistics.quantiles(timings, n=100)
    return SeekFigures(height=height, seeks=len(timings), p50_ms=statistics.median(timings), p95_ms=cuts[94],
                       max_ms=max(timings), mean_jpeg_kb=statistics.mean(measured["jpeg_bytes"]) / 1024)


def _wait_for_port(process: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"daphne did not listen on port {port} within {timeout} s")


@contextlib.contextmanager
def daphne_serving() -> Iterator[int]:
    """A real daphne process serving this project on a free loopback port (with this process's
    environment); yields the port once it listens, stops the server afterwards."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "webapp.config.asgi:application"],
        cwd=BASE_DIR, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(server, port)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def seek_bench(*, seeks: int, frames: int, seed: int, progress: Callable[[str], None]) -> list[SeekFigures]:
    """Run in a process whose DATA_DIR is a fresh folder (see the command): builds the fixture,
    serves it with daphne on a free port, and measures each height."""
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    progress("Building a 1080p shot (scan and v1) and rendering its proxies...")
    fixture = seek_fixture_build(workdir=Path(settings.ENV.data_dir), frames=frames, progress=progress)
    with daphne_serving() as port:
        return [_seek_client_run(port=port, fixture=fixture, height=height, seeks=seeks, seed=seed + height)
                for height in SEEK_HEIGHTS]


def seek_bench_in_fresh_data_dir(*, seeks: int, frames: int, seed: int) -> int:
    """Re-run ``bench_review --only seek`` in a subprocess on a temporary DATA_DIR (its own SQLite
    database and media, the embedded defaults), so the bench never touches real data."""
    with tempfile.TemporaryDirectory(prefix="bench-review-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"}}
        env.update({"DATA_DIR": data_dir, "DEBUG": "false", "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "1")})
        command = [sys.executable, "manage.py", "bench_review", "--only", "seek", "--in-fresh-data-dir",
                   "--seeks", str(seeks), "--frames", str(frames), "--seed", str(seed)]
        return subprocess.run(command, env=env, cwd=BASE_DIR).returncode


def seek_report(figures: list[SeekFigures]) -> list[str]:
    lines = ["Seek to frame (request A and B frame f -> both JPEGs received), daphne on loopback:",
             f"{'proxy':>7} {'seeks':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'JPEG KiB':>9}"]
    for f in figures:
        lines.append(f"{f.height:>6}p {f.seeks:>6} {f.p50_ms:>8.1f} {f.p95_ms:>8.1f} {f.max_ms:>8.1f} "
                     f"{f.mean_jpeg_kb:>9.0f}")
    return lines
