"""Websocket routes of every app, gathered in one list."""

from webapp.jobs.routing import websocket_urlpatterns as job_websocket_urlpatterns

websocket_urlpatterns: list = [*job_websocket_urlpatterns]
