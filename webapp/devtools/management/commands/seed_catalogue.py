"""`manage.py seed_catalogue --films 100 --shots-per-film 1500 [--seed 0] [--replace]`: see webapp.devtools.seed."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from webapp.devtools.seed import seed_catalogue


class Command(BaseCommand):
    help = "Seed a realistic catalogue (films, memberships, shots, versions, comments, decisions) at scale."

    def add_arguments(self, parser):
        parser.add_argument("--films", type=int, default=100)
        parser.add_argument("--shots-per-film", type=int, default=1500)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--replace", action="store_true", help="Delete previously seeded films first")

    def handle(self, *args, films: int, shots_per_film: int, seed: int, replace: bool, **options):
        report = seed_catalogue(films=films, shots_per_film=shots_per_film, seed=seed, replace=replace,
                                progress=self.stdout.write if options["verbosity"] > 1 else (lambda line: None))
        self.stdout.write(
            f"Seeded {report.films} films, {report.memberships} memberships, {report.shots} shots, "
            f"{report.versions} versions, {report.comments} comments, {report.decisions} decisions "
            f"in {report.seconds:.1f} s"
        )
