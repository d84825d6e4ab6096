"""Motion-compensated frame interpolation and the output times of a frame-rate conversion.

Not a registry op: it changes the frame count. ``interpolate_frames(frames, times)`` returns one
frame per position in ``times`` (positions in input frames, 0 .. T-1). An integer position returns
that input frame exactly; a position i + a (0 < a < 1) is made from frames i and i + 1 only
(``INTERPOLATE_RADIUS`` = 1 frame of context), so windows reproduce the whole-clip result.

For each pair the flow is estimated both ways with the shared ``ops.flow`` estimator. Flow at the
intermediate time is made by forward splatting: every pixel of frame i is carried a fraction a
along its motion, every pixel of frame i + 1 a fraction 1 - a back along its own, and each lands
with a weight that is small where its two flows disagree (forward-backward check: the pixel is
hidden in the other frame). Where two pixels land on one spot (a moving object in front of the
background it is about to cover) the consistent one wins, which is what keeps object edges
clean; small holes are filled from their neighbourhood. Both frames are then warped to the
intermediate time and blended by time distance times the visibility of the pixel each one gives.

A caller may hand in ``refine(first, second, candidates)``, which replaces that classical estimate
(``restoration.op_registry`` hands in the learned interpolation net for the ``learned`` method):
this module knows nothing of the networks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import torch
import torch.nn.functional as F

from restoration.errors import SpecError
from restoration.ops._common import check_frames
from restoration.ops.flow import estimate_flow, resize_flow, warp

__all__ = ["interpolate_frames", "retime_times", "FrameInterpolator", "INTERPOLATE_RADIUS", "pair_candidates",
           "PairCandidates", "Refine"]

INTERPOLATE_RADIUS = 1  # a position between frames i and i + 1 needs those two frames only

_INTEGER_TOLERANCE = 1e-6  # positions this close to an integer return that input frame
_SPLAT_SIDE = 360  # shorter side at which the flows at the intermediate time are made
_CONSISTENCY_PIXELS = 1.0  # forward-backward disagreement (pixels) at which a pixel's weight is 1/e


def _check_times(times, length: int) -> torch.Tensor:
    if isinstance(times, torch.Tensor):
        values = times.detach().to("cpu", torch.float64)
    else:
        try:
            values = torch.as_tensor(list(times), dtype=torch.float64)
        except (TypeError, ValueError):
            kind = type(times).__name__
            raise SpecError(f"interpolate: times must be a 1-D sequence of numbers, got {kind}") from None
    if values.ndim != 1:
        raise SpecError(f"interpolate: times must be 1-D, got shape {tuple(values.shape)}")
    if not bool(torch.isfinite(values).all()):
        raise SpecError("interpolate: times must be finite numbers")
    low, high = -_INTEGER_TOLERANCE, length - 1 + _INTEGER_TOLERANCE
    if values.numel() and (float(values.min()) < low or float(values.max()) > high):
        raise SpecError(
            f"interpolate: times must lie in [0, {length - 1}] (positions in the input frames), "
            f"got [{float(values.min()):g}, {float(values.max()):g}]"
        )
    return values.clamp(0.0, length - 1)


def _splat(values: torch.Tensor, displacement: torch.Tensor, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinear forward splatting: each pixel's ``values`` land at its position + displacement.

    Returns the weighted sums (N, K, H, W) and summed weights (N, 1, H, W).
    """
    n, k, h, w = values.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=values.device, dtype=values.dtype),
                            torch.arange(w, device=values.device, dtype=values.dtype), indexing="ij")
    target_x = xs + displacement[:, 0]
    target_y = ys + displacement[:, 1]
    left, top = target_x.floor(), target_y.floor()
    frac_x, frac_y = target_x - left, target_y - top
    sums = values.new_zeros(n, k, h * w)
    weights = values.new_zeros(n, 1, h * w)
    flat_values = (values * weight).reshape(n, k, h * w)
    flat_weight = weight.reshape(n, 1, h * w)
    for dy, wy in ((0, 1 - frac_y), (1, frac_y)):
        for dx, wx in ((0, 1 - frac_x), (1, frac_x)):
            cx, cy = left + dx, top + dy
            inside = (cx >= 0) & (cx <= w - 1) & (cy >= 0) & (cy <= h - 1)
            share = (wx * wy * inside).reshape(n, 1, h * w)
            index = (cy.clamp(0, h - 1) * w + cx.clamp(0, w - 1)).long().reshape(n, 1, h * w)
            sums.scatter_add_(2, index.expand(n, k, h * w), flat_values * share)
            weights.scatter_add_(2, index, flat_weight * share)
    return sums.reshape(n, k, h, w), weights.reshape(n, 1, h, w)


