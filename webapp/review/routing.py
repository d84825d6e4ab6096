"""Websocket routes of review: frames of a shot, a shot's live comments and decisions."""

from django.urls import path

from webapp.review.consumers import ShotConsumer

websocket_urlpatterns: list = [
    path("ws/shots/<int:shot_id>/", ShotConsumer.as_asgi()),
]
