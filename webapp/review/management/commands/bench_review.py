"""`manage.py bench_review`: latency figures of review. Parts (``--only``): ``seek`` (frame
websocket, see webapp/review/bench.py). Runs every part by default."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from webapp.review import bench

BENCH_PARTS = ("seek",)


class Command(BaseCommand):
    help = "Print p50/p95 latency of review: seek-to-frame over the frame websocket at 480p and 1080p."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=BENCH_PARTS, help="Run one part")
        parser.add_argument("--seeks", type=int, default=200, help="Timed seeks per proxy height")
        parser.add_argument("--frames", type=int, default=96, help="Frames of the synthetic 1080p shot")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--in-fresh-data-dir", action="store_true",
                            help="(internal) already re-run on a temporary DATA_DIR")

    def handle(self, *args, only: str | None, seeks: int, frames: int, seed: int, in_fresh_data_dir: bool,
               **options):
        if seeks < 20 or not 24 <= frames <= 2000:
            raise CommandError("--seeks must be at least 20 and --frames between 24 and 2000")
        parts = [only] if only else list(BENCH_PARTS)
        if "seek" in parts:
            self._seek(seeks, frames, seed, in_fresh_data_dir)

    def _seek(self, seeks: int, frames: int, seed: int, in_fresh_data_dir: bool) -> None:
        if not in_fresh_data_dir:
            code = bench.seek_bench_in_fresh_data_dir(seeks=seeks, frames=frames, seed=seed, write=self.stdout.write)
            if code != 0:
                raise CommandError(f"the seek benchmark failed (exit {code})")
            return
        figures = bench.seek_bench(seeks=seeks, frames=frames, seed=seed, progress=self.stdout.write)
        for line in bench.seek_report(figures):
            self.stdout.write(line)
