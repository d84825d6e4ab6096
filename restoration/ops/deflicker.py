"""Brightness flicker removal (global and low-frequency spatial).

Flicker is a fast, random change of exposure from frame to frame (uneven shutter, exposure,
processing or fading of the emulsion), often uneven across the picture. Real lighting changes
are slow or are steps (a light is switched on). So, per frame t:

1. local brightness statistics (mean and contrast) are measured on a low-resolution copy, in
   windows a tenth of the picture wide;
2. the same statistics are measured on the neighbours t-R..t+R after motion-compensating them
   onto frame t (so a pan or a moving object does not look like a brightness change);
3. the target is the per-window temporal median of those statistics: a median ignores the odd
   flickering frame, follows slow changes and keeps steps;
4. a smooth gain and offset map that moves frame t's statistics to the target is interpolated
   to full resolution and applied.

A clip without flicker has statistics equal to their median already and is left (almost)
unchanged. Frames beyond the clip's edges are reflected, so frame t depends on t-R..t+R only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from restoration.errors import SpecError
from restoration.luma import REC601_LUMA, luma  # Rec. 601: the luma this op's thresholds were tuned on
from restoration.ops._common import box_filter, check_frames, neighbour_offsets, reflected_indices
from restoration.ops.flow import ChainedFlows, align_neighbours, alike, brightness_offset, trusted
from restoration.ops.opspec import OpSpec, Param

__all__ = ["deflicker", "Deflicker", "brightness_maps", "reduction_factor", "reduced_luma", "maps_of_reduced", "apply_maps", "DEFLICKER_OP"]

MAX_RADIUS = 12  # a shot-long median (+-12 frames at 24 fps) also takes out the slow part of flicker
# The statistics are measured on a copy about this many pixels on its shorter side.
WORK_SIDE = 90
# The flow between the low-resolution copies is estimated this small and upsampled.
FLOW_SIDE = 40
# Pairs motion-compensated per batch (small images, so large batches are cheap).
PAIRS_PER_BATCH = 64
# Keeps the contrast gain sane in flat areas (std near zero).
CONTRAST_FLOOR = 0.05
# Luma difference of an aligned, brightness-matched neighbour (on the averaged low-resolution copy,
# where grain is small) beyond which it is not the same place.
ALIKE_TOLERANCE = 0.04


def _local_statistics(grey: torch.Tensor, radius: int) -> tuple[torch.Tensor, torch.Tensor]:
    mean = box_filter(grey, radius)
    variance = (box_filter(grey * grey, radius) - mean * mean).clamp_min(0.0)
    return mean, variance.sqrt()


def reduction_factor(frames: torch.Tensor) -> int:
    """How many pixels each way one pixel of the copy the maps are measured on averages."""
    return max(1, min(frames.shape[-2:]) // WORK_SIDE)


def reduced_luma(frames: torch.Tensor) -> torch.Tensor:
    """The low-resolution luma (T, 1, h, w) the maps are measured on, frame by frame: a streamed
    pipeline keeps a neighbour as this copy once its own output is made (``pipeline.runner``)."""
    check_frames(frames, "deflicker")
    factor = reduction_factor(frames)
    grey = luma(frames, weights=REC601_LUMA)
    return F.avg_pool2d(grey, factor, ceil_mode=True) if factor > 1 else grey


def brightness_maps(frames: torch.Tensor, *, radius: int = 4, contrast: bool = False
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Low-resolution gain and offset maps (T, 1, h, w) that remove flicker: ``gain * x + offset``."""
    return maps_of_reduced(reduced_luma(frames), radius=radius, contrast=contrast)


