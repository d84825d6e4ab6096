"""Top-level routes. Each area owns its own url module; this file only mounts them."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (?script): no inline script, for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
         name="api-docs"),
    # REST resources (router) and the ingest endpoints under films.
    path("api/", include("webapp.config.api_urls")),
    path("api/", include("webapp.jobs.ingest_urls")),
    path("api/", include("webapp.jobs.urls")),
    path("api/", include("webapp.catalogue.urls")),
    path("api/", include("webapp.colour.urls")),
    path("api/", include("webapp.live.api_urls")),
    # Server-rendered pages.
    path("", include("webapp.review.page_urls")),
    path("", include("webapp.catalogue.page_urls")),
    path("", include("webapp.jobs.page_urls")),
    path("", include("webapp.live.page_urls")),
    path("", include("webapp.notifications.page_urls")),
]
