"""Reads of notifications: only the user's own, and only for films they can still see (or are invited to);
their e-mail settings, and whether a notification may go out by e-mail."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from webapp.catalogue.access import visible_films
from webapp.catalogue.models import InvitationStatus
from webapp.notifications.models import Notification, NotificationKind, NotificationSettings


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


def notification_settings_get(*, user: AbstractBaseUser) -> NotificationSettings:
    """The user's e-mail settings: their row, or the defaults (unsaved) when they never changed them."""
    found = NotificationSettings.objects.filter(user_id=user.pk).first()
    return found if found is not None else NotificationSettings(user_id=user.pk)


def email_reachable(user: AbstractBaseUser) -> bool:
    return bool(user.is_active and user.email)


def notification_email_wanted(*, notification: Notification, settings: NotificationSettings | None = None) -> bool:
    """Whether the recipient can and wants to get this notification by e-mail: an active account with
    an address, e-mail on for its kind. ``settings``: the recipient's, when the caller has them."""
    if not email_reachable(notification.recipient):
        return False
    settings = settings if settings is not None else notification_settings_get(user=notification.recipient)
    return settings.wants_email(notification.kind)


def notification_still_visible(*, notification: Notification) -> bool:
    """Whether the recipient may still see what the notification is about: a film they are still a
    member of, or an invitation still waiting for their answer."""
    if notification.kind == NotificationKind.INVITATION:
        return notification.invitation.status == InvitationStatus.PENDING
    return notification_list(user=notification.recipient).filter(pk=notification.pk).exists()
