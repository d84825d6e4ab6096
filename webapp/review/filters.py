"""Query-string filters of comments and decisions."""

from __future__ import annotations

import django_filters
from django.db.models.functions import Coalesce

from webapp.review.models import Comment, Decision, Verdict


class CommentFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="version__shot__film_id")
    shot = django_filters.NumberFilter(field_name="version__shot_id")
    version = django_filters.NumberFilter(field_name="version_id")
    frame_min = django_filters.NumberFilter(method="filter_frame_min", label="Comments reaching frame >= this")
    frame_max = django_filters.NumberFilter(method="filter_frame_max", label="Comments starting at frame <= this")
    resolved = django_filters.BooleanFilter()
    author = django_filters.CharFilter(field_name="author__username")

    class Meta:
        model = Comment
        fields = ["film", "shot", "version", "frame_min", "frame_max", "resolved", "author"]

    # A comment covers frame..frame_end (or just frame); it matches a range when they overlap.
    def filter_frame_min(self, queryset, name, value):
        return queryset.alias(last_frame=Coalesce("frame_end", "frame")).filter(last_frame__gte=value)

    def filter_frame_max(self, queryset, name, value):
        return queryset.filter(frame__lte=value)


class DecisionFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="version__shot__film_id")
    shot = django_filters.NumberFilter(field_name="version__shot_id")
    version = django_filters.NumberFilter(field_name="version_id")
    verdict = django_filters.MultipleChoiceFilter(choices=Verdict.choices, distinct=False)

    class Meta:
        model = Decision
        fields = ["film", "shot", "version", "verdict"]
