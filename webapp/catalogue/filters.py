"""Query-string filters of catalogue lists. Ids filter by number (an id you cannot see simply
matches nothing, exactly like an id that does not exist)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from webapp.catalogue.models import (
    Film,
    FilmStatus,
    Invitation,
    InvitationStatus,
    Membership,
    Role,
    Shot,
    ShotStatus,
    ShotVersion,
    VersionStatus,
)


class FilmFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=FilmStatus.choices, distinct=False)
    year = django_filters.NumberFilter()
    year_min = django_filters.NumberFilter(field_name="year", lookup_expr="gte")
    year_max = django_filters.NumberFilter(field_name="year", lookup_expr="lte")
    decade = django_filters.NumberFilter(method="filter_decade", label="Decade, e.g. 1920 for 1920-1929")
    director = django_filters.CharFilter(field_name="directors", lookup_expr="icontains")

    class Meta:
        model = Film
        fields = ["status", "year", "year_min", "year_max", "decade", "director"]

    def filter_decade(self, queryset, name, value):
        start = int(value) // 10 * 10
        return queryset.filter(year__gte=start, year__lte=start + 9)


class MembershipFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="film_id")
    user = django_filters.CharFilter(field_name="user__username")
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["film", "user", "role"]


class InvitationFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="film_id")
    status = django_filters.ChoiceFilter(choices=InvitationStatus.choices)
    mine = django_filters.BooleanFilter(method="filter_mine", help_text="Only those addressed to you")

    class Meta:
        model = Invitation
        fields = ["film", "status", "mine"]

    def filter_mine(self, queryset, name, value):
        mine = Q(user_id=self.request.user.pk)
        return queryset.filter(mine) if value else queryset.exclude(mine)


class ShotFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="film_id")
    status = django_filters.MultipleChoiceFilter(choices=ShotStatus.choices, distinct=False)
    number_min = django_filters.NumberFilter(field_name="number", lookup_expr="gte")
    number_max = django_filters.NumberFilter(field_name="number", lookup_expr="lte")

    class Meta:
        model = Shot
        fields = ["film", "status", "number_min", "number_max"]


class ShotVersionFilter(django_filters.FilterSet):
    film = django_filters.NumberFilter(field_name="shot__film_id")
    shot = django_filters.NumberFilter(field_name="shot_id")
    status = django_filters.MultipleChoiceFilter(choices=VersionStatus.choices, distinct=False)

    class Meta:
        model = ShotVersion
        fields = ["film", "shot", "status"]
