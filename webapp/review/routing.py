"""Websocket routes of review: frames of a shot, a shot's live comments and decisions."""

from django.urls import path

from webapp.review.consumers import ShotConsumer
from webapp.review.frame_consumer import FrameConsumer

websocket_urlpatterns: list = [
    path("ws/shots/<int:shot_id>/frames/", FrameConsumer.as_asgi()),
    path("ws/shots/<int:shot_id>/", ShotConsumer.as_asgi()),
]
