"""Ordering that refuses fields outside its allow-list instead of silently ignoring them."""

from __future__ import annotations

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
