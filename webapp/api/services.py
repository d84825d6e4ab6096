"""Writes of the API's own rows: idempotency keys (the mechanism that uses them is
``webapp/api/idempotency.py``; docs/API.md "Retries") and tokens.

A key's life: ``idempotency_claim`` commits an ``in_progress`` row before the request runs (a
concurrent repeat sees it: 409); ``idempotency_hold`` locks it again inside the request's own
transaction, where ``idempotency_complete`` stores the answer, so the answer and the request's
rows commit together or not at all; ``idempotency_release`` frees the key of a request that did
not succeed, so that a retry runs again. ``idempotency_expired_delete`` is the sweeper's step.

API tokens: ``token_issue`` gives a user their token (a new one once it expired), ``token_revoke``
deletes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.authtoken.models import Token

from webapp.api.models import IdempotencyRecord, IdempotencyState

CLAIM_ATTEMPTS = 3


class IdempotencyKeyInFlight(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_use"
    default_detail = (
        "A request with this Idempotency-Key is still being processed; retry it in a moment "
        "to get its result."
    )


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


def _ttl() -> timedelta:
    return timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_S)


def _lease() -> timedelta:
    return timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT_S)


def _mismatch(record: IdempotencyRecord, *, method: str, path: str, request_hash: str) -> str | None:
    """Why a repeat is not the request the key was first used for, or None when it is."""
    if (record.method, record.path) != (method, path):
        return (f"This Idempotency-Key was first used for {record.method} {record.path}, not {method} {path}; "
                "use a new key for a new request.")
    if record.request_hash != request_hash:
        return ("This Idempotency-Key was first used with a different request body; "
                "use a new key for a new request, or send the same body to get the first result.")
    return None


def idempotency_claim(
    *, user: AbstractBaseUser, key: str, method: str, path: str, request_hash: str, now: datetime | None = None
) -> IdempotencyRecord:
    """The user's record of ``key`` for this request: a new ``in_progress`` one, committed (the
    caller runs the request), or the ``completed`` one of the same request (the caller answers with
    it). Raises IdempotencyKeyReused (422) when the key was first used for another method, path or
    body, and IdempotencyKeyInFlight (409) while the first request is still running.

    An ``in_progress`` row untouched for ``IDEMPOTENCY_IN_FLIGHT_TIMEOUT_S`` belongs to a request
    whose process died (a failing one releases its key): it is taken over. A record older than
    ``IDEMPOTENCY_KEY_TTL_S`` has expired: the key is free again, as if the sweep had removed it.
    """
    for _attempt in range(CLAIM_ATTEMPTS):
        moment = now or timezone.now()
        # Read first, without locking: inserting over a row that a running request holds would
        # wait for that request on PostgreSQL (its unique check), where the answer is a 409 now.
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            try:
                # The unique (user, key) constraint decides between racing first requests, on
                # SQLite and PostgreSQL alike: one inserts, the others read its row.
                with transaction.atomic():
                    return IdempotencyRecord.objects.create(
                        user=user, key=key, method=method, path=path, request_hash=request_hash,
                        state=IdempotencyState.IN_PROGRESS, locked_at=moment, created_at=moment,
                    )
            except IntegrityError:
                continue
        if existing.created_at < moment - _ttl():
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at__lt=moment - _ttl()).delete()
            continue
        problem = _mismatch(existing, method=method, path=path, request_hash=request_hash)
        if problem is not None:
            raise IdempotencyKeyReused(problem)
        if existing.state == IdempotencyState.COMPLETED:
            return existing
        if existing.locked_at >= moment - _lease():
            raise IdempotencyKeyInFlight()
        taken = IdempotencyRecord.objects.filter(
            pk=existing.pk, state=IdempotencyState.IN_PROGRESS, locked_at=existing.locked_at
        ).update(locked_at=moment)
        if taken:
            existing.locked_at = moment
            return existing
    raise IdempotencyKeyInFlight()


def idempotency_hold(*, record: IdempotencyRecord) -> None:
    """First statement of the request's transaction: lock the claimed row until that transaction
    ends (a row lock on PostgreSQL, the write lock on SQLite), so nothing takes the key over while
    the request runs; 409 if it was taken over already (this request stalled past the lease)."""
    held = IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyState.IN_PROGRESS, locked_at=record.locked_at
    ).update(state=IdempotencyState.IN_PROGRESS)
    if not held:
        raise IdempotencyKeyInFlight()


def idempotency_complete(*, record: IdempotencyRecord, response_status: int, response_body: Any) -> IdempotencyRecord:
    """Store the successful answer (inside the request's transaction, after ``idempotency_hold``)."""
    record.state, record.locked_at = IdempotencyState.COMPLETED, None
    record.response_status, record.response_body = response_status, response_body
    record.save(update_fields=["state", "locked_at", "response_status", "response_body"])
    return record


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Free the key of a request that did not succeed (nothing stored: a retry runs again). Only
    while it is still this request's claim, never a later request's."""
    IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyState.IN_PROGRESS, locked_at=record.locked_at
    ).delete()


def idempotency_expired_delete(*, now: datetime | None = None) -> int:
    """Delete the records older than ``IDEMPOTENCY_KEY_TTL_S`` (except one a request still holds);
    returns how many. The periodic sweep (``webapp/jobs/sweeper.py``) calls it."""
    now = now or timezone.now()
    expired = IdempotencyRecord.objects.filter(created_at__lt=now - _ttl()).exclude(
        state=IdempotencyState.IN_PROGRESS, locked_at__gte=now - _lease()
    )
    deleted, _per_model = expired.delete()
    return deleted


# API tokens (webapp/api/tokens.py): DRF's one token per user, valid API_TOKEN_TTL after it was issued.

def token_expires_at(token: Token) -> datetime:
    return token.created + settings.API_TOKEN_TTL


def token_issue(*, user: AbstractBaseUser, now: datetime | None = None) -> Token:
    """The user's token while it lasts; a new one (with a new key) once it has expired."""
    now = now or timezone.now()
    with transaction.atomic():
        token = Token.objects.select_for_update().filter(user=user).first()
        if token is not None and token_expires_at(token) > now:
            return token
        Token.objects.filter(user=user).delete()
        token, _created = Token.objects.get_or_create(user=user)  # a concurrent first request may win
        return token


def token_revoke(*, user: AbstractBaseUser) -> int:
    """Delete the user's token (every script using it gets 401 from now on); returns how many."""
    deleted, _per_model = Token.objects.filter(user=user).delete()
    return deleted
