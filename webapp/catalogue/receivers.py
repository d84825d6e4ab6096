"""The catalogue's own receivers: deleting rows frees their files, and a deleted membership (by the
service, the admin or a cascade) is announced (``membership_removed``, after the commit). Receivers, not ``delete()``
overrides: Django deletes the rows of a cascade (film -> assets, shot -> versions) without calling
their ``delete()``, but it sends ``post_delete`` for each. Connected in ``CatalogueConfig.ready``;
the work is in ``services``.

Open websockets hear of a membership's change or removal (however it happens: a service, the
admin, a cascade) and of a logout, and check their user's access again (``webapp.realtime.access``).
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_out
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save

from webapp.catalogue.models import Film, MediaAsset, Membership, ShotVersion
from webapp.catalogue.services import asset_files_remove_on_commit, version_media_delete
from webapp.catalogue.signals import membership_removed_send_on_commit
from webapp.realtime import user_access_changed_on_commit
from webapp.realtime.access import user_logged_out_close_sockets


def _asset_deleted(sender, instance: MediaAsset, using: str, **kwargs) -> None:
    asset_files_remove_on_commit(asset=instance, using=using)


def _version_deleted(sender, instance: ShotVersion, using: str, origin=None, **kwargs) -> None:
    # A film's deletion takes its assets with it in the same cascade.
    if isinstance(origin, Film) or (isinstance(origin, QuerySet) and origin.model is Film):
        return
    version_media_delete(version=instance)


def _membership_changed(sender, instance: Membership, created: bool = False, **kwargs) -> None:
    if not created:  # a new membership takes nothing away from any open socket
        user_access_changed_on_commit(user_id=instance.user_id)
def _membership_deleted(sender, instance: Membership, using: str, **kwargs) -> None:
    membership_removed_send_on_commit(membership=instance, using=using)


def connect() -> None:
    post_save.connect(_membership_changed, sender=Membership, dispatch_uid="catalogue.membership_saved_sockets")
    post_delete.connect(_membership_changed, sender=Membership, dispatch_uid="catalogue.membership_deleted_sockets")
    user_logged_out.connect(user_logged_out_close_sockets, dispatch_uid="realtime.logged_out_sockets")
    post_delete.connect(_asset_deleted, sender=MediaAsset, dispatch_uid="catalogue.asset_files_remove")
    post_delete.connect(_version_deleted, sender=ShotVersion, dispatch_uid="catalogue.version_media_delete")
    post_delete.connect(_membership_deleted, sender=Membership, dispatch_uid="catalogue.membership_removed")
