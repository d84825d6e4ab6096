"""Websocket routes of jobs: one job's progress (a film's events are the catalogue's route)."""

from django.urls import path

from webapp.jobs.consumers import JobConsumer

websocket_urlpatterns = [
    path("ws/jobs/<int:job_id>/", JobConsumer.as_asgi()),
]
