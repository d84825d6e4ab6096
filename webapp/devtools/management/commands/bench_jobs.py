"""`manage.py bench_jobs`: job latency, progress events and throughput over 1, 2 and 4 real
worker processes (``webapp/devtools/jobs_bench.py``). Needs PostgreSQL and Redis (DATABASE_URL,
REDIS_URL). Runs on the bench database (``<name>_bench``, created when missing), like
``bench_catalogue``, by re-running itself in a subprocess pointed at it."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from webapp.config.env import BASE_DIR
from webapp.devtools.jobs_bench import BenchConfig, run
from webapp.devtools.management.commands.bench_catalogue import (
    _ensure_postgres_database,
    _without_password,
    bench_database_url,
)


class Command(BaseCommand):
    help = "Submit-to-running latency, progress events' rate and lag, batch throughput over 1/2/4 workers."

    def add_arguments(self, parser):
        parser.add_argument("--shots", type=int, default=BenchConfig.shots)
        parser.add_argument("--frames", type=int, default=BenchConfig.frames)
        parser.add_argument("--workers", default=",".join(map(str, BenchConfig.workers)),
                            help="Worker counts to measure, comma-separated")
        parser.add_argument("--in-bench-db", action="store_true", help="(internal) already on the bench database")

    def handle(self, *args, shots: int, frames: int, workers: str, in_bench_db: bool, **options):
        try:
            counts = tuple(int(n) for n in workers.split(","))
        except ValueError:
            raise CommandError(f"--workers: expected numbers separated by commas, got {workers!r}") from None
        if shots < 1 or frames < 1 or not counts or min(counts) < 1:
            raise CommandError("--shots, --frames and every --workers count must be at least 1")
        if not settings.ENV.database_url or not settings.ENV.database_url.startswith("postgres") \
                or not settings.ENV.redis_url:
            raise CommandError("the jobs bench runs real workers: set DATABASE_URL (PostgreSQL) and REDIS_URL")
        if not in_bench_db:
            url = bench_database_url()
            _ensure_postgres_database(url)
            self.stdout.write(f"Bench database: {_without_password(url)}")
            command = [sys.executable, "manage.py", "bench_jobs", "--in-bench-db", "--shots", str(shots),
                       "--frames", str(frames), "--workers", workers]
            result = subprocess.run(command, env={**os.environ, "DATABASE_URL": url, "DEBUG": "false"}, cwd=BASE_DIR)
            if result.returncode != 0:
                raise CommandError(f"the jobs benchmark failed (exit {result.returncode})")
            return
        call_command("migrate", interactive=False, verbosity=0)
        try:
            run(BenchConfig(shots=shots, frames=frames, workers=counts), self.stdout.write)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
