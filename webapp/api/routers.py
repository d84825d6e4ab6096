"""Ids in API paths: the ``id`` path converter and the router whose lookups use it.

``/api/films/<id>/`` takes a whole number up to the largest key (BigAutoField, 2**63 - 1); a
longer one, ``1.5`` or ``-1`` matches no route, a 404, never a lookup the database would overflow
on. Every API route with an id, router or not, names it ``<id:...>``.
"""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(f"{value} is not an id")  # no match: 404
        return number

    def to_url(self, value) -> str:
        return str(value)


class ApiRouter(DefaultRouter):
    """A router with path() routes whose lookups are ``<id:pk>`` (a ViewSet may name another
    converter in ``lookup_value_converter``). No ``.json`` suffix routes (``?format=json`` still
    works): in path() form DRF would add them as ``{format}`` paths to the schema."""

    include_format_suffixes = False

    def __init__(self, **kwargs):
        super().__init__(use_regex_path=False, **kwargs)

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        lookup_field = getattr(viewset, "lookup_field", "pk")
        lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
        converter = getattr(viewset, "lookup_value_converter", "id")
        return f"<{converter}:{lookup_prefix}{lookup_url_kwarg}>"
