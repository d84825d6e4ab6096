"""What the catalogue tells the areas above it, which it does not import (review, notifications...).

``version_published`` (``sender=ShotVersion``, ``version=``): a version became reviewable (published by
hand or by a restore job). It is sent once the publishing transaction has committed, so a receiver
never hears of a version that was rolled back; each receiver runs on its own (``send_robust``): one
that fails is logged and neither undoes the publish nor keeps the others from running.
"""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, transaction
from django.dispatch import Signal

from webapp.catalogue.models import ShotVersion

logger = logging.getLogger(__name__)

version_published = Signal()


def version_published_send_on_commit(*, version: ShotVersion, using: str = DEFAULT_DB_ALIAS) -> None:
    """Send ``version_published`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _send_robust(version), using=using, robust=True)


def _send_robust(version: ShotVersion) -> None:
    for receiver, result in version_published.send_robust(sender=ShotVersion, version=version):
        if isinstance(result, Exception):
            logger.error(
                "A receiver of version_published (%s) failed for version %s",
                getattr(receiver, "__qualname__", receiver), version.pk, exc_info=result,
            )
