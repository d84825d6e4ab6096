"""Notifications' receivers of the catalogue's signals (connected in ``NotificationsConfig.ready``)."""

from __future__ import annotations

from django.db import transaction

from webapp.catalogue.models import Invitation, ShotVersion
from webapp.catalogue.signals import invitation_sent, version_published
from webapp.notifications.services import notify_invitation, notify_version_ready


def _version_published(sender, version: ShotVersion, **kwargs) -> None:
    # The film's deciders hear of it (the signal comes after the publish committed: these rows
    # are written, and pushed, in a transaction of their own).
    with transaction.atomic():
        notify_version_ready(version=version)


def _invitation_sent(sender, invitation: Invitation, **kwargs) -> None:
    with transaction.atomic():
        notify_invitation(invitation=invitation)


def connect() -> None:
    version_published.connect(_version_published, sender=ShotVersion, dispatch_uid="notifications.version_ready")
    invitation_sent.connect(_invitation_sent, sender=Invitation, dispatch_uid="notifications.invitation")
