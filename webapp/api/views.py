"""Moved: ``FilmScopedViewSet`` and ``require_film_action`` are the catalogue's now
(``webapp.catalogue.api_base``), because they ask ``catalogue.access``.

TEMPORARY re-export, to be deleted at the merge: only ``webapp/jobs/apis.py`` and
``webapp/catalogue/ingest_apis.py`` (files of another branch) still import this path. It is the
one import of ``webapp.api`` upwards (a layers violation lint-imports reports on purpose).
"""

from webapp.catalogue.api_base import ACTION_WORDS, FilmScopedViewSet, require_film_action

__all__ = ["ACTION_WORDS", "FilmScopedViewSet", "require_film_action"]
