"""Dust and blotch removal: temporal spike detection on motion-compensated neighbours.

Dust and dirt on a film frame appear on one frame only. After aligning frames t-1 and t+1 onto
frame t, a blotch pixel is one that is much brighter (or much darker) than *both* aligned
neighbours while the neighbours agree with each other (a spike detection index, SDI/ROD-like).
Two guards keep genuine picture content safe:

- the centre is compared with the local range (min..max over a small window) of each aligned
  neighbour rather than with the single aligned pixel, so a flow error of a pixel or two on an
  edge or a moving object cannot make a pixel look new;
- the neighbours must agree, so occlusions (where the two neighbours see different things)
  are not taken for dirt.

Strong detections seed the mask and grow into weaker ones (hysteresis), then the mask is
dilated a little to cover blotch edges and filled from the average of the aligned neighbours,
or, where they disagree, by spatial inpainting from the undamaged surroundings.
"""

from __future__ import annotations

import torch

from restoration.errors import SpecError
from restoration.luma import REC601_LUMA, luma  # Rec. 601: the luma this op's thresholds were tuned on
from restoration.ops._common import (
    box_filter,
    check_frames,
    dilate,
    max_filter,
    min_filter,
    output_frames,
    sampled_median,
)
from restoration.ops.flow import ChainedFlows, SharedFlows, TileFlows, align_neighbours, chained_flows, warp_neighbours
from restoration.ops.opspec import OpSpec, Param

__all__ = ["detect_dust", "remove_dust", "grain_differences", "grain_level", "Dust", "DUST_OP"]

# Frames aligned per batch (each needs two flows): bounds memory on long windows.
FRAMES_PER_BATCH = 6
# Flow errors up to this many pixels cannot make a pixel look new (see _detect).
RANGE_RADIUS = 2
# Confidence (ops.flow.align_neighbours) above which an aligned neighbour counts as seeing the centre.
TRUSTED = 0.8
# Pixels searched around a spike where the flow fails its check (things move 2-9 px per frame in
# 320-wide pictures; the neighbours of the clip's end frames are two frames away).
UNSEEN_RADIUS = 12


def neighbour_indices(length: int, *, device=None) -> torch.Tensor:
    """(2, T) frames compared with each frame: t-1 and t+1, or the two on one side at the ends.

    At the clip's edges a reflected pair would be the same frame twice, which always "agrees"
    with itself and so would turn any flow failure into a detection; two distinct frames on one
    side keep the agreement test meaningful. Hence a temporal radius of 2.
    """
    base = torch.arange(length, device=device)
    previous, following = base - 1, base + 1
    previous = torch.where(base == 0, base + 2, previous)
    following = torch.where(base == length - 1, base - 2, following)
    return torch.stack((previous, following)).clamp(0, length - 1)


def _neighbours(frames: torch.Tensor, first: int, last: int, flows: ChainedFlows, *, with_seen: bool = True):
    """Centre frames first..last-1, their two neighbours aligned onto them, and where both
    neighbours can be trusted to show the centre's content: the flow passes its forward-backward
    check (not occluded, not a thing the flow does not follow, not the warp's border padding).
    Elsewhere a thing moving against the camera looks new in the centre frame, and removing it
    would leave the background of the neighbours in its place: _detect searches wider there.
    Without ``with_seen`` that last is None (the check is not made)."""
    index = neighbour_indices(frames.shape[0], device=frames.device)[:, first:last].reshape(-1).tolist()
    centres = list(range(first, last)) * 2
    flows.prepare(range(first - 2, last + 1))
    if with_seen:
        aligned, confidence = align_neighbours(frames, flows, centres, index, brightness_limit=0.05)
        seen_previous, seen_following = (confidence > TRUSTED).chunk(2)
        seen = seen_previous & seen_following
    else:
        aligned, seen = warp_neighbours(frames, flows, centres, index, brightness_limit=0.05), None
    flows.forget_before(last - 2)
    previous, following = aligned.chunk(2)
    return frames[first:last], previous, following, seen


