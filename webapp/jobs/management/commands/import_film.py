"""`manage.py import_film PATH --title ... [--year --directors --archivist --no-analyse]`: a new film
from a scan.

The same checks as a web upload (probe, picture size, pixel format), stored the same way, and,
as after an upload, the scan's analysis job starts (unless ``--no-analyse``): its shots appear
on the film page when it ends. On bad input: one line on stderr, a non-zero exit, and no film,
file, row or job left behind.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from webapp.catalogue.ingest import IngestError, film_import
from webapp.catalogue.models import Role
from webapp.catalogue.services import membership_create
from webapp.jobs.services import job_analyse_dispatch


class Command(BaseCommand):
    help = "Create a film from a scan file on this machine (probed and stored like an upload)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The scan: a video file PyAV can read (MKV/MOV/MP4, FFV1/ProRes/H.264...) or an image sequence (its folder, or a pattern such as reel/f_%%06d.dpx)")
        parser.add_argument("--title", required=True)
        parser.add_argument("--year", type=int, default=None)
        parser.add_argument("--directors", default="", help="Comma-separated names")
        parser.add_argument("--archivist", default=None, help="Username to make the film's archivist")
        parser.add_argument("--no-analyse", action="store_false", dest="analyse",
                            help="Do not start the scan's analysis (start it later: POST /api/films/<id>/analyse/)")

    def handle(self, *args, path: str, title: str, year: int | None, directors: str, archivist: str | None,
               analyse: bool = True, **options):
        user = None
        if archivist is not None:
            user = get_user_model().objects.filter(username=archivist).first()
            if user is None:
                raise CommandError(f"--archivist: no user named {archivist!r}")
        job = None
        try:
            with transaction.atomic():
                asset = film_import(path=path, title=title, year=year, directors=directors)
                if user is not None:
                    membership_create(film=asset.film, user=user, role=Role.ARCHIVIST)
                if analyse:  # sent when the film commits
                    job = job_analyse_dispatch(film=asset.film, asset_id=asset.pk, user=user)
        except IngestError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(f"database error ({exc}); has `manage.py migrate` been run?") from None
        film = asset.film
        self.stdout.write(
            f"Film #{film.pk} \"{film.title}\": scan {asset.original_name} stored "
            f"({asset.width}x{asset.height}, {asset.frame_count} frames at {asset.fps:g} fps, {asset.codec})"
        )
        if job is not None:
            self.stdout.write(f"Analysis: job #{job.pk} (follow it: manage.py follow_job {job.pk})")
