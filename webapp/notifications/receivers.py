"""Notifications' receivers of the catalogue's signals (connected in ``NotificationsConfig.ready``)."""

from __future__ import annotations

from django.db import transaction

from webapp.catalogue.models import ShotVersion
from webapp.catalogue.signals import version_published
from webapp.notifications.services import notify_version_ready


def _version_published(sender, version: ShotVersion, **kwargs) -> None:
    # The film's deciders hear of it (the signal comes after the publish committed: these rows
    # are written, and pushed, in a transaction of their own).
    with transaction.atomic():
        notify_version_ready(version=version)


def connect() -> None:
    version_published.connect(_version_published, sender=ShotVersion, dispatch_uid="notifications.version_ready")
