"""Query-string filters of restoration jobs."""

from __future__ import annotations

import django_filters

from webapp.jobs.models import JobKind, JobStatus, RestorationJob


class RestorationJobFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="film_id")
    shot = django_filters.NumberFilter(field_name="shot_id")
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices, distinct=False)
    kind = django_filters.MultipleChoiceFilter(choices=JobKind.choices, distinct=False)

    class Meta:
        model = RestorationJob
        fields = ["film", "shot", "status", "kind"]
