"""The per-shot CRF search: the highest CRF whose encode keeps the quality target, found with a
few encodes rather than one per CRF.

Quality falls as CRF rises, and on ``QualityTarget.score``'s scale (dB, and SSIM as
-10 log10(1 - SSIM)) it falls nearly in a straight line over the range a target cares about. So
each step predicts the CRF where the line through the two trials nearest the target crosses it
(a secant; a prior slope after the first trial), rounds down onto the codec's CRF grid (eighth
steps), and keeps the guess inside the bracket of the highest passing and lowest failing CRFs
found so far (a quarter of its width from either end when two guesses in a row fell on the same
side). It stops when the bracket is one grid step wide, or sooner: once it is the codec's
``crf_settle`` wide (0.5 or 1 CRF), the passing encode is within the target's tolerance and the
line through the bracket's ends says no grid CRF above the passing one would pass. A few more
encodes are allowed only while the passing encode is outside the tolerance: usually 3 to 5. A shot that keeps the target even at the codec's
highest CRF is *capped*: it cannot come nearer its target.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from restoration.encode.codecs import DeliveryCodec
from restoration.encode.targets import QualityTarget

# At most this many encodes a shot once the passing encode is within the target's tolerance, and
# at most MAX_ENCODES_OUTSIDE_TOLERANCE while it is not (then one more when none passed and the
# lowest CRF was not tried: it is tried, so a reachable target is always met).
MAX_ENCODES = 6
MAX_ENCODES_OUTSIDE_TOLERANCE = 9
# The first step from the first guess goes at most this many CRF units.
MAX_FIRST_STEP = 16.0


@dataclass(frozen=True)
class Trial:
    crf: float
    quality: float


@dataclass(frozen=True)
class SearchResult:
    """``crf``: the highest CRF tried that kept the target (None: none did, ``trials`` include the
    codec's lowest CRF then); ``capped``: that CRF is the codec's highest (the shot keeps the
    target however few bits it gets, so it may land far above it); ``trials`` in the order they
    were encoded."""

    crf: float | None
    trials: tuple[Trial, ...]
    capped: bool = False

    def quality_at(self, crf: float) -> float:
        return next(trial.quality for trial in self.trials if trial.crf == crf)

    def best(self) -> Trial:
        """The trial of highest quality (what an unreachable target got closest to)."""
        return max(self.trials, key=lambda trial: (trial.quality, -trial.crf))


def search_crf(
    encode: Callable[[float], float],
    codec: DeliveryCodec,
    target: QualityTarget,
    *,
    start: float | None = None,
    max_encodes: int = MAX_ENCODES,
    max_encodes_outside_tolerance: int = MAX_ENCODES_OUTSIDE_TOLERANCE,
    exact: bool = False,
) -> SearchResult:
    """Call ``encode(crf) -> quality`` for a few CRFs on ``codec``'s grid and return the highest
    that met ``target`` (quality >= target value). ``exact``: go on to the highest passing CRF on
    the grid (a bracket one step wide) even when the passing encode is already within tolerance;
    the encode limits then both are ``max_encodes_outside_tolerance``."""
    trials: list[Trial] = []
    tried: set[float] = set()
    passing: float | None = None  # highest CRF that met the target
    failing: float | None = None  # lowest CRF that missed it
    crf = _on_grid(codec, codec.crf_start if start is None else start, down=False)
    while True:
        quality = encode(crf)
        trials.append(Trial(crf, quality))
        tried.add(crf)
        if quality >= target.value:
            passing = crf if passing is None else max(passing, crf)
        else:
            failing = crf if failing is None else min(failing, crf)
        close = passing is not None and not exact and target.within_tolerance(_quality(trials, passing))
        if passing is not None and passing >= codec.crf_max:
            break  # capped
        if passing is not None and failing is not None:
            width = failing - passing
            if width <= codec.crf_step + 1e-9:
                break
            if close and width <= codec.crf_settle + 1e-9 and not _may_pass_above(codec, target, trials, passing, failing):
                break  # near enough, and the line through the bracket's ends says no grid CRF above passes
        if passing is None and failing is not None and failing <= codec.crf_min:
            break  # even the lowest CRF misses: unreachable
        if len(trials) >= (max_encodes if close else max_encodes_outside_tolerance):
            if passing is None and codec.crf_min not in tried:
                crf = codec.crf_min  # one more, so that a reachable target is always met
                continue
            break
        crf = _next_guess(codec, target, trials, passing, failing, tried)
    return SearchResult(crf=passing, trials=tuple(trials), capped=passing is not None and passing >= codec.crf_max)


def _quality(trials: list[Trial], crf: float) -> float:
    return next(trial.quality for trial in trials if trial.crf == crf)


def _may_pass_above(codec: DeliveryCodec, target: QualityTarget, trials: list[Trial], passing: float,
                    failing: float) -> bool:
    """Whether the line through the bracket's ends crosses the target at or above the grid CRF just
    above ``passing`` (so one more encode there would likely pass)."""
    high, low = target.score(_quality(trials, passing)), target.score(_quality(trials, failing))
    goal = target.score(target.value)
    if high <= low:
        return False
    crossing = passing + (high - goal) / (high - low) * (failing - passing)
    return _on_grid(codec, crossing, down=True) > passing + 1e-9


def _on_grid(codec: DeliveryCodec, crf: float, *, down: bool) -> float:
    steps = crf / codec.crf_step
    steps = math.floor(steps + 1e-9) if down else round(steps)
    return float(min(max(steps * codec.crf_step, codec.crf_min), codec.crf_max))


def _next_guess(codec: DeliveryCodec, target: QualityTarget, trials: list[Trial],
                passing: float | None, failing: float | None, tried: set[float]) -> float:
    goal = target.score(target.value)
    scored = sorted(trials, key=lambda trial: abs(target.score(trial.quality) - goal))
    nearest = scored[0]
    slope = codec.slope
    if len(scored) >= 2:
        # The secant through the bracket's ends when there is a bracket, else the two nearest.
        ends = [t for t in trials if t.crf in (passing, failing)] if passing is not None and failing is not None else []
        first, second = ends if len(ends) == 2 else scored[:2]
        if first.crf != second.crf:
            measured = (target.score(first.quality) - target.score(second.quality)) / (second.crf - first.crf)
            if math.isfinite(measured) and measured > 0:
                slope = measured
    step = (target.score(nearest.quality) - goal) / slope
    if len(trials) == 1:
        step = max(-MAX_FIRST_STEP, min(MAX_FIRST_STEP, step))
    # Below the crossing while the target is missed (the next may pass), above it while every
    # encode passes (the next may fail and close the bracket at once).
    guess = _on_grid(codec, nearest.crf + step, down=failing is not None)
    if failing is None:
        guess = min(codec.crf_max, guess + codec.crf_step if guess <= nearest.crf + step else guess)
    low = codec.crf_min if passing is None else passing + codec.crf_step
    high = codec.crf_max if failing is None else failing - codec.crf_step
    last_two_alike = len(trials) >= 2 and (trials[-1].quality >= target.value) == (trials[-2].quality >= target.value)
    if passing is not None and failing is not None and last_two_alike:
        # Safeguarded: when the secant keeps landing on one side (a curved line), the next guess
        # keeps a quarter of the bracket from either end, so the bracket still shrinks fast.
        quarter = (failing - passing) / 4
        low = max(low, _on_grid(codec, passing + quarter, down=False))
        high = min(high, _on_grid(codec, failing - quarter, down=True))
        low, high = min(low, high), max(low, high)
    guess = min(max(guess, low), high)
    if guess in tried:  # the line is no help: halve the bracket
        guess = _on_grid(codec, (low + high) / 2, down=True)
        guess = min(max(guess, low), high)
    return guess
