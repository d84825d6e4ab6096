"""Query-string filters shared by every list: ordering that refuses fields outside its allow-list
instead of silently ignoring them, and id/number filters bounded to their column's range."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.backends.base.operations import BaseDatabaseOperations
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from drf_spectacular.drainage import set_override
from rest_framework import serializers
from rest_framework.filters import OrderingFilter


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=year,-title``; each name must be in the view's ``ordering_fields``."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if not raw:
            return self.get_default_ordering(view)
        allowed = [name for name, _label in self.get_valid_fields(queryset, view, {"request": request})]
        requested = [term.strip() for term in raw.split(",") if term.strip()]
        unknown = [term for term in requested if term.lstrip("-") not in allowed]
        if unknown:
            raise serializers.ValidationError(
                {self.ordering_param: [f"Cannot order by {', '.join(unknown)}; allowed: {', '.join(allowed)}."]}
            )
        # A stable tiebreak so pages never repeat or skip rows.
        return [*requested, "pk"] if "pk" not in requested and "id" not in requested else requested


# The range of each integer column: a number outside it can match no row, and passing it on would
# overflow the database's integer (a 500 on SQLite) instead of telling the client.
INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges
# Filters computed by a method (no column of their own) take a 32-bit integer.
DEFAULT_INTEGER_RANGE = INTEGER_RANGES["IntegerField"]


def _integer_range(model, field_name: str) -> tuple[int, int]:
    field = get_model_field(model, field_name) if model is not None else None
    if field is None:
        return DEFAULT_INTEGER_RANGE
    is_id = field.primary_key or field.is_relation
    while field.is_relation:  # a foreign key holds its target's key
        field = field.target_field
    low, high = INTEGER_RANGES.get(field.get_internal_type(), DEFAULT_INTEGER_RANGE)
    return (max(low, 1) if is_id else low), high


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (``NumberFilter`` takes any decimal up to 1e50)."""

    field_class = forms.IntegerField

    def get_max_validator(self):
        return None


# Arguments of a ModelChoiceFilter that an integer field does not take.
_CHOICE_ONLY_ARGUMENTS = ("queryset", "to_field_name", "empty_label", "null_label", "null_value")


def _bounded(filter_: django_filters.Filter, model) -> IntegerFilter:
    """The same filter taking a whole number in its column's range: ``1.5``, ``1e30`` or an id past
    the largest key is a 400 naming the parameter, never a query."""
    low, high = _integer_range(model, filter_.field_name)
    extra = {key: value for key, value in filter_.extra.items() if key not in _CHOICE_ONLY_ARGUMENTS}
    bounded = IntegerFilter(field_name=filter_.field_name, lookup_expr=filter_.lookup_expr, label=filter_._label,
                            method=filter_.method, distinct=filter_.distinct, exclude=filter_.exclude,
                            **{**extra, "min_value": low, "max_value": high})
    if hasattr(filter_, "model"):
        bounded.model = filter_.model
    set_override(bounded, "field", {"type": "integer", "minimum": low, "maximum": high})
    return bounded


INTEGER_FILTERS = (django_filters.NumberFilter, django_filters.ModelChoiceFilter)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, with every numeric or id filter (``?film=``, ``?frame_min=``) an
    integer in its column's range, for all views at once. A malformed filter is a 400 before any
    query runs (``raise_exception``), naming the parameter."""

    # One bounded class per FilterSet (or per view's ``filterset_fields``, for which django-filter
    # builds a new class on every call).
    _bounded_classes: dict[object, type] = {}

    def get_filterset_class(self, view, queryset=None):
        key = getattr(view, "filterset_class", None) or (type(view), tuple(getattr(view, "filterset_fields", ()) or ()))
        if key not in self._bounded_classes:
            filterset_class = super().get_filterset_class(view, queryset)
            if filterset_class is None:
                return None
            bounded = type(filterset_class.__name__, (filterset_class,), {"__module__": filterset_class.__module__})
            model = filterset_class._meta.model
            bounded.base_filters = {
                name: _bounded(filter_, model) if isinstance(filter_, INTEGER_FILTERS) else filter_
                for name, filter_ in filterset_class.base_filters.items()
            }
            self._bounded_classes[key] = bounded
        return self._bounded_classes[key]
