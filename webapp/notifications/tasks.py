"""The Celery task of notifications: e-mail one notification. Thin: it takes an id and calls
``services.notification_email_send``, which is idempotent (a notification is e-mailed at most once,
recorded with the send), so ``acks_late`` redeliveries and retries are harmless. A failing mail
server (SMTP errors, a refused or timed-out connection) is retried with exponential backoff."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.conf import settings

from webapp.notifications.emails import EMAIL_TASK
from webapp.notifications.services import notification_email_send as send


@shared_task(name=EMAIL_TASK, bind=True, acks_late=True, ignore_result=True,
             max_retries=settings.NOTIFICATION_EMAIL_MAX_RETRIES)
def notification_email_send(self, notification_id: int) -> bool:
    try:
        return send(notification_id=notification_id)
    except (smtplib.SMTPException, OSError) as exc:
        raise self.retry(exc=exc, countdown=settings.NOTIFICATION_EMAIL_RETRY_BACKOFF_S * 2**self.request.retries) from None
