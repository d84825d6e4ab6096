"""The per-socket message rate (webapp/realtime/rate.py): a token bucket on integer nanoseconds.

Times are integers chosen to be unambiguous: refills are checked at instants well past the one
that brings a token back (and, exact integer arithmetic being the point of the class, at that
very instant too), never with floating-point seconds.
"""

from __future__ import annotations

import pytest

from webapp.realtime.rate import NANOS_PER_SECOND, MessageRate, TokenBucket, Verdict

MS = NANOS_PER_SECOND // 1000
START = 5_000 * NANOS_PER_SECOND  # any origin: monotonic clocks do not start at 0

ALLOWED, REFUSED, FLOOD = Verdict.ALLOWED, Verdict.REFUSED, Verdict.FLOOD


def bucket(per_second=10, burst=3, flood=5) -> TokenBucket:
    return TokenBucket(MessageRate(per_second=per_second, burst=burst, flood=flood), now=START)


def takes(rate: TokenBucket, count: int, *, now: int) -> list[Verdict]:
    return [rate.take(now=now) for _ in range(count)]


def test_a_full_bucket_allows_its_burst_at_once_then_refuses():
    rate = bucket(burst=3)
    assert takes(rate, 4, now=START) == [ALLOWED, ALLOWED, ALLOWED, REFUSED]


def test_tokens_come_back_at_the_rate():
    rate = bucket(per_second=10, burst=3)
    takes(rate, 3, now=START)
    assert rate.take(now=START + 50 * MS) is REFUSED  # half a token
    assert rate.take(now=START + 150 * MS) is ALLOWED  # one and a half tokens back: one is spent
    assert rate.take(now=START + 160 * MS) is REFUSED  # the half left, and a tenth
    # Three tokens back by 300 ms after the last spend, never more than the burst.
    assert takes(rate, 4, now=START + 2_000 * MS) == [ALLOWED, ALLOWED, ALLOWED, REFUSED]


def test_the_instant_a_token_is_due_it_is_there():
    # 10 a second: exactly 100 ms after emptying, exactly one token (0.1 * 10 in floating point
    # can land just under 1; integer nanoseconds cannot).
    rate = bucket(per_second=10, burst=1)
    assert rate.take(now=START) is ALLOWED
    assert rate.take(now=START + 100 * MS - 1) is REFUSED
    assert rate.take(now=START + 100 * MS) is ALLOWED
    for step in range(1, 1001):  # and again, a thousand times over, without any drift
        assert rate.take(now=START + 100 * MS * (step + 1)) is ALLOWED, step


def test_sustained_overuse_is_a_flood():
    rate = bucket(per_second=10, burst=2, flood=5)
    takes(rate, 2, now=START)
    assert takes(rate, 5, now=START + 1 * MS) == [REFUSED, REFUSED, REFUSED, REFUSED, FLOOD]


def test_refusals_are_forgotten_once_the_client_pauses_long_enough_to_refill():
    rate = bucket(per_second=10, burst=2, flood=5)
    takes(rate, 2, now=START)
    assert takes(rate, 4, now=START) == [REFUSED] * 4
    # A pause of a whole second (well over the 200 ms that refill two tokens): a fresh start.
    later = START + 1_000 * MS
    assert takes(rate, 2, now=later) == [ALLOWED, ALLOWED]
    assert takes(rate, 5, now=later) == [REFUSED, REFUSED, REFUSED, REFUSED, FLOOD]


def test_a_client_just_over_the_rate_keeps_being_refused_until_it_floods():
    # Never idle long enough to fill the bucket: the refusals add up.
    rate = bucket(per_second=10, burst=2, flood=5)
    takes(rate, 2, now=START)
    verdicts = [rate.take(now=START + step * 50 * MS) for step in range(1, 10)]  # 20 a second
    assert verdicts == [REFUSED, ALLOWED] * 4 + [FLOOD]


def test_a_clock_that_goes_back_gives_nothing():
    rate = bucket(per_second=10, burst=1)
    assert rate.take(now=START) is ALLOWED
    assert rate.take(now=START - 10_000 * MS) is REFUSED
    assert rate.take(now=START + 50 * MS) is REFUSED  # still measured from START
    assert rate.take(now=START + 150 * MS) is ALLOWED


def test_time_must_be_integer_nanoseconds():
    rate = bucket()
    with pytest.raises(TypeError, match="integer count of nanoseconds"):
        rate.take(now=5000.1)
    with pytest.raises(TypeError):
        TokenBucket(MessageRate(per_second=1, burst=1, flood=1), now=1.0)


@pytest.mark.parametrize("field", ["per_second", "burst", "flood"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3"])
def test_a_rate_is_positive_integers(field, value):
    fields = {"per_second": 1, "burst": 1, "flood": 1, field: value}
    with pytest.raises(ValueError, match=field):
        MessageRate(**fields)
