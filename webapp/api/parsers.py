"""JSON parsing that honours DATA_UPLOAD_MAX_MEMORY_SIZE.

Django enforces that limit only when something reads ``request.body``/``request.POST``; DRF's
parsers read the request stream directly, so without this a JSON body of any size would be
read into memory. Large media goes through the ingest endpoints, never through JSON.
"""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework.parsers import JSONParser

from webapp.api.exceptions import RequestBodyTooLarge


def _too_large(limit: int) -> RequestBodyTooLarge:
    return RequestBodyTooLarge(
        f"Request body is larger than {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE). "
        "Send media files to the ingest endpoints, not inside JSON."
    )


class SizeLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or stream is None:
            return super().parse(stream, media_type, parser_context)
        request = (parser_context or {}).get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise _too_large(limit)
        # A body without (or lying about) its length: read one byte past the limit at most.
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise _too_large(limit)
        return super().parse(io.BytesIO(body), media_type, parser_context)
