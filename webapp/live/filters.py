"""Query-string filters of live sessions."""

from __future__ import annotations

import django_filters

from webapp.live.models import ReviewSession


class ReviewSessionFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="film_id")
    active = django_filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull", label="Not ended")

    class Meta:
        model = ReviewSession
        fields = ["film", "active"]
