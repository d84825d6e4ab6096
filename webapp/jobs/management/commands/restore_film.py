"""`manage.py restore_film FILM_ID --user NAME (--preset clean | --pipeline spec.json) [--shots 3,7]`:
start a batch restore of a film's shots (all by default) as that user, and follow its progress.

The same service as ``POST /api/films/<id>/restore/``: the user needs the restorer or archivist
role on the film, and the shots run on the GPU workers (start them first: see the README).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from restoration.api import PRESET_NAMES
from webapp.catalogue.access import Action, can
from webapp.catalogue.models import Film
from webapp.jobs.management.commands.follow_job import follow_to_the_end
from webapp.jobs.services import job_batch_restore_dispatch, restore_spec_resolve


class Command(BaseCommand):
    help = "Restore a film's shots (one batch job) and show its progress."

    def add_arguments(self, parser):
        parser.add_argument("film_id", type=int)
        parser.add_argument("--user", required=True, help="Who restores (restorer or archivist of the film)")
        spec = parser.add_mutually_exclusive_group(required=True)
        spec.add_argument("--preset", choices=PRESET_NAMES)
        spec.add_argument("--pipeline", type=Path, help="A pipeline spec (JSON file)")
        parser.add_argument("--shots", help="Shot ids, comma-separated (default: every shot)")
        parser.add_argument("--no-wait", action="store_true", help="Start the job and exit")

    def handle(self, *args, film_id, user, preset, pipeline, shots, no_wait, **options):
        film = Film.objects.filter(pk=film_id).first()
        if film is None:
            raise CommandError(f"no film {film_id}")
        restorer = get_user_model().objects.filter(username=user).first()
        if restorer is None or not can(user=restorer, film_id=film.pk, action=Action.PUBLISH):
            raise CommandError(f"{user!r} is not a restorer or archivist of film {film.pk}")
        try:
            shot_ids = [int(part) for part in shots.split(",")] if shots else None
        except ValueError:
            raise CommandError(f"--shots: expected comma-separated shot ids, got {shots!r}") from None
        try:
            spec_input = json.loads(pipeline.read_text()) if pipeline else None
        except (OSError, ValueError) as exc:
            raise CommandError(f"--pipeline {pipeline}: {exc}") from None
        try:
            spec = restore_spec_resolve(preset=preset, pipeline=spec_input)
            job = job_batch_restore_dispatch(film=film, shot_ids=shot_ids, user=restorer, spec=spec)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())) from None
        self.stdout.write(f"Batch job {job.pk}: {job.children.count()} shots of {film.title}.")
        if no_wait:
            return
        follow_to_the_end(self, job)
