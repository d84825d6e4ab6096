"""The e-mail of a notification: a plain-text body with an HTML alternative, linking to the page
the notification leads to (absolute, from SITE_URL). Sent by ``services.notification_email_send``
in the Celery task of ``tasks.py``, named here so that services can send it without importing it."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from webapp.notifications.models import Notification, NotificationSettings
from webapp.notifications.serializers import notification_path

EMAIL_TASK = "webapp.notifications.tasks.notification_email_send"
SETTINGS_PATH = "/notifications/#notification-settings"
SUBJECT_CHARS = 150

def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def email_message(notification: Notification) -> EmailMultiAlternatives:
    context = {
        "notification": notification,
        "kind": notification.get_kind_display(),
        "film_title": notification.film.title,
        "url": absolute_url(notification_path(notification)),
        "settings_url": absolute_url(SETTINGS_PATH),
        # Why they get it: the switch that let it out, as the settings form words it.
        "reason": NotificationSettings.label(NotificationSettings.FIELD_OF_KIND[notification.kind]),
    }
    # One line, whatever the film's title holds: a header may not break.
    subject = " ".join(f"{notification.film.title}: {notification.get_kind_display()}".split())[:SUBJECT_CHARS]
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string("notifications/email/notification.txt", context),
        to=[notification.recipient.email],
    )
    message.attach_alternative(render_to_string("notifications/email/notification.html", context), "text/html")
    return message
