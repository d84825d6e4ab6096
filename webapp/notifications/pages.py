"""The notifications page: the user's notifications, newest first, with links to the shots, and the
form of their e-mail settings (saved through ``/api/me/notification-settings/``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from webapp.notifications import selectors
from webapp.notifications.models import NotificationSettings
from webapp.notifications.serializers import NotificationSerializer

PAGE_ROWS = 200


@login_required
def notifications_page(request: HttpRequest) -> HttpResponse:
    rows = selectors.notification_list(user=request.user)[:PAGE_ROWS]
    notifications = NotificationSerializer(rows, many=True).data
    email = selectors.notification_settings_get(user=request.user)
    return render(request, "notifications/list.html", {
        "notifications": notifications, "unread": selectors.notification_unread_count(user=request.user),
        "email_enabled": email.email_enabled, "email_address": request.user.email,
        "email_switches": [{"name": name, "label": NotificationSettings.label(name), "on": getattr(email, name)}
                           for name in NotificationSettings.KIND_FIELDS],
    })
