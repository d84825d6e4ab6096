"""Websocket route of the user's notifications."""

from django.urls import path

from webapp.notifications.consumers import NotificationConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi()),
]
