"""Session fan-out benchmark (``manage.py bench_review --only sessions``): how long a host's change takes to reach
1, 10 and 50 followers in a live session.

A real daphne server on loopback, with the Redis channel layer and the Redis state store (as in
production), serves one session; a client process connects the host and the followers with
session cookies. The host sends state changes 50 ms apart (the page throttles to 60 ms); each
follower's lag is from the host sending a change to the follower receiving that state version.
The clients run in one Python process, so the figures include its own turn-taking between the
sockets: an upper bound of what each browser would see.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from webapp.config.env import BASE_DIR
from webapp.devtools.review_bench import daphne_serving

PARTICIPANT_COUNTS = (1, 10, 50)
BENCH_FRAME_COUNT = 48


@dataclass(frozen=True)
class FanOutFigures:
    participants: int
    samples: int
    p50_ms: float
    p95_ms: float
    max_ms: float


def fan_out_fixture_build(*, participants: int) -> dict:
    """A film with one shot and version, a session on it, its host and ``participants`` members,
    each logged in; returns the session and the cookies (host first)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from webapp.catalogue.models import Role
    from webapp.catalogue.services import film_create, membership_create, shot_create, version_create
    from webapp.live.services import session_create

    users = [get_user_model().objects.create_user(f"bench-{i}", password=None) for i in range(participants + 1)]
    film = film_create(title="Session bench")
    for i, user in enumerate(users):
        membership_create(film=film, user=user, role=Role.ARCHIVIST if i == 0 else Role.VIEWER)
    shot = shot_create(film=film, number=1, start_frame=0, end_frame=BENCH_FRAME_COUNT - 1, fps=24.0)
    version = version_create(shot=shot, author=users[0], pipeline_spec={"ops": []})
    session = session_create(film=film, created_by=users[0], title="Fan-out", versions=[version])
    cookies = []
    for user in users:
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    return {"session_id": session.pk, "cookies": cookies}


def _client_run(*, port: int, fixture: dict, participants: int, changes: int, interval_ms: int) -> FanOutFigures:
    command = [sys.executable, "-m", "webapp.devtools.live_bench_client", "--port", str(port), "--session-id",
               str(fixture["session_id"]), "--participants", str(participants), "--changes", str(changes),
               "--interval-ms", str(interval_ms), "--frame-count", str(BENCH_FRAME_COUNT)]
    # Cookies in the environment, not on the command line where ps shows them.
    env = {**os.environ, "BENCH_SESSIONS": json.dumps(fixture["cookies"][:participants + 1])}
    result = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"the session bench client failed: {result.stderr[-2000:]}")
    lags = json.loads(result.stdout.strip().splitlines()[-1])["lags_ms"]
    return FanOutFigures(participants=participants, samples=len(lags), p50_ms=statistics.median(lags),
                         p95_ms=statistics.quantiles(lags, n=100)[94], max_ms=max(lags))


def fan_out_bench(*, changes: int, interval_ms: int, progress: Callable[[str], None]) -> list[FanOutFigures]:
    """Run in a process whose DATA_DIR is a fresh folder and whose REDIS_URL is set (see
    ``fan_out_bench_in_fresh_data_dir``)."""
    from django.conf import settings
    from django.core.management import call_command

    if not settings.ENV.redis_url:
        raise RuntimeError("the session bench measures the Redis channel layer: set REDIS_URL")
    call_command("migrate", interactive=False, verbosity=0)
    fixture = fan_out_fixture_build(participants=max(PARTICIPANT_COUNTS))
    figures = []
    with daphne_serving() as port:
        for participants in PARTICIPANT_COUNTS:
            progress(f"  {participants} follower(s), {changes} changes {interval_ms} ms apart...")
            figures.append(_client_run(port=port, fixture=fixture, participants=participants, changes=changes,
                                       interval_ms=interval_ms))
    return figures


def fan_out_bench_in_fresh_data_dir(*, changes: int, interval_ms: int, redis_url: str,
                                    write: Callable[[str], None]) -> int:
    """Re-run ``bench_review --only sessions`` in a subprocess on a temporary DATA_DIR (its own SQLite database)
    with REDIS_URL set, so the bench never touches real data."""
    with tempfile.TemporaryDirectory(prefix="bench-live-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MEDIA_ROOT"}}
        env.update({"DATA_DIR": data_dir, "DEBUG": "false", "REDIS_URL": redis_url,
                    "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "1")})
        command = [sys.executable, "manage.py", "bench_review", "--only", "sessions", "--in-fresh-data-dir",
                   "--changes", str(changes), "--interval-ms", str(interval_ms), "--redis-url", redis_url]
        return subprocess.run(command, env=env, cwd=BASE_DIR).returncode


def fan_out_report(figures: list[FanOutFigures]) -> list[str]:
    lines = ["Live session fan-out (host sends a change -> each follower receives it), daphne + Redis on loopback:",
             f"{'followers':>9} {'samples':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"]
    for f in figures:
        lines.append(f"{f.participants:>9} {f.samples:>8} {f.p50_ms:>8.1f} {f.p95_ms:>8.1f} {f.max_ms:>8.1f}")
    return lines
