"""Server-rendered page of notifications."""

from django.urls import path

from webapp.notifications.pages import notifications_page

urlpatterns = [
    path("notifications/", notifications_page, name="notifications"),
]