def _fill_holes(flows: torch.Tensor, covered: torch.Tensor) -> torch.Tensor:
    """Replace flows where no splat landed from their surroundings (push-pull: coarser and
    coarser averages of the covered pixels, until every hole has some, then back up)."""
    if bool(covered.all()):
        return flows
    weights = covered.to(flows.dtype)
    pyramid = [(flows * weights, weights)]
    while min(pyramid[-1][1].shape[-2:]) > 1 and not bool((pyramid[-1][1] > 0).all()):
        sums, weights = pyramid[-1]
        pyramid.append((F.avg_pool2d(sums, 2, ceil_mode=True), F.avg_pool2d(weights, 2, ceil_mode=True)))
    sums, weights = pyramid[-1]
    estimate = sums / weights.clamp_min(1e-12)
    for sums, weights in reversed(pyramid[:-1]):
        coarse = F.interpolate(estimate, size=sums.shape[-2:], mode="bilinear", align_corners=False)
        estimate = torch.where(weights > 0, sums / weights.clamp_min(1e-12), coarse)
    return torch.where(covered, flows, estimate)


def _round_trip_weight(error: torch.Tensor) -> torch.Tensor:
    """exp(-|error|^2 / s^2) over the 2 flow channels: 1 when a round trip returns home."""
    return torch.exp(-error.pow(2).sum(dim=1, keepdim=True) / _CONSISTENCY_PIXELS ** 2)


@dataclass
class PairCandidates:
    """What the motion-compensated interpolation of one pair knows at time ``fraction``, each
    (1, C, H, W): both frames warped to that time, how far each warped pixel is trusted (its own
    motion brings it there), and the classical estimate made from them."""

    fraction: float
    warped_first: torch.Tensor
    warped_second: torch.Tensor
    trust_first: torch.Tensor  # (1, 1, H, W) in [0, 1]
    trust_second: torch.Tensor
    estimate: torch.Tensor


