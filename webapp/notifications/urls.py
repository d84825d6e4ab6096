"""Notifications' API routes outside the router (mounted at /api/): the user's own e-mail settings."""

from django.urls import path

from webapp.notifications.apis import NotificationSettingsView

urlpatterns = [
    path("me/notification-settings/", NotificationSettingsView.as_view(), name="notification-settings"),
]
