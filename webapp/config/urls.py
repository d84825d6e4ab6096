"""Top-level routes. Each area owns its own url module; this file only mounts them."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # REST resources (router) and the ingest endpoints under films.
    path("api/", include("webapp.config.api_urls")),
    path("api/", include("webapp.jobs.ingest_urls")),
    path("api/", include("webapp.jobs.urls")),
    path("api/", include("webapp.catalogue.urls")),
    path("api/", include("webapp.colour.urls")),
    path("api/", include("webapp.live.api_urls")),
    path("api/", include("webapp.delivery.urls")),
    # Server-rendered pages.
    path("", include("webapp.review.page_urls")),
    path("", include("webapp.catalogue.page_urls")),
    path("", include("webapp.jobs.page_urls")),
    path("", include("webapp.live.page_urls")),
    path("", include("webapp.notifications.page_urls")),
    path("", include("webapp.delivery.page_urls")),
]
