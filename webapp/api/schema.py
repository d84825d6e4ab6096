"""The OpenAPI generator of the API (``DEFAULT_SCHEMA_CLASS``): drf-spectacular's, plus what
``@idempotent`` endpoints accept and answer, documented once here for all of them."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter

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

_ERROR_BODY = {"application/json": {"schema": {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}}}

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

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None and self._accepts_idempotency_key():
            responses = operation["responses"]
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {})[REPLAYED_HEADER] = {
                        "description": "`true` when this is the stored answer to an earlier request "
                                       "with the same Idempotency-Key",
                        "schema": {"type": "string", "enum": ["true"]},
                    }
            for code, description in IDEMPOTENCY_RESPONSES.items():
                responses.setdefault(code, {"description": description, "content": _ERROR_BODY})
        return operation
