"""The API's JSON parser: DRF's, refusing bodies nested deeper than ``API_JSON_MAX_DEPTH``.

Python's json module recurses once per level; a 10 KB body of 5,000 ``[`` is a RecursionError (a
500) in it, or deeper in the code that walks the data. The depth is counted on the raw text first,
without recursion, so a too-deep body is a 400 ``parse_error`` before anything parses it. Size is
bounded before this, by Django's DATA_UPLOAD_MAX_MEMORY_SIZE (a 413).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from webapp.json_depth import json_depth_exceeds


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - the body is not {encoding}: {exc}") from exc
        limit = settings.API_JSON_MAX_DEPTH
        if json_depth_exceeds(text, limit):
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels.")
        try:
            # DRF's strict mode: NaN and Infinity are refused, as they are not JSON.
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