def maps_of_reduced(low: torch.Tensor, *, radius: int = 4, contrast: bool = False
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`brightness_maps` of the frames whose :func:`reduced_luma` is ``low``."""
    radius = int(radius)
    if not 1 <= radius <= MAX_RADIUS:
        raise SpecError(f"deflicker: radius must be in 1..{MAX_RADIUS}, got {radius}")
    t_count = low.shape[0]
    window = max(2, round(min(low.shape[-2:]) / 10))
    own_mean, own_std = _local_statistics(low, window)

    offsets = neighbour_offsets(radius)
    index = reflected_indices(t_count, offsets, device=low.device).reshape(-1)  # offset-major
    centres = torch.arange(t_count, device=low.device).repeat(len(offsets))
    means, stds = [own_mean], [own_std]
    # One coarse motion estimate per frame (t -> t+1), chained to reach the far neighbours: the
    # statistics cover windows a tenth of the picture wide, so a chained flow is plenty, and a
    # +-8-frame median then costs no more flow estimates than a +-1-frame one. The flow works on
    # contrast-normalised images, so flicker does not disturb it.
    flows = ChainedFlows(low, work_side=FLOW_SIDE)
    flows.prepare(range(t_count - 1))
    aligned_parts = []
    for first in range(0, index.numel(), PAIRS_PER_BATCH):
        batch = slice(first, first + PAIRS_PER_BATCH)
        aligned, confidence = align_neighbours(low, flows, centres[batch].tolist(), index[batch].tolist(),
                                               brightness_limit=None)
        centre = low[centres[batch]]
        # Where the flow fails (things moving against the camera, occlusions) the neighbour's
        # brightness is not that of the same place: the frame's own stands in for it there. The
        # likeness test (after matching the flicker it measures) catches what the check misses.
        matched = aligned + brightness_offset(centre, aligned, limit=1.0)
        confidence = confidence * alike(matched, centre, torch.full((centre.shape[0],), ALIKE_TOLERANCE), radius=1)
        aligned_parts.append(trusted(aligned, centre, confidence))
    aligned = torch.cat(aligned_parts).view(len(offsets), t_count, *low.shape[1:])
    for k in range(len(offsets)):
        mean, std = _local_statistics(aligned[k], window)
        means.append(mean)
        stds.append(std)
    target_mean = torch.stack(means).median(dim=0).values
    if contrast:
        target_std = torch.stack(stds).median(dim=0).values
        gain = ((target_std + CONTRAST_FLOOR) / (own_std + CONTRAST_FLOOR)).clamp(0.8, 1.25)
    else:
        gain = torch.ones_like(own_mean)
    offset = target_mean - gain * own_mean
    return gain, offset


def deflicker(frames: torch.Tensor, *, radius: int = 4, strength: float = 1.0, contrast: bool = False
              ) -> torch.Tensor:
    """Frames (T, C, H, W) with brightness flicker removed.

    ``radius``: frames on each side the brightness is compared with (1..12; longer follows
    lighting changes more slowly). ``strength``: 0..1, how much of the correction is applied.
    ``contrast``: correct local contrast (gain) as well as local brightness (offset); off by
    default, as contrast statistics are noisier (motion, occlusion) and within windows a tenth
    of the picture wide an exposure change is mostly an offset.
    """
    check_frames(frames, "deflicker")
    if not 0.0 <= strength <= 1.0:
        raise SpecError(f"deflicker: strength must be in 0..1, got {strength}")
    return apply_maps(frames, *brightness_maps(frames, radius=radius, contrast=contrast), strength=strength)


def apply_maps(frames: torch.Tensor, gain: torch.Tensor, offset: torch.Tensor, *, strength: float = 1.0
               ) -> torch.Tensor:
    """:func:`deflicker`'s correction of ``frames`` by their :func:`brightness_maps`."""
    size = frames.shape[-2:]
    gain = F.interpolate(gain, size=size, mode="bilinear", align_corners=False)
    offset = F.interpolate(offset, size=size, mode="bilinear", align_corners=False)
    gain = 1.0 + strength * (gain - 1.0)
    offset = strength * offset
    return (frames * gain + offset).clamp(0.0, 1.0)


class Deflicker(torch.nn.Module):
    """Module form of :func:`deflicker`."""

    def __init__(self, *, radius: int = 4, strength: float = 1.0, contrast: bool = False) -> None:
        super().__init__()
        self.radius = radius
        self.strength = strength
        self.contrast = contrast

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return deflicker(frames, radius=self.radius, strength=self.strength, contrast=self.contrast)


DEFLICKER_OP = OpSpec(
    name="deflicker",
    function=deflicker,
    module=Deflicker,
    params={
        "radius": Param(int, 4, minimum=1, maximum=MAX_RADIUS,
                        help="frames on each side the brightness is compared with"),
        "strength": Param(float, 1.0, minimum=0.0, maximum=1.0, help="share of the correction applied"),
        "contrast": Param(bool, False, help="also even out local contrast, not only brightness"),
    },
    temporal_radius=MAX_RADIUS,
    radius_param="radius",
    tileable=True,  # its whole-frame estimate is shared by the tiles (pipeline.tiling)
    description="brightness flicker removal",
)
