"""Query-string filters of notifications."""

from __future__ import annotations

import django_filters

from webapp.notifications.models import Notification, NotificationKind


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Only unread (true) or read (false)")
    kind = django_filters.MultipleChoiceFilter(choices=NotificationKind.choices, distinct=False)
    film = django_filters.NumberFilter(field_name="film_id")

    class Meta:
        model = Notification
        fields = ["unread", "kind", "film"]
