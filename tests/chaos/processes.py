"""The chaos suite's worker processes (real ``celery`` programs, as deployed) and waiting on
them through faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import InterfaceError, OperationalError, connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database (pytest-django's ``test_chaos``) as a URL the workers can use."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT']}/{db['NAME']}"


@contextmanager
def celery(*args: str, media_root: Path, logs: Path, env: dict[str, str] | None = None):
    """``celery -A webapp.config <args>`` on the chaos services, stopped (SIGTERM, then SIGKILL)
    on exit; its output goes to a log under ``logs``."""
    logs.mkdir(parents=True, exist_ok=True)
    log = (logs / f"{args[0]}-{time.monotonic_ns()}.log").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "webapp.config", *args, "-l", "WARNING"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "DATABASE_URL": database_url(), "MEDIA_ROOT": str(media_root), "OMP_NUM_THREADS": "1",
             **(env or {})},
    )
    process.log = log
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def worker(queues: str, **kwargs):
    """A worker with the solo pool: the job runs in the process a test kills."""
    return celery("worker", "-Q", queues, "-P", "solo", "-c", "1", "--without-gossip", "--without-mingle",
                  "--without-heartbeat", "-n", f"{queues.replace(',', '-')}-{time.monotonic_ns()}@chaos", **kwargs)


def log_tail(process: subprocess.Popen) -> str:
    process.log.flush()
    return Path(process.log.name).read_bytes().decode(errors="replace")[-3000:]


def wait_for(condition, what: str, *, timeout_s: float = 120.0, alive: tuple = ()):
    """Poll ``condition`` until it is true and return its value. The database may be down or
    just back: an error reaching it counts as not yet (the connection is dropped and made again).
    Fails naming ``what``, or the process of ``alive`` that died, with its log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (OperationalError, InterfaceError):
            connection.close()
            value = None
        if value:
            return value
        for process in alive:
            if process.poll() is not None:
                pytest.fail(f"a process exited ({process.returncode}) while waiting for {what}:\n{log_tail(process)}")
        time.sleep(0.1)
    logs = "\n".join(log_tail(process) for process in alive)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}\n{logs}")
