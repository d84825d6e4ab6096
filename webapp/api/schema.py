"""The OpenAPI generator of the API (``DEFAULT_SCHEMA_CLASS``): drf-spectacular's, plus, documented
once here for every operation, the errors it can answer (each with the one ``Error`` body of
webapp/api/exceptions.py) and what ``@idempotent`` endpoints accept and answer."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from webapp.api.idempotency import HEADER, REPLAYED_HEADER, accepts_idempotency_key
from webapp.api.models import KEY_MAX_LENGTH

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    description=(
        f"Makes retries safe: 1 to {KEY_MAX_LENGTH} printable ASCII characters (a UUID), new for each "
        "new request and the same for its retries. A repeat with the same key, path and body within "
        "24 hours gets the first successful answer again (with `Idempotent-Replayed: true`) and creates "
        "nothing. Only successes are kept: after an error the same key runs the request again."
    ),
)

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: one line for a person, a stable code, and on validation errors each field's "
                   "messages.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, naming the field or parameter"},
        "code": {"type": "string", "description": "Machine-readable: invalid, parse_error, not_authenticated, "
                 "authentication_failed, permission_denied, not_found, method_not_allowed, "
                 "unsupported_media_type, request_too_large, throttled, ..."},
        "fields": {"type": "object", "additionalProperties": {},
                   "description": "Validation errors only: each offending field or parameter (or non_field_errors) "
                                  "and its messages"},
    },
    "required": ["detail", "code"],
}

IDEMPOTENCY_RESPONSES = {
    "400": "Bad input: the body (`fields` names each problem) or a malformed Idempotency-Key.",
    "409": "`idempotency_key_in_use`: a request with this Idempotency-Key is still running; retry in a moment.",
    "422": "`idempotency_key_reused`: this Idempotency-Key was first used for another path or body.",
}


class AutoSchema(SpectacularAutoSchema):
    def _accepts_idempotency_key(self) -> bool:
        handler_name = getattr(self.view, "action", None) or self.method.lower()
        return accepts_idempotency_key(getattr(self.view, handler_name, None))

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._accepts_idempotency_key():
            return [*parameters, IDEMPOTENCY_KEY_PARAMETER]
        return parameters

    def _error_responses(self, path: str, operation: dict) -> dict[str, str]:
        """The errors this operation can answer, by what it takes: a body, query parameters, an id."""
        has_body = "requestBody" in operation
        has_query = any(parameter["in"] == "query" for parameter in operation.get("parameters", []))
        anonymous = all(issubclass(cls, AllowAny) for cls in self.view.permission_classes)
        paginated = getattr(self.view, "pagination_class", None) is not None and self._is_list_view()
        errors = {}
        if has_body or has_query or self.method != "GET":
            errors["400"] = "Bad input: `detail` and `fields` name each bad field or parameter, or why the object's " \
                            "state does not allow this (`invalid`); a body that is not JSON or is nested too deep " \
                            "(`parse_error`)."
        if not anonymous:
            errors["401"] = "No credentials, or a bad token (`not_authenticated`, `authentication_failed`)."
            errors["403"] = "Your role on the film does not allow this (`permission_denied`)."
        if "{" in path or paginated or has_query or has_body:
            errors["404"] = "An object named in the path, query or body that does not exist or is on a film you " \
                            "are not a member of; a page past the last (`not_found`)."
        if has_body:
            errors["413"] = "The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE (`request_too_large`)."
            errors["415"] = "A body of another content type than those listed (`unsupported_media_type`)."
        if self.view.throttle_classes:
            errors["429"] = "Too many requests: retry after the `Retry-After` header's seconds (`throttled`)."
        return errors

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA)
        registry.register_on_missing(error)
        error_body = {"application/json": {"schema": error.ref}}
        responses = operation["responses"]
        if self._accepts_idempotency_key():
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {})[REPLAYED_HEADER] = {
                        "description": "`true` when this is the stored answer to an earlier request "
                                       "with the same Idempotency-Key",
                        "schema": {"type": "string", "enum": ["true"]},
                    }
            for code, description in IDEMPOTENCY_RESPONSES.items():
                responses.setdefault(code, {"description": description, "content": error_body})
        for code, description in self._error_responses(path, operation).items():
            responses.setdefault(code, {"description": description, "content": error_body})
        for code, response in responses.items():
            if code.startswith(("4", "5")):  # views document the reason; the body is always the same
                response.setdefault("content", error_body)
        return operation
