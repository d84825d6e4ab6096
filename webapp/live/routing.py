"""Websocket routes of live review sessions."""

from django.urls import path

from webapp.live.consumers import SessionConsumer

websocket_urlpatterns: list = [
    path("ws/sessions/<int:session_id>/", SessionConsumer.as_asgi()),
]
