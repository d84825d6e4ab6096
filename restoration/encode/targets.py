"""Quality targets: ``metric:value`` with metric ``ssim``, ``psnr`` or ``xpsnr`` (no torch, no
PyAV: the front door checks a target cheaply)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from restoration.errors import SpecError

METRICS = ("ssim", "psnr", "xpsnr")
# Allowed target values: SSIM strictly between 0 and 1; PSNR/XPSNR in dB.
TARGET_RANGES = {"ssim": (0.0, 1.0), "psnr": (10.0, 99.0), "xpsnr": (10.0, 99.0)}
# A frame identical to its master has infinite PSNR: averaged as this many dB.
PSNR_CAP_DB = 100.0
# How far above its target a shot may land (the delivery issue's tolerance): SSIM 0.005, 0.5 dB.
TOLERANCES = {"ssim": 0.005, "psnr": 0.5, "xpsnr": 0.5}


@dataclass(frozen=True)
class QualityTarget:
    """``metric`` (one of ``METRICS``) at least ``value`` on every shot."""

    metric: str
    value: float

    def __str__(self) -> str:
        return f"{self.metric}:{self.value:g}"

    @property
    def tolerance(self) -> float:
        return TOLERANCES[self.metric]

    def within_tolerance(self, quality: float) -> bool:
        """Whether ``quality`` meets the target by no more than its tolerance."""
        return self.value <= quality <= self.value + self.tolerance

    def score(self, quality: float) -> float:
        """Quality on a scale roughly linear in CRF, for the search: dB for PSNR and XPSNR, and
        SSIM as -10 log10(1 - SSIM) (its "dB"), capped at ``PSNR_CAP_DB``."""
        if self.metric == "ssim":
            return PSNR_CAP_DB if quality >= 1.0 else min(PSNR_CAP_DB, -10.0 * math.log10(1.0 - quality))
        return min(quality, PSNR_CAP_DB)


def parse_target(text: object) -> QualityTarget:
    """``"ssim:0.97"``, ``"psnr:40"`` or ``"xpsnr:38"`` as a target; ``SpecError`` naming the field."""
    if not isinstance(text, str) or text.count(":") != 1:
        raise SpecError(f"target: expected metric:value such as ssim:0.97, psnr:40 or xpsnr:38, got {text!r}")
    metric, _, number = (part.strip() for part in text.partition(":"))
    metric = metric.lower()
    if metric not in METRICS:
        raise SpecError(f"target: unknown metric {metric!r}; use {', '.join(METRICS)}")
    try:
        value = float(number)
    except ValueError:
        raise SpecError(f"target: {number!r} is not a number") from None
    low, high = TARGET_RANGES[metric]
    inside = low < value < high if metric == "ssim" else low <= value <= high
    if not (math.isfinite(value) and inside):
        bounds = f"between {low:g} and {high:g} (exclusive)" if metric == "ssim" else f"{low:g} to {high:g} dB"
        raise SpecError(f"target: {metric} must be {bounds}, got {number}")
    return QualityTarget(metric, value)
