"""Rate limits, counted in the cache (Redis in production, so every server shares the counts).

- ``WriteRateThrottle``: a view's ``throttle_scope`` rate (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``)
  per user, on writes only: a script gone wild cannot flood comments, decisions or jobs, and
  reading is never slowed.
- ``FailureThrottle``: counts failures (a guest link that opens nothing) per address; once an
  address has had its rate of failures it is refused until the oldest leaves the window, so a
  link cannot be guessed by trying many.
- ``client_address``: the client's address as every limit sees it (django-axes too): the socket's,
  or with ``REST_FRAMEWORK["NUM_PROXIES"]`` trusted proxies, the address they forwarded.

A limit whose cache is unreachable (Redis down) lets requests through, logged: the review keeps
working through a Redis outage (tests/chaos), unlimited for that while.

Failed logins are django-axes' (settings ``AXES_*``; ``webapp/api/lockout.py``).
"""

from __future__ import annotations

import logging
import math

from django.http import HttpRequest
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle, SimpleRateThrottle

logger = logging.getLogger(__name__)
# What Django's Redis cache raises while Redis is unreachable.
CACHE_DOWN = (RedisError, OSError)


def client_address(request: HttpRequest) -> str | None:
    # DRF's rule: X-Forwarded-For is read only with NUM_PROXIES set (0 reads the socket's address).
    return BaseThrottle().get_ident(request)


class WriteRateThrottle(ScopedRateThrottle):
    """The view's ``throttle_scope`` rate per user, for POST/PUT/PATCH/DELETE only."""

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        try:
            return super().allow_request(request, view)
        except CACHE_DOWN as error:
            logger.warning("Write limit %s not applied, its cache is unreachable: %s", self.scope, error)
            return True


class FailureThrottle(SimpleRateThrottle):
    """``rate`` failures per address (a subclass names its ``scope``): ``allow_request`` says whether
    the address may try again, ``record_failure`` counts one more."""

    def get_cache_key(self, request, view=None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}

    def _load(self, request) -> None:
        self.key = self.get_cache_key(request)
        self.now = self.timer()
        self.history = [moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration]

    def allow_request(self, request, view=None) -> bool:
        try:
            self._load(request)
        except CACHE_DOWN as error:
            logger.warning("Failure limit %s not applied, its cache is unreachable: %s", self.scope, error)
            return True
        return len(self.history) < self.num_requests

    def record_failure(self, request) -> None:
        try:
            self._load(request)
            self.throttle_success()  # stores this moment in the history
        except CACHE_DOWN as error:
            logger.warning("Failure limit %s not counted, its cache is unreachable: %s", self.scope, error)

    def wait(self) -> int:
        """Whole seconds until the oldest counted failure leaves the window (after ``allow_request``)."""
        oldest = self.history[-1] if self.history else self.now
        return max(1, math.ceil(self.duration - (self.now - oldest)))


class GuestJoinThrottle(FailureThrottle):
    scope = "guest_join_failures"
