"""`manage.py bench_review`: latency figures of review. Parts (``--only``): ``seek`` (frame
websocket, see webapp/devtools/review_bench.py), ``sessions`` (live session fan-out to 1, 10 and 50
followers, see webapp/devtools/live_bench.py). Runs every part by default."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from webapp.devtools import live_bench
from webapp.devtools import review_bench as bench

BENCH_PARTS = ("seek", "sessions")


class Command(BaseCommand):
    help = "Print p50/p95 latency of review: seek-to-frame over the frame websocket at 480p and 1080p."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=BENCH_PARTS, help="Run one part")
        parser.add_argument("--seeks", type=int, default=200, help="Timed seeks per proxy height")
        parser.add_argument("--frames", type=int, default=96, help="Frames of the synthetic 1080p shot")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--changes", type=int, default=200, help="Sessions: timed state changes per follower count")
        parser.add_argument("--interval-ms", type=int, default=50, help="Sessions: time between the host's changes")
        parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
                            help="Sessions: Redis for the channel layer and the session state (default: REDIS_URL)")
        parser.add_argument("--in-fresh-data-dir", action="store_true",
                            help="(internal) already re-run on a temporary DATA_DIR")

    def handle(self, *args, only: str | None, seeks: int, frames: int, seed: int, in_fresh_data_dir: bool,
               changes: int, interval_ms: int, redis_url: str, **options):
        if seeks < 20 or not 24 <= frames <= 2000:
            raise CommandError("--seeks must be at least 20 and --frames between 24 and 2000")
        if not 20 <= changes <= 10_000 or not 1 <= interval_ms <= 5000:
            raise CommandError("--changes must be between 20 and 10000, --interval-ms between 1 and 5000")
        parts = [only] if only else list(BENCH_PARTS)
        if "seek" in parts:
            self._seek(seeks, frames, seed, in_fresh_data_dir)
        if "sessions" in parts:
            self._sessions(changes, interval_ms, redis_url, in_fresh_data_dir)

    def _seek(self, seeks: int, frames: int, seed: int, in_fresh_data_dir: bool) -> None:
        if not in_fresh_data_dir:
            code = bench.seek_bench_in_fresh_data_dir(seeks=seeks, frames=frames, seed=seed)
            if code != 0:
                raise CommandError(f"the seek benchmark failed (exit {code})")
            return
        figures = bench.seek_bench(seeks=seeks, frames=frames, seed=seed, progress=self.stdout.write)
        for line in bench.seek_report(figures):
            self.stdout.write(line)

    def _sessions(self, changes: int, interval_ms: int, redis_url: str, in_fresh_data_dir: bool) -> None:
        if not in_fresh_data_dir:
            code = live_bench.fan_out_bench_in_fresh_data_dir(changes=changes, interval_ms=interval_ms,
                                                              redis_url=redis_url, write=self.stdout.write)
            if code != 0:
                raise CommandError(f"the session benchmark failed (exit {code})")
            return
        figures = live_bench.fan_out_bench(changes=changes, interval_ms=interval_ms, progress=self.stdout.write)
        for line in live_bench.fan_out_report(figures):
            self.stdout.write(line)
