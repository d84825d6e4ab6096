"""Deleting a deliverable deletes its media asset, which frees the file once the delete commits
(``catalogue.receivers``). Connected in ``DeliveryConfig.ready``."""

from __future__ import annotations

from django.db.models.signals import post_delete

from webapp.catalogue.models import MediaAsset
from webapp.delivery.models import Deliverable


def _deliverable_deleted(sender, instance: Deliverable, using: str, **kwargs) -> None:
    # In an asset's own cascade the asset is already going: this deletes nothing more.
    MediaAsset.objects.using(using).filter(pk=instance.asset_id).delete()


def connect() -> None:
    post_delete.connect(_deliverable_deleted, sender=Deliverable, dispatch_uid="delivery.deliverable_asset_delete")
