"""Reads of the catalogue. Every queryset starts from ``access.visible_films(user)``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery

from webapp.catalogue.access import visible_films
from webapp.catalogue.models import Film, MediaAsset, Membership, Shot, ShotStatus, ShotVersion

User = AbstractBaseUser | AnonymousUser


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated queryset: one number per outer row, with no join fan-out
    (two counts over joins would multiply each other)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _counted)"
    output_field = IntegerField()


def _count(queryset: QuerySet) -> SubqueryCount:
    return SubqueryCount(queryset.order_by().values("pk"))


def film_list(*, user: User) -> QuerySet[Film]:
    """Visible films with ``shot_count``, ``approved_shot_count`` and the user's ``my_role``."""
    shots = Shot.objects.filter(film=OuterRef("pk"))
    my_role = Membership.objects.filter(film=OuterRef("pk"), user_id=user.pk).values("role")[:1]
    return Film.objects.filter(pk__in=visible_films(user=user).values("pk")).annotate(
        shot_count=_count(shots),
        approved_shot_count=_count(shots.filter(status=ShotStatus.APPROVED)),
        my_role=Subquery(my_role),
    )


def membership_list(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(film__in=visible_films(user=user).values("pk")).select_related("user")


def asset_list(*, user: User) -> QuerySet[MediaAsset]:
    return MediaAsset.objects.filter(film__in=visible_films(user=user).values("pk"))


def shot_list(*, user: User) -> QuerySet[Shot]:
    return Shot.objects.filter(film__in=visible_films(user=user).values("pk")).annotate(
        version_count=_count(ShotVersion.objects.filter(shot=OuterRef("pk")))
    )


def version_list(*, user: User) -> QuerySet[ShotVersion]:
    return ShotVersion.objects.filter(shot__film__in=visible_films(user=user).values("pk")).select_related(
        "shot", "author"
    )

