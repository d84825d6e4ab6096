"""Review's receivers of the catalogue's signals (connected in ``ReviewConfig.ready``)."""

from __future__ import annotations

from webapp.catalogue.models import ShotVersion
from webapp.catalogue.signals import version_published
from webapp.review.events import version_created_announce


def _version_published(sender, version: ShotVersion, **kwargs) -> None:
    # Everyone on the shot's page sees the new version appear.
    version_created_announce(version=version)


def connect() -> None:
    version_published.connect(_version_published, sender=ShotVersion, dispatch_uid="review.version_created_announce")
