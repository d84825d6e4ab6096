"""One JSON error shape for every API error: DRF's ``{"detail": ...}``, with a code and fields.

    {"detail": "title: This field is required.", "code": "invalid",
     "fields": {"title": ["This field is required."]}}

``detail`` is one line for a person (as in DRF, so hand-written ``{"detail": ...}`` responses
and DRF clients keep working); ``code`` is a stable machine-readable string (DRF's codes:
``invalid``, ``parse_error``, ``not_authenticated``, ``authentication_failed``,
``permission_denied``, ``not_found``, ``method_not_allowed``, ``unsupported_media_type``,
``request_too_large``, ``throttled``); ``fields`` appears on validation errors only and maps each
offending field (or ``non_field_errors``) to its messages. Services raise Django's
``ValidationError`` / ``PermissionDenied`` (they know nothing of DRF); they end up here too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


class RequestBodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, RequestDataTooBig):
        # DRF reads JSON through request.body, where Django enforces the limit; without this the
        # client would get Django's HTML 400 page.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return RequestBodyTooLarge(
            f"Request body is larger than {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE). "
            "Send media files to the ingest endpoints, not inside JSON."
        )
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(detail=as_serializer_error(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(detail=str(exc) or None)
    return exc


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _validation_body(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        fields = detail
    else:
        fields = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
    parts = []
    for name, messages in fields.items():
        text = " ".join(_flatten(messages))
        label = name or '""'  # an empty key in the body
        parts.append(text if name == "non_field_errors" else f"{label}: {text}")
    return {"detail": " ".join(parts) or "Invalid input.", "code": "invalid", "fields": fields}


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        return _validation_body(exc.detail)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return {"detail": " ".join(_flatten(exc.detail)), "code": code}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler (headers, 401 vs 403, rollback) with the body in the shape above."""
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:  # not an API error: let Django report the 500
        return None
    response.data = error_body(exc)
    return response
