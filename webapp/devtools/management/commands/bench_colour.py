"""`manage.py bench_colour`: the browser's grade preview repainting a 1080p frame (WebGL2 in
Chromium), see webapp/devtools/colour_preview_bench.py. Prints median and p95 ms."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from webapp.devtools import colour_preview_bench as bench


class Command(BaseCommand):
    help = "Print the median and p95 time of the browser's WebGL2 grade preview repainting a 1080p frame."

    def add_arguments(self, parser):
        parser.add_argument("--repaints", type=int, default=120, help="Timed repaints")
        parser.add_argument("--gpu", action="store_true", help="Let Chromium use a GPU (default: --disable-gpu)")

    def handle(self, *args, repaints: int, gpu: bool, **options):
        if not 10 <= repaints <= 10_000:
            raise CommandError("--repaints must be between 10 and 10000")
        figures = bench.run(repaints=repaints, gpu=gpu)
        self.stdout.write(bench.report(figures))
