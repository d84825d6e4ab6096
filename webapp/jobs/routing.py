"""Websocket routes of jobs: one job's progress, and a film's events (jobs, shots, versions)."""

from django.urls import path

from webapp.catalogue.consumers import FilmConsumer
from webapp.jobs.consumers import JobConsumer

websocket_urlpatterns = [
    path("ws/jobs/<int:job_id>/", JobConsumer.as_asgi()),
    path("ws/films/<int:film_id>/", FilmConsumer.as_asgi()),
]
