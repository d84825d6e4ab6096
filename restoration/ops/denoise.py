"""Motion-compensated temporal denoising (degrain).

Each frame is averaged with its neighbours t-R..t+R after aligning them to it with
:func:`restoration.ops.flow.estimate_flow`. Grain is independent from frame to frame, so the
average of N aligned frames keeps the picture and divides the grain's variance by about N,
without the smearing of a purely spatial filter. Where alignment fails (occlusions, fast or
non-rigid motion, flow errors, a blotch in a neighbour) the aligned neighbour differs from the
centre by more than grain can explain; such pixels are given a weight near zero, comparing the
two after a slight blur so that grain alone does not reject them. A light edge-aware spatial
pass then smooths what grain remains, most where few neighbours could be used.

Frames beyond the clip's edges are reflected (frame -1 is frame 1), so the result at frame t
depends only on frames t-R..t+R and windowed runs equal whole-clip runs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from restoration.errors import SpecError
from restoration.luma import REC601_LUMA, luma  # Rec. 601: the luma this op's thresholds were tuned on
from restoration.ops._common import (
    box_filter,
    check_frames,
    neighbour_offsets,
    output_frames,
    reflected_indices,
    sampled_median,
)
from restoration.ops.flow import (
    ChainedFlows,
    TileFlows,
    align_neighbours,
    alike_difference,
    chained_flows,
    warp_neighbours,
)
from restoration.ops.opspec import OpSpec, Param

__all__ = ["denoise", "Denoise", "estimate_noise", "misalignment_differences", "misalignment_levels", "self_pairs",
           "DENOISE_OP"]

MAX_RADIUS = 3
# A smoother flow than the default: on grainy film it is more accurate where the motion is smooth
# (camera moves), and where it is not (moving objects) the misalignment test rejects the pixels.
# Measured on degraded pans, zooms and mixed motion: +0.8..1.3 dB over the default of 4.
FLOW_SMOOTH = 12
# Centre frames denoised per batch (each with its 2 radius aligned neighbours): one bounds memory
# on long windows and large frames, and is no slower than several (on a 4K tile plan: 0.42 against
# 0.76 GiB above the input and less CPU time than 3 centres a batch: docs/BENCHMARKS.md, issue #18).
CENTRES_PER_BATCH = 1


def estimate_noise(frames: torch.Tensor) -> torch.Tensor:
    """Robust per-frame grain level (T,): std of the fine-scale detail of the grey image.

    Uses the median absolute deviation of the difference between the image and its 3x3 mean,
    which is dominated by grain on film (edges are a minority and the median ignores them).
    """
    check_frames(frames, "denoise")
    grey = luma(frames, weights=REC601_LUMA)
    detail = grey - box_filter(grey, 1)
    mad = sampled_median(detail.abs())
    # For white noise the detail's std is sqrt(8/9) of the noise's; 0.6745 turns a MAD into a std.
    return mad / (0.6745 * (8.0 / 9.0) ** 0.5)


def _spatial_pass(image: torch.Tensor, range_sigma: torch.Tensor) -> torch.Tensor:
    """3x3 bilateral filter with a per-pixel range sigma (N, 1, H, W).

    The weight of a pair of neighbouring pixels is computed once (with the mean of their two
    range sigmas) and used by both: half the exponentials of a plain 3x3 bilateral filter.
    """
    grey = luma(image, weights=REC601_LUMA)
    h, w = image.shape[-2:]
    padded = F.pad(image, (1, 1, 1, 1), mode="replicate")
    padded_grey = F.pad(grey, (1, 1, 1, 1), mode="replicate")
    padded_inv = F.pad(0.5 / (range_sigma * range_sigma + 1e-12), (1, 1, 1, 1), mode="replicate")
    total = image.clone()
    weight_sum = torch.ones_like(grey)
    centre_grey = padded_grey[..., 1:1 + h, 1:1 + w]
    centre_inv = padded_inv[..., 1:1 + h, 1:1 + w]
    # Each pair's weight is written inside a zero border, so the weight at p - d is a view of it.
    bordered = grey.new_zeros(*grey.shape[:-2], h + 2, w + 2)
    weight = bordered[..., 1:1 + h, 1:1 + w]
    # Offsets (dy, dx) of half the neighbourhood; the other half is their mirror image.
    for dy, dx, spatial in ((0, 1, 0.6), (1, 0, 0.6), (1, 1, 0.37), (1, -1, 0.37)):
        # Weight of the pair (p, p + d).
        other_grey = padded_grey[..., 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        other_inv = padded_inv[..., 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        torch.mul(torch.exp(-(other_grey - centre_grey) ** 2 * (0.5 * (centre_inv + other_inv))), spatial, out=weight)
        # p takes q = p + d with this weight ...
        total += weight * padded[..., 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        weight_sum += weight
        # ... and p takes p - d with the weight computed at p - d.
        shifted = bordered[..., 1 - dy:1 - dy + h, 1 - dx:1 - dx + w]
        total += shifted * padded[..., 1 - dy:1 - dy + h, 1 - dx:1 - dx + w]
        weight_sum += shifted
    return total / weight_sum


def _aligned_batch(frames: torch.Tensor, flows: ChainedFlows, first: int, last: int, radius: int,
                   noise: torch.Tensor, *, with_confidence: bool = True
                   ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Frames t-R..t+R but t aligned onto each centre t of first..last-1, offset-major (K * n,
    C, H, W), their confidences (None without ``with_confidence``), and their luma differences
    to the centre."""
    offsets = neighbour_offsets(radius)
    index = reflected_indices(frames.shape[0], offsets, device=frames.device)[:, first:last].reshape(-1).tolist()
    centres = list(range(first, last)) * len(offsets)
    flows.prepare(range(first - radius, last + radius))
    # The brightness clip keeps misaligned objects from biasing the flicker correction.
    limit = 4.0 * noise[first:last].repeat(len(offsets)) + 0.02
    if with_confidence:
        aligned, confidence = align_neighbours(frames, flows, centres, index, brightness_limit=limit)
    else:
        aligned, confidence = warp_neighbours(frames, flows, centres, index, brightness_limit=limit), None
    # the centres broadcast over the offsets: the same differences as against K copies of them
    difference = aligned.view(len(offsets), last - first, *frames.shape[1:]) - frames[first:last]
    return aligned, confidence, luma(difference.view(aligned.shape), weights=REC601_LUMA)


