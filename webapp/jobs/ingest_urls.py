"""Ingest routes, mounted under /api/ by webapp/config/urls.py."""

from django.urls import path

from webapp.jobs.ingest_apis import AssetRegisterApi, AssetUploadApi

urlpatterns = [
    path("films/<id:film_id>/assets/upload/", AssetUploadApi.as_view(), name="film-asset-upload"),
    path("films/<id:film_id>/assets/register/", AssetRegisterApi.as_view(), name="film-asset-register"),
]
