"""The project's Celery app, for the dev tools that drive workers, without importing webapp.config
(the layer above them)."""

from __future__ import annotations

from celery import Celery, current_app


def celery_app() -> Celery:
    """The app of webapp/config/celery.py: Django loads ``webapp.config`` first, which creates it
    and makes it the current app (per thread: call this from the thread that set Django up)."""
    app = current_app._get_current_object()
    if app.main != "webapp":
        raise RuntimeError(f"the current Celery app is {app.main!r}, not the project's ('webapp'); "
                           "call this from the thread that loaded Django's settings")
    return app
