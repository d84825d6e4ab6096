"""The chaos suite's fixtures: its own PostgreSQL and Redis (started by ``run.py``, stopped and
started by the tests), a media folder the workers share, Celery beat and a CPU worker for the
whole run (the periodic sweep), and the recovery times the tests measure."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.chaos.processes import celery, worker
from tests.chaos.services import PrivatePostgres, PrivateRedis

RECOVERIES: list[dict] = []


def pytest_sessionfinish(session, exitstatus):
    report = os.environ.get("CHAOS_REPORT")
    if report and RECOVERIES:
        Path(report).write_text(json.dumps(RECOVERIES, indent=1))


@pytest.fixture(scope="session")
def chaos_folder() -> Path:
    if "CHAOS_PG_PORT" not in os.environ:
        pytest.fail("the chaos suite runs on services of its own: `make chaos` (python -m tests.chaos.run)")
    return Path(os.environ["CHAOS_DIR"])


@pytest.fixture
def postgres(chaos_folder):
    """The suite's PostgreSQL, running again after the test whatever happened."""
    server = PrivatePostgres.from_env()
    yield server
    if not server.is_up():
        server.start()


@pytest.fixture
def redis_server(chaos_folder):
    server = PrivateRedis.from_env()
    yield server
    if not server.is_up():
        server.start()


@pytest.fixture(scope="session")
def shared_media(chaos_folder) -> Path:
    return chaos_folder / "media"


@pytest.fixture(autouse=True)
def media_root(settings, shared_media) -> Path:
    """The workers' MEDIA_ROOT, emptied before each test."""
    shutil.rmtree(shared_media, ignore_errors=True)
    shared_media.mkdir(parents=True)
    settings.MEDIA_ROOT = shared_media
    return shared_media


@pytest.fixture(scope="session")
def sweeping(django_db_setup, django_db_blocker, chaos_folder, shared_media):
    """Celery beat sending the sweep every SWEEP_INTERVAL_S, and a CPU worker running it."""
    logs = chaos_folder / "logs"
    with django_db_blocker.unblock(), \
            celery("beat", "-s", str(chaos_folder / "beat-schedule"), "--pidfile=", media_root=shared_media,
                   logs=logs) as beat, \
            worker("cpu", media_root=shared_media, logs=logs) as cpu:
        yield beat, cpu


@pytest.fixture
def gpu_worker(sweeping, chaos_folder, shared_media):
    """``gpu_worker(**env)`` starts a worker on the gpu queue (restores); stopped after the test."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        def start(**env: str):
            return stack.enter_context(worker("gpu", media_root=shared_media, logs=chaos_folder / "logs", env=env))

        yield start


@pytest.fixture
def recovery():
    """``recovery(fault, seconds, **details)``: one line of the suite's timings table."""

    def record(fault: str, seconds: float, **details) -> None:
        RECOVERIES.append({"fault": fault, "seconds": round(seconds, 1), **details})

    return record

