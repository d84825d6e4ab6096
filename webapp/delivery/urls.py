"""Delivery endpoints under a film (mounted at /api/); deliverables are in the API router."""

from django.urls import path

from webapp.delivery.apis import FilmDeliverView

urlpatterns = [
    path("films/<id:film_id>/deliver/", FilmDeliverView.as_view(), name="film-deliver"),
]