def misalignment_differences(frames: torch.Tensor, *, radius: int, noise: torch.Tensor,
                             flows: TileFlows | None = None, outputs: range | None = None) -> torch.Tensor:
    """(2, K, T, 1, H, W): the blurred and the raw luma differences of each frame's K aligned
    neighbours, whose medians set the misalignment test's tolerance and the remaining grain; a
    tile's share of them, when ``frames`` is a tile and ``flows`` its view of the whole frames'
    flows (``noise``: the whole frames' :func:`estimate_noise`). ``outputs``: only these frames'
    (T: how many), the others being their context."""
    flows = chained_flows(frames, flows, smooth=FLOW_SMOOTH)
    differences = []
    for first in output_frames(frames, outputs):
        raw = _aligned_batch(frames, flows, first, first + 1, radius, noise, with_confidence=False)[2]
        differences.append(torch.stack((box_filter(raw, 1).abs(), raw.abs())))
        flows.forget_before(first + 1 - radius)
    return torch.stack(differences, dim=2)


def self_pairs(length: int, radius: int, first: int = 0, last: int | None = None) -> torch.Tensor:
    """(K, last - first) bool: where a centre's reflected neighbour is the centre itself (at
    radius 2 and more frame 1's neighbour -2 is frame 1, and frame T-2's +2 is T-2)."""
    last = length if last is None else last
    offsets = neighbour_offsets(radius)
    return reflected_indices(length, offsets)[:, first:last] == torch.arange(first, last)


