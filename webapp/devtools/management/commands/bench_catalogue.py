"""`manage.py bench_catalogue`: latency of the catalogue API at scale (100 films x 1,500 shots by default).

Runs on a separate bench database so it never touches the demo data: ``var/bench.sqlite3``
next to the embedded database, or ``<name>_bench`` on the PostgreSQL server of DATABASE_URL
(created when missing). The command re-runs itself in a subprocess pointed at that database,
seeds it when it holds fewer films or shots than asked, then requests each endpoint through
Django's test Client (the full middleware and DRF stack, no network), logged in as an
archivist member of every film, and prints p50/p95 over the repeated requests.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from webapp.config.env import BASE_DIR

BENCH_SQLITE_NAME = "bench.sqlite3"


@dataclass(frozen=True)
class Endpoint:
    label: str
    path: str


def bench_database_url() -> str:
    """The bench database beside the configured one."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings.ENV.data_dir) / BENCH_SQLITE_NAME}"
    url = urlsplit(settings.ENV.database_url)
    name = url.path.lstrip("/") or "postgres"
    return urlunsplit(url._replace(path=f"/{name}_bench"))


def _ensure_postgres_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


class Command(BaseCommand):
    help = "Print p50/p95 latency of the film list, a film's shot list and shot search at catalogue scale."

    def add_arguments(self, parser):
        parser.add_argument("--films", type=int, default=100)
        parser.add_argument("--shots-per-film", type=int, default=1500)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--repeat", type=int, default=30, help="Timed requests per endpoint")
        parser.add_argument("--in-bench-db", action="store_true", help="(internal) already on the bench database")

    def handle(self, *args, films: int, shots_per_film: int, seed: int, repeat: int, in_bench_db: bool, **options):
        if films < 1 or shots_per_film < 1 or repeat < 3:
            raise CommandError("--films and --shots-per-film must be at least 1, --repeat at least 3")
        if not in_bench_db:
            self._rerun_on_bench_database(films, shots_per_film, seed, repeat)
            return
        self._bench(films, shots_per_film, seed, repeat)

    def _rerun_on_bench_database(self, films: int, shots_per_film: int, seed: int, repeat: int) -> None:
        url = bench_database_url()
        if url.startswith("postgres"):
            _ensure_postgres_database(url)
        else:
            Path(settings.ENV.data_dir).mkdir(parents=True, exist_ok=True)
        shown = _without_password(url)
        self.stdout.write(f"Bench database: {shown}")
        command = [sys.executable, "manage.py", "bench_catalogue", "--in-bench-db", "--films", str(films),
                   "--shots-per-film", str(shots_per_film), "--seed", str(seed), "--repeat", str(repeat)]
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false"}
        result = subprocess.run(command, env=env, cwd=BASE_DIR)
        if result.returncode != 0:
            raise CommandError(f"the benchmark failed on {shown} (exit {result.returncode})")

    def _bench(self, films: int, shots_per_film: int, seed: int, repeat: int) -> None:
        from django.contrib.auth import get_user_model
        from django.test import Client

        from webapp.catalogue.models import Film, Shot
        from webapp.devtools.seed import BENCH_USERNAME, seed_catalogue, seeded_films

        call_command("migrate", interactive=False, verbosity=0)
        seeded_count = seeded_films().count()
        seeded_shots = Shot.objects.filter(film__in=seeded_films()).count()
        if seeded_count < films or seeded_shots < films * shots_per_film:
            self.stdout.write(f"Seeding {films} films x {shots_per_film} shots (found {seeded_count} films, "
                              f"{seeded_shots} shots)...")
            report = seed_catalogue(films=films, shots_per_film=shots_per_film, seed=seed, replace=True)
            self.stdout.write(f"  seeded {report.shots} shots, {report.versions} versions, {report.comments} comments,"
                              f" {report.decisions} decisions in {report.seconds:.1f} s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        user = get_user_model().objects.get(username=BENCH_USERNAME)
        client = Client()
        client.force_login(user)
        film_id = seeded_films().order_by("id").values_list("id", flat=True)[films // 2]
        total_films = Film.objects.count()
        total_shots = Shot.objects.count()
        middle_page = max(1, shots_per_film // 50 // 2)
        endpoints = [
            Endpoint("film list (page 1 of 50)", "/api/films/"),
            Endpoint("film list, text search 'harbour'", "/api/films/?search=harbour"),
            Endpoint("film list, filter decade=1920 + status", "/api/films/?decade=1920&status=in_review"),
            Endpoint("a film's shots, page 1", f"/api/shots/?film={film_id}"),
            Endpoint(f"a film's shots, page {middle_page}", f"/api/shots/?film={film_id}&page={middle_page}"),
            Endpoint("shot search: status=in_review, numbers 700-720, all films",
                     "/api/shots/?status=in_review&number_min=700&number_max=720"),
            Endpoint("shot search: approved, ordered by -updated_at", "/api/shots/?status=approved&ordering=-updated_at"),
        ]
        self.stdout.write(f"Database: {connection.vendor} ({total_films} films, {total_shots} shots); "
                          f"{repeat} timed requests per endpoint after 3 warm-ups; Django test Client as "
                          f"{BENCH_USERNAME} (archivist of every film)")
        self.stdout.write("")
        self.stdout.write("| request | p50 ms | p95 ms | rows |")
        self.stdout.write("|---|---:|---:|---:|")
        for endpoint in endpoints:
            timings, rows = self._time(client, endpoint.path, repeat)
            p50 = statistics.median(timings)
            p95 = statistics.quantiles(timings, n=20, method="inclusive")[18]
            self.stdout.write(f"| {endpoint.label} `{endpoint.path}` | {p50:.1f} | {p95:.1f} | {rows} |")

    def _time(self, client, path: str, repeat: int) -> tuple[list[float], int]:
        for _ in range(3):
            response = client.get(path)
            if response.status_code != 200:
                raise CommandError(f"{path} answered {response.status_code}: {response.content[:300]!r}")
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        body = response.json()
        return timings, body.get("count", len(body.get("results", [])))
