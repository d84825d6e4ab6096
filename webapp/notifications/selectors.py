"""Reads of notifications: only the user's own, and only for films they can still see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from webapp.catalogue.access import visible_films
from webapp.notifications.models import Notification


def notification_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(
        recipient_id=user.pk, film__in=visible_films(user=user).values("pk")
    ).select_related("film", "shot", "version", "comment")


def notification_unread_count(*, user: AbstractBaseUser | AnonymousUser) -> int:
    return notification_list(user=user).filter(read_at__isnull=True).count()
