"""`manage.py sweep`: the periodic fault sweep once (what Celery beat runs every SWEEP_INTERVAL_S):
send pending jobs whose message is missing, take back running jobs whose worker went silent,
finish batches whose children have all finished, remove files no row names. Prints what it did; see webapp/jobs/sweeper.py."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from webapp.jobs.sweeper import sweep


class Command(BaseCommand):
    help = "Send lost jobs, take back jobs of dead workers, remove orphan files (once)."

    def handle(self, *args, **options):
        result = sweep()
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in result.counts().items()))
        for name in result.media.removed_files + result.media.removed_picture_folders:
            self.stdout.write(f"removed {name}")
