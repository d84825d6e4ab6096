"""Scenes proposed from the analysis: runs of consecutive shots whose measured look is alike.

The analysis measures each shot's tone (``black_level``, ``white_level``: 1st and 99th
percentiles of luma), whether it is grey, and for colour shots its balance (grey-world
``red_gain``/``green_gain``/``blue_gain``) and ``saturation`` (8-bit chroma units). Two
neighbours belong to one scene when none of those moves by more than what a grade would treat
alike; a shot without metrics (not analysed) starts no scene and joins none. A run of one shot
is not proposed: the shot's own grade does that job. Pure: reads and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Largest step between neighbours of one scene.
MAX_BLACK_STEP = 0.04  # luma, [0, 1]
MAX_WHITE_STEP = 0.06
MAX_GAIN_STEP = 0.06  # a 6 % change in a channel's grey-world gain is a visible shift of balance
MAX_SATURATION_STEP = 4.0  # 8-bit chroma units


def _number(metrics: Mapping[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def looks_alike(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two shots' metrics describe one look (see the module's thresholds)."""
    if bool(a.get("is_grey", True)) != bool(b.get("is_grey", True)):
        return False
    for key, limit in (("black_level", MAX_BLACK_STEP), ("white_level", MAX_WHITE_STEP)):
        x, y = _number(a, key), _number(b, key)
        if x is None or y is None or abs(x - y) > limit:
            return False
    if a.get("is_grey", True):
        return True
    for key, limit in (("red_gain", MAX_GAIN_STEP), ("green_gain", MAX_GAIN_STEP), ("blue_gain", MAX_GAIN_STEP),
                       ("saturation", MAX_SATURATION_STEP)):
        x, y = _number(a, key), _number(b, key)
        if x is None or y is None or abs(x - y) > limit:
            return False
    return True


def scene_runs(shots: Sequence[tuple[int, Mapping[str, Any]]]) -> list[tuple[int, int]]:
    """``(first, last)`` shot numbers of the proposed scenes, from ``(number, metrics)`` pairs in
    shot order. Runs break at a gap in the numbers, a shot without metrics, or a change of look."""
    runs: list[tuple[int, int]] = []
    start = previous = None
    previous_metrics: Mapping[str, Any] | None = None
    for number, metrics in shots:
        measured = bool(metrics) and _number(metrics, "black_level") is not None
        joined = (measured and previous is not None and number == previous + 1 and previous_metrics is not None
                  and looks_alike(previous_metrics, metrics))
        if not joined:
            if start is not None and previous is not None and previous > start:
                runs.append((start, previous))
            start = number if measured else None
        previous, previous_metrics = number, (metrics if measured else None)
    if start is not None and previous is not None and previous > start:
        runs.append((start, previous))
    return runs
