"""Websocket routes of the catalogue: a film's events (its jobs, shot statuses, new versions)."""

from django.urls import path

from webapp.catalogue.consumers import FilmConsumer

websocket_urlpatterns = [
    path("ws/films/<int:film_id>/", FilmConsumer.as_asgi()),
]