def _local_range(previous: torch.Tensor, following: torch.Tensor, radius: int, seen: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """The lowest and highest of both neighbours over a (2 radius + 1)^2 window where ``seen``, over
    a window ``UNSEEN_RADIUS`` wide elsewhere: where the flow fails its check a thing moving on its
    own is found again a few pixels away in the neighbour, while a blotch too large for the flow to
    see past (which also fails it) is found nowhere near. One filter each way over the neighbours'
    pointwise min and max: the same values as each neighbour's range, then the lower low and the
    higher high (min and max are exact and commute; the filters replicate the edges)."""
    lowest, highest = torch.minimum(previous, following), torch.maximum(previous, following)
    low, high = min_filter(lowest, radius), max_filter(highest, radius)
    if bool(seen.all()):
        return low, high
    return (torch.where(seen, low, min_filter(lowest, UNSEEN_RADIUS)),
            torch.where(seen, high, max_filter(highest, UNSEEN_RADIUS)))


def grain_differences(frames: torch.Tensor, flows: TileFlows | None = None, outputs: range | None = None
                      ) -> torch.Tensor:
    """(2, T, 1, H, W): the luma differences of each frame to its two aligned neighbours whose
    medians set the detection's grain level (:func:`grain_level`); a tile's share of them, when
    ``frames`` is a tile and ``flows`` its view of the whole frames' flows. ``outputs``: only
    these frames' differences (T: how many), the others being their context."""
    flows = chained_flows(frames, flows)
    outputs = output_frames(frames, outputs)
    differences = []
    for first in range(outputs.start, outputs.stop, FRAMES_PER_BATCH):
        centre, previous, following, _ = _neighbours(frames, first, min(first + FRAMES_PER_BATCH, outputs.stop),
                                                     flows, with_seen=False)
        c, p, n = (luma(image, weights=REC601_LUMA) for image in (centre, previous, following))
        differences.append(torch.stack(((c - p).abs(), (c - n).abs())))
    return torch.cat(differences, dim=1)


def grain_level(median: torch.Tensor) -> torch.Tensor:
    """Robust std of one grain from the median (2, T) of :func:`grain_differences`: (T,)."""
    return (median / (0.6745 * 2 ** 0.5)).amin(0)


def _detect(centre: torch.Tensor, previous: torch.Tensor, following: torch.Tensor, seen: torch.Tensor,
            sensitivity: float, grain: torch.Tensor | None = None) -> torch.Tensor:
    c, p, n = (luma(image, weights=REC601_LUMA) for image in (centre, previous, following))
    if grain is None:
        grain = grain_level(torch.stack((sampled_median((c - p).abs()), sampled_median((c - n).abs()))))
    grain = grain.view(-1, 1, 1, 1)
    strong = (5.0 * grain + 0.06) / sensitivity
    weak = 0.5 * strong
    low, high = _local_range(p, n, RANGE_RADIUS, seen)
    # How far the centre lies outside both neighbours' local ranges, in the same direction (the
    # same values as the smaller of its distances to each: rounding is monotonic).
    above = c - high
    below = low - c
    spike = torch.maximum(above, below)
    agree = box_filter(p - n, 1).abs() < strong
    seeds = (spike > strong) & agree
    candidates = ((spike > weak) & agree).to(c.dtype)
    mask = seeds.to(c.dtype)
    for _ in range(3):  # hysteresis: grow seeds into connected weaker detections
        mask = dilate(mask, 1) * candidates
    return mask


def _inpaint(image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Fill ``hole`` (N,1,H,W, 1 = missing) by normalised convolution at growing scales."""
    known = 1.0 - hole
    filled = image * known
    weight = known
    result = image.clone()
    remaining = hole > 0.5
    for radius in (2, 4, 8, 16, 32):
        num = box_filter(filled, radius)
        den = box_filter(weight, radius)
        ok = remaining & (den > 1e-3)
        estimate = num / den.clamp_min(1e-6)
        result = torch.where(ok.expand_as(result), estimate, result)
        remaining = remaining & ~ok
        if not bool(remaining.any()):
            break
    return result


def detect_dust(frames: torch.Tensor, *, sensitivity: float = 1.0) -> torch.Tensor:
    """Mask (T, 1, H, W) in {0, 1} of the pixels taken for dust or blotches.

    ``sensitivity`` scales the detection thresholds down (higher finds fainter dirt and risks
    more false detections). The result at frame t depends on frames t-2..t+2 only.
    """
    check_frames(frames, "dust")
    if sensitivity <= 0:
        raise SpecError(f"dust: sensitivity must be positive, got {sensitivity}")
    masks = []
    flows = ChainedFlows(frames)  # one motion estimate per pair of consecutive frames
    for first in range(0, frames.shape[0], FRAMES_PER_BATCH):
        last = min(first + FRAMES_PER_BATCH, frames.shape[0])
        masks.append(_detect(*_neighbours(frames, first, last, flows), sensitivity))
    return torch.cat(masks)


def remove_dust(frames: torch.Tensor, *, sensitivity: float = 1.0, grow: int = 1,
                flows: SharedFlows | TileFlows | None = None, grain: torch.Tensor | None = None,
                outputs: range | None = None) -> torch.Tensor:
    """Frames (T, C, H, W) with dust and blotches detected and replaced.

    ``grow``: pixels added around each detection to cover soft blotch edges. ``flows``: a
    pipeline window's shared motion estimates (``ops.flow.SharedFlows``, or a tile's view of
    them), else estimated here. ``grain``: each frame's grain level (T,) measured on the whole
    frames (``pipeline.tiling`` runs tiles with it), else measured on ``frames``. ``outputs``:
    the frames whose output is returned (all by default; the others are only their context:
    a streamed pipeline's call computes no output it throws away), each the same as in all.
    """
    check_frames(frames, "dust")
    if sensitivity <= 0:
        raise SpecError(f"dust: sensitivity must be positive, got {sensitivity}")
    outputs = output_frames(frames, outputs)
    if frames.shape[0] < 2:
        return frames[outputs.start:outputs.stop].clone()  # one frame has no neighbour to tell dirt from picture
    out = frames.new_empty((len(outputs), *frames.shape[1:]))
    flows = chained_flows(frames, flows)  # one motion estimate per pair of consecutive frames
    for first in range(outputs.start, outputs.stop, FRAMES_PER_BATCH):
        last = min(first + FRAMES_PER_BATCH, outputs.stop)
        centre, previous, following, seen = _neighbours(frames, first, last, flows)
        mask = dilate(_detect(centre, previous, following, seen, sensitivity,
                              None if grain is None else grain[first:last]), int(grow))
        temporal = 0.5 * (previous + following)
        disagree = (luma(previous - following, weights=REC601_LUMA).abs() > 0.1).to(mask.dtype) * mask
        repaired = torch.where(mask > 0.5, temporal, centre)
        if bool(disagree.any()):
            spatial = _inpaint(centre, mask)
            repaired = torch.where(disagree > 0.5, spatial, repaired)
        out[first - outputs.start:last - outputs.start] = repaired.clamp(0.0, 1.0)
    return out


class Dust(torch.nn.Module):
    """Module form of :func:`remove_dust`."""

    def __init__(self, *, sensitivity: float = 1.0, grow: int = 1) -> None:
        super().__init__()
        self.sensitivity = sensitivity
        self.grow = grow

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return remove_dust(frames, sensitivity=self.sensitivity, grow=self.grow)


DUST_OP = OpSpec(
    name="dust",
    function=remove_dust,
    module=Dust,
    params={
        "sensitivity": Param(float, 1.0, minimum=0.25, maximum=4.0,
                             help="higher finds fainter dirt (and risks false detections)"),
        "grow": Param(int, 1, minimum=0, maximum=4, help="pixels added around each detection"),
    },
    temporal_radius=2,
    tileable=True,  # grain level and flows from the whole frames (pipeline.tiling._dust_tiled)
    shares_flows=True,
    description="dust and blotch detection and removal (temporal, motion-compensated)",
)