def pair_candidates(first: torch.Tensor, second: torch.Tensor, fractions: torch.Tensor) -> list[PairCandidates]:
    """The classical interpolation between frames ``first`` and ``second`` (1, C, H, W) at each
    a in ``fractions`` (0 < a < 1), with the warped frames and trust maps it was made from (the
    learned interpolator refines these)."""
    flow_forward = estimate_flow(first, second)  # first at x is found in second at x + flow_forward
    flow_backward = estimate_flow(second, first)
    # Forward-backward check: low where a pixel is hidden in the other frame.
    # The flows are smooth (estimated on a reduced pyramid level), so the flows at time a are
    # made at a reduced size too and only the warps and the blend run at full size.
    h, w = first.shape[-2:]
    factor = max(1, min(h, w) // _SPLAT_SIDE)
    small = (h // factor, w // factor)
    small_forward = resize_flow(flow_forward, small)
    small_backward = resize_flow(flow_backward, small)
    seen_first = _round_trip_weight(small_forward + warp(small_backward, small_forward))
    seen_second = _round_trip_weight(small_backward + warp(small_forward, small_backward))
    ones = torch.ones_like(seen_first)
    out = []
    for a in fractions.tolist():
        # Pixels of `first` travel a * forward flow, those of `second` (1 - a) * backward flow,
        # each carrying the two flows that fetch it back from time a: (to first, to second).
        from_first = torch.cat((-a * small_forward, (1 - a) * small_forward), dim=1)
        from_second = torch.cat((a * small_backward, -(1 - a) * small_backward), dim=1)
        # Where splats collide the consistent pixel wins (about 100 : 1), then the nearer frame.
        sums_a, weights_a = _splat(from_first, a * small_forward, (1 - a) * (seen_first + 0.01))
        sums_b, weights_b = _splat(from_second, (1 - a) * small_backward, a * (seen_second + 0.01))
        _, coverage_a = _splat(ones, a * small_forward, ones)
        _, coverage_b = _splat(ones, (1 - a) * small_backward, ones)
        flows = (sums_a + sums_b) / (weights_a + weights_b).clamp_min(1e-12)
        flows = _fill_holes(flows, (coverage_a + coverage_b) > 0.25)
        to_first = resize_flow(flows[:, :2], (h, w))
        to_second = resize_flow(flows[:, 2:], (h, w))
        # A fetched pixel is trusted if its own motion brings it to this spot at time a: this
        # rejects the frame in which the spot is covered (revealed or about to be covered).
        trust_first = _round_trip_weight(to_first + a * warp(flow_forward, to_first))
        trust_second = _round_trip_weight(to_second + (1 - a) * warp(flow_backward, to_second))
        warped_first, warped_second = warp(first, to_first), warp(second, to_second)
        weight_first = (1 - a) * (trust_first + 1e-3)
        weight_second = a * (trust_second + 1e-3)
        blend = (weight_first * warped_first + weight_second * warped_second) / (weight_first + weight_second)
        # Where neither frame gives a sample that moves here (the flow failed: a flash, a burnt
        # frame, motion too fast), a plain cross-fade is the safer guess than two wrong warps.
        confidence = torch.maximum(trust_first, trust_second)
        estimate = (confidence * blend + (1 - confidence) * ((1 - a) * first + a * second)).clamp(0.0, 1.0)
        out.append(PairCandidates(a, warped_first, warped_second, trust_first, trust_second, estimate))
    return out


# refine(first, second, candidates) -> the frame at candidates.fraction (1, C, H, W), in place of
# the classical estimate.
Refine = Callable[[torch.Tensor, torch.Tensor, PairCandidates], torch.Tensor]


def _interpolate_pair(first: torch.Tensor, second: torch.Tensor, fractions: torch.Tensor,
                      refine: Refine | None) -> torch.Tensor:
    """Frames (len(fractions), C, H, W) at first + a (second - first) for each a in (0, 1);
    ``refine`` (e.g. the learned interpolator), when given, replaces the classical estimate."""
    candidates = pair_candidates(first, second, fractions)
    if refine is None:
        return torch.cat([c.estimate for c in candidates])
    return torch.cat([refine(first, second, c) for c in candidates]).clamp(0.0, 1.0)


def interpolate_frames(frames: torch.Tensor, times, *, refine: Refine | None = None) -> torch.Tensor:
    """Frames at the given positions: (len(times), C, H, W).

    ``times`` is a 1-D float tensor (or sequence) of positions in [0, T-1], counted in input
    frames (2.5 is half way between frames 2 and 3). Integer positions return the input frame
    exactly; others are motion-compensated from the two frames around them, and ``refine``, when
    given, makes the final frame from what the classical method made (see ``Refine``).
    """
    check_frames(frames, "interpolate")
    positions = _check_times(times, frames.shape[0])
    compute = frames.float() if frames.dtype in (torch.float16, torch.bfloat16) else frames
    out = compute.new_empty((positions.numel(), *frames.shape[1:]))
    nearest = positions.round()
    is_integer = (positions - nearest).abs() <= _INTEGER_TOLERANCE
    for index in torch.nonzero(is_integer).flatten().tolist():
        out[index] = compute[int(nearest[index])]
    between = torch.nonzero(~is_integer).flatten()
    if between.numel():
        lower = positions[between].floor().long()
        for first in torch.unique(lower).tolist():
            members = between[lower == first]
            fractions = positions[members] - first
            out[members.to(out.device)] = _interpolate_pair(compute[first:first + 1], compute[first + 1:first + 2],
                                                            fractions, refine)
    return out.to(frames.dtype)


def _as_fraction(fps: float, name: str) -> Fraction:
    if isinstance(fps, bool) or not isinstance(fps, (int, float, Fraction)) or not math.isfinite(fps) or fps <= 0:
        raise SpecError(f"retime: {name} must be a positive number, got {fps!r}")
    # 23.976 and 29.97 become 24000/1001 and 30000/1001, so long clips do not drift.
    return Fraction(fps).limit_denominator(1001)


def retime_times(n_in: int, src_fps: float, dst_fps: float, *, keep_duration: bool = True) -> torch.Tensor:
    """Positions (float64, 1-D) in the input frames of the output frames of a rate conversion.

    Output frame k is shown at k / dst_fps seconds, which is input position k * src_fps / dst_fps.
    With ``keep_duration`` (the default) there is one output frame for every output frame time
    that falls within the clip's duration n_in / src_fps, i.e. ceil(n_in * dst / src) frames, so a
    shot keeps its length; positions past the last input frame are clamped to it (24 -> 48 fps
    gives exactly 2 * n_in frames, the last one repeating the last input frame). Without it, only
    positions up to the last input frame are produced: floor((n_in - 1) * dst / src) + 1 frames
    (24 -> 48 gives 2 * n_in - 1).
    """
    if isinstance(n_in, bool) or not isinstance(n_in, int) or n_in < 1:
        raise SpecError(f"retime: the input frame count must be a positive integer, got {n_in!r}")
    step = _as_fraction(src_fps, "src_fps") / _as_fraction(dst_fps, "dst_fps")  # input frames per output frame
    count = math.ceil(Fraction(n_in) / step) if keep_duration else math.floor(Fraction(n_in - 1) / step) + 1
    positions = [min(Fraction(k) * step, Fraction(n_in - 1)) for k in range(count)]
    return torch.tensor([float(p) for p in positions], dtype=torch.float64)


class FrameInterpolator(torch.nn.Module):
    """Module form of :func:`interpolate_frames`: ``forward(frames, times)``."""

    def __init__(self, *, refine: Refine | None = None) -> None:
        super().__init__()
        self.refine = refine

    def forward(self, frames: torch.Tensor, times: torch.Tensor | Sequence[float]) -> torch.Tensor:
        return interpolate_frames(frames, times, refine=self.refine)
