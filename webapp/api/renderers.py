"""DRF's HTML pages for people exploring the API in a browser (``/api/films/`` opened as a page)."""

from __future__ import annotations

from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, whose own templates style with a ``<style>`` element and ``style=""``
    attributes: the Content-Security-Policy allows inline styles on these pages alone (scripts
    stay strict: DRF's are files). Every page of ours stays fully strict."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {"style-src": ["'unsafe-inline'"]}  # read by django-csp's middleware
        return super().render(data, accepted_media_type, renderer_context)
