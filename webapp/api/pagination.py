"""Page-number pagination: ``?page=2&page_size=100`` (at most MAX_PAGE_SIZE rows a page).

Both numbers are checked before the query: a malformed or out-of-range one is a 400 naming it
(DRF would fall back to the default page size, or hand a 40-digit page number to the database);
a well-formed page past the last one is a 404, as in DRF.
"""

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_NUMBER = 2**31 - 1


def whole_number_param(request, name: str, high: int) -> int:
    """The query parameter ``name`` as a whole number from 1 to ``high``; else a 400 naming it."""
    raw = request.query_params[name]
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= len(str(high)) else None
    if value is None or not 1 <= value <= high:
        raise serializers.ValidationError({name: [f"Must be a whole number from 1 to {high}, not {raw[:40]!r}."]})
    return value


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        if request.query_params.get(self.page_size_query_param, "") == "":
            return self.page_size
        return whole_number_param(request, self.page_size_query_param, self.max_page_size)

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param, "") in ("", *self.last_page_strings):
            return super().get_page_number(request, paginator)
        return whole_number_param(request, self.page_query_param, MAX_PAGE_NUMBER)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.page_query_param: MAX_PAGE_NUMBER, self.page_size_query_param: self.max_page_size}
        for parameter in parameters:
            if parameter["name"] in bounds:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": bounds[parameter["name"]]}
        return parameters
