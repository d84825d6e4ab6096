"""Websocket routes of every app, gathered in one list."""

from webapp.catalogue.routing import websocket_urlpatterns as catalogue_websocket_urlpatterns
from webapp.jobs.routing import websocket_urlpatterns as job_websocket_urlpatterns
from webapp.live.routing import websocket_urlpatterns as live_websocket_urlpatterns
from webapp.notifications.routing import websocket_urlpatterns as notification_websocket_urlpatterns
from webapp.review.routing import websocket_urlpatterns as review_websocket_urlpatterns

websocket_urlpatterns: list = [
    *job_websocket_urlpatterns, *catalogue_websocket_urlpatterns, *review_websocket_urlpatterns, *notification_websocket_urlpatterns,
    *live_websocket_urlpatterns,
]
