"""Websocket routes of live review sessions."""

from django.urls import path

from webapp.live.consumers import SessionConsumer
from webapp.live.frame_consumers import SessionFrameConsumer
from webapp.live.shot_consumers import SessionShotConsumer

websocket_urlpatterns: list = [
    path("ws/sessions/<int:session_id>/", SessionConsumer.as_asgi()),
    path("ws/sessions/<int:session_id>/frames/<int:shot_id>/", SessionFrameConsumer.as_asgi()),
    path("ws/sessions/<int:session_id>/shots/<int:shot_id>/", SessionShotConsumer.as_asgi()),
]
