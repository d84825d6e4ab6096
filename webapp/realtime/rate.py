"""How fast a client may send on one socket: a token bucket, and a flood threshold that ends the socket.

``MessageRate(per_second, burst, flood)``: a socket starts with ``burst`` tokens, each message takes
one, and tokens come back at ``per_second`` up to ``burst``. A message without a token is refused
(the client is told, the message is dropped); a client that has had ``flood`` messages refused
since its bucket was last full (it kept sending faster than the rate, never pausing long enough
to refill) is flooding, and its socket is closed.

Time is an integer count of nanoseconds (``time.monotonic_ns()``), passed in by the caller, and
tokens are counted in billionths: every step is exact integer arithmetic, so a bucket at 10 per
second has exactly one token back after exactly 100 ms (floating-point seconds would give
0.1 * 10 = 0.9999... on some paths, and refuse).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

NANOS_PER_SECOND = 1_000_000_000
# A token in billionths: a bucket gains ``per_second`` of these per nanosecond.
TOKEN = NANOS_PER_SECOND


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    REFUSED = "refused"  # over the rate: drop the message and tell the client
    FLOOD = "flood"  # over the rate for too long: close the socket


@dataclass(frozen=True)
class MessageRate:
    """The limits of one kind of socket: ``per_second`` messages sustained, ``burst`` at once,
    ``flood`` refusals (without a pause long enough to refill) before the socket is closed."""

    per_second: int
    burst: int
    flood: int

    def __post_init__(self):
        for name in ("per_second", "burst", "flood"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"MessageRate.{name} must be a positive integer; got {value!r}.")


class TokenBucket:
    """One socket's bucket (module doc). ``take(now=...)`` with ``now`` in integer nanoseconds from
    any fixed origin (``time.monotonic_ns()``); a clock that goes back is treated as standing still."""

    def __init__(self, rate: MessageRate, *, now: int):
        self.rate = rate
        self.capacity = rate.burst * TOKEN
        self.tokens = self.capacity
        self.updated = _nanoseconds(now)
        self.refused = 0  # messages refused since the bucket was last full

    def take(self, *, now: int) -> Verdict:
        self._refill(_nanoseconds(now))
        if self.tokens >= TOKEN:
            self.tokens -= TOKEN
            return Verdict.ALLOWED
        self.refused += 1
        return Verdict.FLOOD if self.refused >= self.rate.flood else Verdict.REFUSED

    def _refill(self, now: int) -> None:
        elapsed = now - self.updated
        if elapsed <= 0:
            return
        self.updated = now
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate.per_second)
        if self.tokens == self.capacity:
            self.refused = 0


def _nanoseconds(now: int) -> int:
    # Integers only: a float here would bring back the rounding this class exists to avoid.
    if isinstance(now, bool) or not isinstance(now, int):
        raise TypeError(f"now must be an integer count of nanoseconds (time.monotonic_ns()); got {now!r}.")
    return now
