"""The live sessions' guests, as the catalogue's access rules see them (``catalogue.access.GuestAccess``,
registered in ``LiveConfig.ready``): a ``GuestInvite`` makes its user a guest, who takes part in the
versions of the session's playlist while the invitation admits them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from webapp.catalogue.models import ShotVersion
from webapp.live.models import GuestInvite


class LiveGuestAccess:
    def versions(self, user: AbstractBaseUser) -> QuerySet[ShotVersion]:
        sessions = GuestInvite.objects.admitting().filter(user_id=user.pk).values("session_id")
        return ShotVersion.objects.filter(review_sessions__in=sessions)

    def invite_of(self, user: AbstractBaseUser) -> GuestInvite | None:
        try:
            return user.guest_invite
        except ObjectDoesNotExist:
            return None
