"""Websocket routes of review: frames of a shot, a shot's live comments and decisions."""

from django.urls import path  # noqa: F401 - the review consumers add their routes here

websocket_urlpatterns: list = []
