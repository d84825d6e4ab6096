"""Who may read the API's schema and its docs (``/api/schema/``, ``/api/docs/``): the schema maps
every endpoint, so outside development (DEBUG off) only signed-in users get it. Apart from
``schema.py`` (the generator, which drf-spectacular's views import)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import BasePermission


class SchemaReaders(BasePermission):
    """Anyone while DEBUG is on, else signed-in users only."""

    def has_permission(self, request, view) -> bool:
        return settings.DEBUG or bool(request.user and request.user.is_authenticated)


class DocsView(SpectacularSwaggerSplitView):
    """The Swagger page: an anonymous visitor is sent to the login page (the schema itself answers 401).
    The split view serves its start-up script as a file (?script): no inline script, for the CSP."""

    permission_classes = [SchemaReaders]
    template_name = "api/swagger_ui.html"

    def handle_exception(self, exc):
        if isinstance(exc, (NotAuthenticated, AuthenticationFailed)):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
