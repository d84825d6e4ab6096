"""Reads of notifications: only the user's own, and only for films they can still see (or are invited to)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from webapp.catalogue.access import visible_films
from webapp.notifications.models import Notification, NotificationKind


def notification_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    # An invitation is about a film the recipient is not a member of yet: theirs to see all the same.
    return Notification.objects.filter(
        Q(film__in=visible_films(user=user).values("pk")) | Q(kind=NotificationKind.INVITATION),
        recipient_id=user.pk,
    ).select_related("film", "shot", "version", "comment")


def notification_unread_count(*, user: AbstractBaseUser | AnonymousUser) -> int:
    return notification_list(user=user).filter(read_at__isnull=True).count()
