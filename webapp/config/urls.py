"""Top-level routes. Each area owns its own url module; this file only mounts them."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView

from webapp.api.docs import DocsView, SchemaReaders

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # Behind login unless DEBUG is on (webapp/api/docs.py).
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[SchemaReaders]), name="api-schema"),
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    # REST resources (router) and the ingest endpoints under films.
    path("api/", include("webapp.config.api_urls")),
    path("api/", include("webapp.jobs.ingest_urls")),
    path("api/", include("webapp.jobs.urls")),
    path("api/", include("webapp.catalogue.urls")),
    path("api/", include("webapp.colour.urls")),
    path("api/", include("webapp.live.api_urls")),
    path("api/", include("webapp.delivery.urls")),
    path("api/", include("webapp.notifications.urls")),
    # Server-rendered pages.
    path("", include("webapp.review.page_urls")),
    path("", include("webapp.catalogue.page_urls")),
    path("", include("webapp.jobs.page_urls")),
    path("", include("webapp.live.page_urls")),
    path("", include("webapp.notifications.page_urls")),
    path("", include("webapp.delivery.page_urls")),
]


def not_found(request, exception):
    """A path under /api/ that matches no route (``/api/films/1.5/``) answers in the API's error
    shape; pages keep Django's 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


handler404 = not_found
