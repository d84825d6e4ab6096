"""Reads of review data. Every queryset starts from ``access.visible_films(user)``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from webapp.catalogue.access import visible_films
from webapp.review.models import Comment, Decision

User = AbstractBaseUser | AnonymousUser


def comment_list(*, user: User) -> QuerySet[Comment]:
    return Comment.objects.filter(version__shot__film__in=visible_films(user=user).values("pk")).select_related(
        "version__shot", "author"
    )


def decision_list(*, user: User) -> QuerySet[Decision]:
    return Decision.objects.filter(version__shot__film__in=visible_films(user=user).values("pk")).select_related(
        "version__shot", "reviewer"
    )
