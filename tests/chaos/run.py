"""``make chaos``: the chaos suite (``pytest -m chaos tests/chaos``) on a PostgreSQL and a Redis of
its own, then its table of recovery times.

    python -m tests.chaos.run [pytest arguments...]

The services are created in a temporary folder on free ports and removed at the end; the
shared ones (5432, 6379) are never touched. Faults are detected on short timescales here
(heartbeat 1 s, silent after 5 s, a sweep every second, lost messages resent after 5 s), set
through the same environment variables production uses; the exit status is pytest's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.chaos.services import PrivatePostgres, PrivateRedis

FAULT_SETTINGS = {
    "JOB_HEARTBEAT_S": "1",
    "JOB_HEARTBEAT_TIMEOUT_S": "5",
    "SWEEP_INTERVAL_S": "1",
    "JOB_REDISPATCH_AFTER_S": "5",
    "JOB_AUTORETRY_BACKOFF_S": "1",
    "CELERY_VISIBILITY_TIMEOUT_S": "10",
}


def main(pytest_args: list[str]) -> int:
    folder = Path(tempfile.mkdtemp(prefix="chaos-"))
    folder.chmod(0o755)  # PostgreSQL's own user reaches its data folder inside
    report = folder / "recoveries.json"
    postgres = redis = None
    try:
        postgres = PrivatePostgres.create(folder / "postgres")
        redis = PrivateRedis.create(folder / "redis")
        env = {**os.environ, **postgres.env(), **redis.env(), **FAULT_SETTINGS, "CHAOS_DIR": str(folder),
               "CHAOS_REPORT": str(report), "DATABASE_URL": postgres.url, "REDIS_URL": redis.url}
        status = subprocess.call([sys.executable, "-m", "pytest", "-q", "-m", "chaos",
                                  "tests/chaos", *pytest_args], env=env)
        if report.exists():
            print_table(json.loads(report.read_text()))
        return status
    finally:
        if redis is not None:
            redis.stop()
        if postgres is not None and postgres.is_up():
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


def print_table(recoveries: list[dict]) -> None:
    print(f"\nRecovery per fault ({', '.join(f'{k}={v}' for k, v in FAULT_SETTINGS.items())}):")
    print(f"{'fault':<50} {'recovered in':>12}  details")
    for row in recoveries:
        details = ", ".join(f"{key}={value}" for key, value in row.items() if key not in ("fault", "seconds"))
        print(f"{row['fault']:<50} {row['seconds']:>10.1f} s  {details}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
