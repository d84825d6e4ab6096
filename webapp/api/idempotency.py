"""``Idempotency-Key``: a write that a client retries is done once, and every repeat gets the
first answer (docs/API.md "Retries"; cf. Stripe's idempotency keys and the IETF draft "The
Idempotency-Key HTTP Header Field").

Put ``@idempotent`` on the handler of a create endpoint (a ViewSet's ``create``, an APIView's
``post``); the schema (``webapp/api/schema.py``) then documents the header and its answers.

- No header: the handler runs exactly as without the decorator.
- First request with a key: the key is claimed (a committed ``in_progress`` row), then the handler
  runs in a transaction that also stores its answer, so the rows it creates and the answer commit
  together or not at all. Only a 2xx answer is stored; any other answer, or an exception, frees
  the key, so a corrected or later retry runs again (a 4xx here changed nothing, and its outcome
  may change: a role granted, a version published).
- Repeat (same user, key, method, path and body): the stored status and body, with
  ``Idempotent-Replayed: true``; the handler does not run.
- Same key, other method, path or body: 422. Same key while the first request runs: 409.
- A malformed key: 400 naming the problem. Keys are per user and expire after 24 h.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from webapp.api import services
from webapp.api.models import KEY_MAX_LENGTH, IdempotencyState

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MARK = "accepts_idempotency_key"


class IdempotencyKeyInvalid(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


def idempotency_key_parse(raw: str) -> str:
    """The key in a header value: 1 to 255 printable ASCII characters (a UUID is the usual choice).
    The IETF draft's quoted form (``"abc"``, a structured-field string) means the same as ``abc``."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not value:
        raise IdempotencyKeyInvalid(f"{HEADER}: the key is empty; send 1 to {KEY_MAX_LENGTH} printable ASCII characters.")
    if len(value) > KEY_MAX_LENGTH:
        raise IdempotencyKeyInvalid(f"{HEADER}: the key has {len(value)} characters; at most {KEY_MAX_LENGTH}.")
    for position, char in enumerate(value, start=1):
        if not " " <= char <= "~":
            raise IdempotencyKeyInvalid(
                f"{HEADER}: character {position} ({char!r}) is not printable ASCII; "
                "use letters, digits and punctuation (a UUID, for example)."
            )
    return value


def request_body_hash(data: Any) -> str:
    """SHA-256 of the parsed body as canonical JSON (keys sorted, no spaces): the same request
    re-serialised by a client (another key order, other whitespace) has the same hash."""
    canonical = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _as_json(data: Any) -> Any:
    """The answer's data as plain JSON values (dates, decimals, UUIDs as DRF renders them)."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _replay(record) -> Response:
    return Response(record.response_body, status=record.response_status, headers={REPLAYED_HEADER: "true"})


def idempotent(handler: Callable) -> Callable:
    """Decorate a view handler ``(self, request, *args, **kwargs) -> Response`` that creates
    something, so that it honours ``Idempotency-Key`` (module docstring)."""

    @functools.wraps(handler)
    def run(view, request, *args, **kwargs):
        raw = request.headers.get(HEADER)
        if raw is None or not request.user.is_authenticated:
            return handler(view, request, *args, **kwargs)
        key = idempotency_key_parse(raw)
        record = services.idempotency_claim(
            user=request.user, key=key, method=request.method, path=request.get_full_path(),
            request_hash=request_body_hash(request.data),  # a body that does not parse is a 400 here
        )
        if record.state == IdempotencyState.COMPLETED:
            return _replay(record)
        try:
            with transaction.atomic():
                services.idempotency_hold(record=record)
                response = handler(view, request, *args, **kwargs)
                if status.is_success(response.status_code):
                    services.idempotency_complete(record=record, response_status=response.status_code,
                                                  response_body=_as_json(getattr(response, "data", None)))
                else:
                    services.idempotency_release(record=record)
                return response
        except BaseException:
            # Rolled back: nothing of the request is stored, so its key must not be either.
            try:
                services.idempotency_release(record=record)
            except Exception:  # noqa: BLE001 - the key frees itself after the in-flight timeout
                logger.warning("Could not release Idempotency-Key %r of user %s", key, request.user.pk, exc_info=True)
            raise

    setattr(run, MARK, True)
    return run


def accepts_idempotency_key(handler: Callable | None) -> bool:
    return bool(getattr(handler, MARK, False))
