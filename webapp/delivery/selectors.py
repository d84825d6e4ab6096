"""Reads of deliverables. Every queryset starts from ``access.visible_films(user)``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from webapp.catalogue.access import visible_films
from webapp.delivery.models import Deliverable


def deliverable_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Deliverable]:
    return Deliverable.objects.filter(film__in=visible_films(user=user).values("pk")).select_related("asset", "job")
