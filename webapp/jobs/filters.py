"""Query-string filters of restoration jobs."""

from __future__ import annotations

import django_filters

from webapp.jobs.models import JobKind, JobStatus, RestorationJob


class RestorationJobFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="film_id")
    shot = django_filters.NumberFilter(field_name="shot_id")
    parent = django_filters.NumberFilter(field_name="parent_id", help_text="The children of this batch job")
    top_level = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", help_text="true: only jobs that are not a batch's children"
    )
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices, distinct=False)
    kind = django_filters.MultipleChoiceFilter(choices=JobKind.choices, distinct=False)

    class Meta:
        model = RestorationJob
        fields = ["film", "shot", "parent", "top_level", "status", "kind"]