def misalignment_levels(medians: torch.Tensor, itself: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(misalignment spread, remaining grain) (T,) each from the medians (2, K, T) of
    :func:`misalignment_differences`, on the best-aligned of the K neighbours that are other
    frames (``itself``: :func:`self_pairs`; a frame's difference to itself is no alignment and
    made its tolerance nil, so it was hardly averaged). A frame with no other neighbour (a clip
    of one frame) keeps its nil levels: there is nothing to average."""
    others = medians.masked_fill(itself.to(medians.device), float("inf")).amin(1)
    levels = torch.where(others.isinf(), medians.amin(1), others)
    return levels[0] / 0.6745, levels[1] / (0.6745 * 2 ** 0.5)


def denoise(frames: torch.Tensor, *, radius: int = 2, strength: float = 1.5, spatial: float = 1.0,
            flows: TileFlows | None = None, levels: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
            outputs: range | None = None) -> torch.Tensor:
    """Motion-compensated temporal denoise of (T, C, H, W) frames in [0, 1].

    ``radius``: neighbours on each side (1..3). ``strength``: tolerance of the misalignment
    test in units of the grain level (higher averages more, risks ghosting). ``spatial``: range
    of the final edge-aware spatial pass in units of the remaining grain (0 turns it off).
    ``flows`` and ``levels`` are for a tile of whole frames (``pipeline.tiling``): its view of
    the whole frames' flows, and (noise, misalignment spread, grain) (T,) each, measured on the
    whole frames (:func:`estimate_noise`, :func:`misalignment_differences`); else both come from
    ``frames``. ``outputs``: the frames whose output is returned (all by default; the others are
    only their context), each the same as in all.
    """
    check_frames(frames, "denoise")
    radius = int(radius)
    if not 1 <= radius <= MAX_RADIUS:
        raise SpecError(f"denoise: radius must be in 1..{MAX_RADIUS}, got {radius}")
    t_count = frames.shape[0]
    offsets = neighbour_offsets(radius)
    noise = estimate_noise(frames).clamp_min(1e-3) if levels is None else levels[0]

    outputs = output_frames(frames, outputs)
    out = frames.new_empty((len(outputs), *frames.shape[1:]))
    flows = chained_flows(frames, flows, smooth=FLOW_SMOOTH)
    for first in range(outputs.start, outputs.stop, CENTRES_PER_BATCH):
        last = min(first + CENTRES_PER_BATCH, outputs.stop)
        n = last - first
        centre = frames[first:last]
        aligned, confidence, raw_difference = _aligned_batch(frames, flows, first, last, radius, noise)

        # Misalignment test on slightly blurred grey differences: grain averages out, while a
        # structure that does not line up survives the blur. The grain's share of the difference
        # is measured on the best-aligned neighbour (robust median), whatever the grain's spectrum.
        if levels is None:
            spread, grain = misalignment_levels(torch.stack([
                sampled_median(box_filter(raw_difference, 1).abs()).view(len(offsets), n),
                sampled_median(raw_difference.abs()).view(len(offsets), n)]), self_pairs(t_count, radius, first, last))
        else:
            spread, grain = levels[1][first:last], levels[2][first:last]
        tolerance = (2.0 * strength * spread).repeat(len(offsets)) + 1e-4
        # Where the flow fails its forward-backward check (occlusions, things it does not follow)
        # the neighbour is left out even if it looks alike: blending it in would leave a ghost.
        weight = confidence * alike_difference(raw_difference, tolerance, radius=1)  # flow.alike's, already at hand

        weight = weight.view(len(offsets), n, 1, *frames.shape[-2:])
        aligned = aligned.view(len(offsets), n, *frames.shape[1:])
        weight_total = 1.0 + weight.sum(0)
        fused = (centre + (weight * aligned).sum(0)) / weight_total

        if spatial > 0:
            # Grain left after averaging: variance (1 + sum w^2) / (1 + sum w)^2 of the original.
            remaining = grain.view(-1, 1, 1, 1) * (1.0 + (weight * weight).sum(0)).sqrt() / weight_total
            fused = _spatial_pass(fused, spatial * 2.0 * remaining + 1e-4)

        out[first - outputs.start:last - outputs.start] = fused.clamp(0.0, 1.0)
        flows.forget_before(last - radius)
    return out


class Denoise(torch.nn.Module):
    """Module form of :func:`denoise`."""

    def __init__(self, *, radius: int = 2, strength: float = 1.5, spatial: float = 1.0) -> None:
        super().__init__()
        self.radius = radius
        self.strength = strength
        self.spatial = spatial

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return denoise(frames, radius=self.radius, strength=self.strength, spatial=self.spatial)


DENOISE_OP = OpSpec(
    name="denoise",
    function=denoise,
    module=Denoise,
    params={
        "radius": Param(int, 2, minimum=1, maximum=MAX_RADIUS, help="neighbouring frames used on each side"),
        "strength": Param(float, 1.5, minimum=0.0, maximum=4.0,
                          help="tolerance of the misalignment test, in units of the grain level"),
        "spatial": Param(float, 1.0, minimum=0.0, maximum=4.0,
                         help="edge-aware spatial smoothing of the remaining grain (0: off)"),
    },
    temporal_radius=MAX_RADIUS,
    radius_param="radius",
    tileable=True,  # noise level, misalignment tolerance and flows from the whole frames (pipeline.tiling)
    description="motion-compensated temporal degrain/denoise",
)
