"""`manage.py demo`: migrate, build the demo film and users, then serve the site with daphne.

Embedded defaults only (SQLite under var/, media under var/media, in-memory channel layer,
a Celery worker in a thread of this process). Refuses to run with DJANGO_ENV=production.
"""

from __future__ import annotations

import logging
import logging.config
import os
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from webapp.devtools.demo import DEMO_PASSWORD, DEMO_USERS, demo_build, embedded_worker

BANNER = """
================================ DEMO ONLY ================================
 Demo users (password "{password}"), for trying the site on this machine:
{users}
 Never create these users on a real site.
===========================================================================
"""


class Command(BaseCommand):
    help = "Build the demo film and users (idempotent) and serve the site at http://127.0.0.1:$PORT (8000)."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="Build the demo data and exit.")
        parser.add_argument("--port", type=int, default=None, help="Port to serve on (default: $PORT or 8000).")

    def handle(self, *args, no_serve: bool = False, port: int | None = None, **options):
        if settings.ENV.production:
            raise CommandError("the demo creates users with a known password: refusing to run with DJANGO_ENV=production")
        port = port or _port_from_env()
        if not os.environ.get("SITE_URL"):
            # The links in the demo's e-mails (printed on the console) open this server.
            settings.SITE_URL = f"http://127.0.0.1:{port}"
        users = "\n".join(f"   {name:<10} ({role})" for name, role in DEMO_USERS)
        self.stdout.write(self.style.WARNING(BANNER.format(password=DEMO_PASSWORD, users=users)))

        _quiet_loggers()
        settings.ENV.data_dir.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        # The worker first: the demo's own analyse and restore jobs run on it, like any job.
        self.stdout.write("Starting the in-process Celery worker (memory broker, queues cpu and gpu)...")
        with embedded_worker(sweep_interval_s=settings.SWEEP_INTERVAL_S):
            started = time.monotonic()
            result = demo_build(progress=self.stdout.write)
            verb = "Built" if result.created else "Reusing"
            self.stdout.write(f"{verb} the demo film #{result.film.pk} \"{result.film.title}\" "
                              f"({time.monotonic() - started:.1f} s).")
            if no_serve:
                return
            self.stdout.write(self.style.SUCCESS(f"Open http://127.0.0.1:{port}/ and log in as archivist / demo."))
            # Daphne's runserver: ASGI (websockets), static files served even without DEBUG.
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True)


# What a person trying the demo does not need to read: every request served, the worker's task
# ids, the in-memory broker's "no hostname" warning, daphne's HTTP/2 notice. Failures still show.
QUIET_LOGGERS = {"celery": logging.WARNING, "kombu": logging.ERROR, "django.channels.server": logging.WARNING,
                 "daphne": logging.WARNING}


def _quiet_loggers() -> None:
    # Into settings.LOGGING itself: the worker's start and the ASGI app's django.setup() configure
    # logging again from it, which would reset levels set on the loggers alone.
    loggers = settings.LOGGING.setdefault("loggers", {})
    for name, level in QUIET_LOGGERS.items():
        loggers[name] = {**loggers.get(name, {}), "level": logging.getLevelName(level)}
    logging.config.dictConfig(settings.LOGGING)


def _port_from_env() -> int:
    raw = os.environ.get("PORT") or "8000"
    try:
        port = int(raw)
    except ValueError:
        raise CommandError(f"PORT must be a number, got {raw!r}") from None
    if not 1 <= port <= 65535:
        raise CommandError(f"PORT must be between 1 and 65535, got {port}")
    return port
