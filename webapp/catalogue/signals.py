"""What the catalogue tells the areas above it, which it does not import (review, notifications, live...).

Each signal is sent once the writing transaction has committed, so a receiver never hears of a write
that was rolled back; each receiver runs on its own (``send_robust``): one that fails is logged and
neither undoes the write nor keeps the others from running.

- ``version_published`` (``sender=ShotVersion``, ``version=``): a version became reviewable
  (published by hand or by a restore job).
- ``membership_removed`` (``sender=Membership``, ``film_id=``, ``user_id=``, ``role=``): a member left
  the film (removed by an archivist or staff). What was open to them because of it (sockets, live
  sessions) should close; what they decided stays recorded.
- ``invitation_sent`` (``sender=Invitation``, ``invitation=``): an invitation to join a film reached
  an account (one that named no account sends nothing).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.dispatch import Signal

from webapp.catalogue.models import Invitation, Membership, ShotVersion

logger = logging.getLogger(__name__)

version_published = Signal()
membership_removed = Signal()
invitation_sent = Signal()


def version_published_send_on_commit(*, version: ShotVersion, using: str = DEFAULT_DB_ALIAS) -> None:
    """Send ``version_published`` once the current transaction commits (at once outside one)."""
    _send_on_commit(version_published, "version_published", ShotVersion, f"version {version.pk}", using=using,
                    version=version)


def membership_removed_send_on_commit(*, membership: Membership, using: str = DEFAULT_DB_ALIAS) -> None:
    """Send ``membership_removed`` for a deleted membership once the current transaction commits."""
    _send_on_commit(membership_removed, "membership_removed", Membership,
                    f"user {membership.user_id} on film {membership.film_id}",
                    using=using, film_id=membership.film_id, user_id=membership.user_id, role=membership.role)


def invitation_sent_send_on_commit(*, invitation: Invitation, using: str = DEFAULT_DB_ALIAS) -> None:
    """Send ``invitation_sent`` once the current transaction commits."""
    _send_on_commit(invitation_sent, "invitation_sent", Invitation, f"invitation {invitation.pk}", using=using,
                    invitation=invitation)


def _send_on_commit(signal: Signal, name: str, sender: type, what: str, *, using: str, **kwargs: Any) -> None:
    transaction.on_commit(lambda: _send_robust(signal, name, sender, what, **kwargs), using=using, robust=True)


def _send_robust(signal: Signal, name: str, sender: type, what: str, **kwargs: Any) -> None:
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            logger.error(
                "A receiver of %s (%s) failed for %s", name,
                getattr(receiver, "__qualname__", receiver), what, exc_info=result,
            )
