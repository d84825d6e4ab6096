"""Spatial tiles inside a temporal window, sized from a memory budget, with feathered seams.

An op's working memory is a multiple of its input (flows, warped neighbours, pyramids: the film
preset needed 17.7 GB for six 4K frames), so a window of frames is cut into tiles and each op
runs tile by tile. Each tile is read with ``overlap`` extra pixels on every side: the outer half
is thrown away (an op's edge handling shows there) and the inner half is cross-faded with the
neighbour's by complementary raised-cosine weights, so no seam shows.

Ops that estimate something over the whole picture (the weave's shifts in ``stabilise``,
deflicker's brightness maps) would find a different estimate in every tile; they are split into
an estimate made ONCE on the whole window (on a reduced copy where the op reduces anyway) and an
apply run per tile with the shared estimate (``SHARED_ESTIMATES``).

Only ops that declare ``tileable`` (``OpSpec.tileable``: their tiled output equals their whole-frame
output) run in tiles; the others run on the window's whole frames, so no seam can show, and a
window holding one is sized for that (``window_for_budget(whole_frames=True)``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from restoration.errors import RestorationError
from restoration.ops.opspec import OpSpec

# A 16 GiB worker keeps a quarter for the process, the decoder and the writer.
DEFAULT_MAX_MEMORY = 12 * 2 ** 30
# Float32 copies of a tile that the heaviest op holds at once (flows, warped neighbours,
# pyramids), measured as peak RSS over input size on the film preset's ops at 2K; sets the tile
# side from the budget.
WORKING_COPIES = 24
# Whole-window tensors the runner itself holds: the window, an op's output, the blended output.
RESIDENT_COPIES = 3
# What a window's shared flows (ops.flow.SharedFlows: consecutive flows both ways and the pairs'
# confidences) hold until the window ends, in float32 copies of each frame. Only the ops that
# cannot be tiled share flows, so it is counted with theirs.
SHARED_FLOW_COPIES = 3
DEFAULT_OVERLAP = 32
MIN_TILE = 64
TILE_ALIGN = 16

_UNITS = {"": 1, "b": 1, "k": 10 ** 3, "kb": 10 ** 3, "m": 10 ** 6, "mb": 10 ** 6, "g": 10 ** 9, "gb": 10 ** 9,
          "kib": 2 ** 10, "mib": 2 ** 20, "gib": 2 ** 30, "t": 10 ** 12, "tb": 10 ** 12, "tib": 2 ** 40}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
MIN_MEMORY = 64 * 2 ** 20


def parse_memory_size(text: str) -> int:
    """Bytes from ``4GiB``, ``512MiB``, ``2G``, ``1.5GB`` or a plain number of bytes (at least 64 MiB)."""
    match = _SIZE.fullmatch(str(text).strip().lower())
    if match is None or match.group(2) not in _UNITS:
        raise RestorationError(f"--max-memory: expected a size such as 4GiB or 512MiB, got {text!r}")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size < MIN_MEMORY:
        raise RestorationError(f"--max-memory: {text!r} is below the minimum of 64MiB")
    return size


@dataclass(frozen=True)
class TilePlan:
    """Tiles of at most ``tile`` x ``tile`` pixels (before overlap); ``tile`` 0 means the whole frame."""

    tile: int
    overlap: int = DEFAULT_OVERLAP

    @property
    def whole_frame(self) -> bool:
        return self.tile == 0


def plan_tiles(*, frames: int, channels: int, height: int, width: int, max_memory: int) -> TilePlan:
    """The largest tiles whose working memory, with the resident window, fits ``max_memory``."""
    frame_bytes = channels * height * width * 4
    # When the window alone overruns the budget (long context at 4K), the tiles still get half of
    # it: 64 px tiles would spend most of their time on the overlap.
    left = max(max_memory - RESIDENT_COPIES * frames * frame_bytes, max_memory // 2)
    if WORKING_COPIES * frames * frame_bytes <= left:
        return TilePlan(0)
    area = left / (WORKING_COPIES * frames * channels * 4)
    side = int(math.sqrt(area)) - 2 * DEFAULT_OVERLAP
    side = max(MIN_TILE, side // TILE_ALIGN * TILE_ALIGN)
    return TilePlan(side)


def window_for_budget(*, window: int, context: int, channels: int, height: int, width: int,
                      max_memory: int, whole_frames: bool = False) -> int:
    """Output frames per window so that the window and its context take at most half the budget,
    or, with ``whole_frames`` (an op that cannot be tiled runs on the window's whole frames), so
    that the window and that op's working memory take at most the whole budget.

    Never fewer than the context radius: each window recomputes its context, so a window of one
    frame with 16 frames of context each side would run the ops 33 times per frame. When even that
    does not fit, the budget is exceeded by the context (the spatial tiles still bound the ops'
    working memory), rather than the run becoming an order of magnitude slower; see
    :func:`window_bytes` for what the runner then reports."""
    frame_bytes = channels * height * width * 4
    if whole_frames:
        fits = int(max_memory // ((RESIDENT_COPIES + WORKING_COPIES + SHARED_FLOW_COPIES) * frame_bytes)) - 2 * context
    else:
        fits = int(max_memory // 2 // (RESIDENT_COPIES * frame_bytes)) - 2 * context
    return max(1, min(window, max(fits, context)))


def window_bytes(*, frames: int, channels: int, height: int, width: int, whole_frames: bool) -> int:
    """The memory a window of ``frames`` (context included) is planned to take: the resident copies,
    and with ``whole_frames`` a non-tileable op's working copies of the whole frames."""
    copies = RESIDENT_COPIES + (WORKING_COPIES + SHARED_FLOW_COPIES if whole_frames else 0)
    return copies * frames * channels * height * width * 4


def _spans(length: int, tile: int) -> list[tuple[int, int]]:
    count = max(1, math.ceil(length / tile))
    edges = [round(i * length / count) for i in range(count + 1)]  # even tiles, no sliver at the end
    return list(zip(edges[:-1], edges[1:], strict=True))


def _ramp(length: int, lo_pad: int, hi_pad: int, overlap: int, *, device, dtype) -> torch.Tensor:
    """1-D weights over a tile read with ``lo_pad``/``hi_pad`` extra pixels: 0 on the outer half
    of the overlap, a raised cosine over the inner band (complementary to the neighbour's), 1 inside."""
    weight = torch.ones(length, device=device, dtype=dtype)
    band = overlap  # the cross-fade: from overlap/2 outside the core to overlap/2 inside it
    ramp = 0.5 - 0.5 * torch.cos(math.pi * (torch.arange(band, device=device, dtype=dtype) + 0.5) / band)
    if lo_pad:
        start = lo_pad - band // 2
        weight[:start] = 0.0
        weight[start:start + band] = ramp
    if hi_pad:
        stop = length - hi_pad + band // 2
        weight[stop:] = 0.0
        weight[stop - band:stop] = ramp.flip(0)
    return weight


def apply_tiled(function: Callable[[torch.Tensor], torch.Tensor], frames: torch.Tensor, plan: TilePlan
                ) -> torch.Tensor:
    """``function`` (T, C, h, w) -> (T, C, h, w) run tile by tile over ``frames`` and blended."""
    return apply_tiled_at(lambda tile, top, left: function(tile), frames, plan)


def apply_tiled_at(function: Callable[[torch.Tensor, int, int], torch.Tensor], frames: torch.Tensor,
                   plan: TilePlan) -> torch.Tensor:
    """As :func:`apply_tiled`, for a function also told where its tile's top-left pixel lies."""
    _, _, height, width = frames.shape
    if plan.whole_frame or (height <= plan.tile and width <= plan.tile):
        return function(frames, 0, 0)
    overlap = plan.overlap
    out = torch.zeros_like(frames)
    total = torch.zeros(1, 1, height, width, device=frames.device, dtype=frames.dtype)
    for y0, y1 in _spans(height, plan.tile):
        top, bottom = max(0, y0 - overlap), min(height, y1 + overlap)
        rows = _ramp(bottom - top, y0 - top, bottom - y1, overlap, device=frames.device, dtype=frames.dtype)
        for x0, x1 in _spans(width, plan.tile):
            left, right = max(0, x0 - overlap), min(width, x1 + overlap)
            cols = _ramp(right - left, x0 - left, right - x1, overlap, device=frames.device, dtype=frames.dtype)
            result = function(frames[:, :, top:bottom, left:right], top, left)
            weight = rows[:, None] * cols[None, :]
            out[:, :, top:bottom, left:right] += result * weight
            total[:, :, top:bottom, left:right] += weight
    return out / total


# -- ops with a whole-picture estimate: estimate once, apply per tile ------------------------------

def _stabilise_tiled(frames: torch.Tensor, plan: TilePlan, radius: int, strength: float, max_shift: float
                     ) -> torch.Tensor:
    from restoration.ops.stabilise import _shift_frames, weave_correction

    if strength == 0:
        return frames.clone()
    shifts, moved = weave_correction(frames, radius=radius, strength=strength, max_shift=max_shift)
    out = frames.clone()
    if bool(moved.any()):
        # The tile must see the pixels its content comes from: widen the overlap past the shift
        # (and the bicubic kernel), so only the frame's own edges are reflected.
        reach = int(math.ceil(float(shifts[moved].abs().max()))) + 4
        wide = TilePlan(plan.tile, max(plan.overlap, 2 * reach))
        chosen = shifts[moved]
        out[moved] = apply_tiled(lambda tile: _shift_frames(tile, chosen), frames[moved], wide)
    return out


def _deflicker_tiled(frames: torch.Tensor, plan: TilePlan, radius: int, strength: float, contrast: bool
                     ) -> torch.Tensor:
    from restoration.ops.deflicker import WORK_SIDE, brightness_maps

    _, _, height, width = frames.shape
    # brightness_maps averages the luma down by this factor first; luma is linear, so the maps of
    # the reduced copy are the same maps, from a fraction of the memory.
    factor = max(1, min(height, width) // WORK_SIDE)
    reduced = F.avg_pool2d(frames, factor, ceil_mode=True) if factor > 1 else frames
    gain, offset = brightness_maps(reduced, radius=radius, contrast=contrast)
    gain = 1.0 + strength * (gain - 1.0)
    offset = strength * offset
    maps = torch.cat([gain, offset], dim=1)

    def apply(tile: torch.Tensor, top: int, left: int) -> torch.Tensor:
        # The bilinear upsampling of the whole-frame maps (align_corners=False), at this tile's pixels.
        h, w = tile.shape[-2:]
        ys = (torch.arange(top, top + h, device=tile.device, dtype=maps.dtype) + 0.5) * (2.0 / height) - 1.0
        xs = (torch.arange(left, left + w, device=tile.device, dtype=maps.dtype) + 0.5) * (2.0 / width) - 1.0
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        grid = torch.stack((grid_x, grid_y), dim=-1)[None].expand(tile.shape[0], -1, -1, -1)
        local = F.grid_sample(maps, grid, mode="bilinear", padding_mode="border", align_corners=False)
        return (tile * local[:, :1] + local[:, 1:]).clamp(0.0, 1.0)

    return _apply_positioned(apply, frames, plan)


def _apply_positioned(apply: Callable[[torch.Tensor, int, int], torch.Tensor], frames: torch.Tensor,
                      plan: TilePlan) -> torch.Tensor:
    """A pointwise apply needs no overlap: tiles side by side, each told where it sits."""
    if plan.whole_frame:
        return apply(frames, 0, 0)
    _, _, height, width = frames.shape
    out = torch.empty_like(frames)
    for y0, y1 in _spans(height, plan.tile):
        for x0, x1 in _spans(width, plan.tile):
            out[:, :, y0:y1, x0:x1] = apply(frames[:, :, y0:y1, x0:x1], y0, x0)
    return out


def _deblock_tiled(frames: torch.Tensor, plan: TilePlan, strength: float, block_size: int) -> torch.Tensor:
    from restoration.ops.deblock import _blocking_level, _deblock_columns, find_grid_phase

    if strength == 0:
        return frames.clone()
    # The grid's phase and the blocking level set the filter's thresholds: measured on whole
    # frames (one luma column profile each), shared by the tiles, the phase moved to each tile's origin.
    phases = find_grid_phase(frames, block_size)

    def one_direction(images: torch.Tensor, phase: torch.Tensor, tiles: TilePlan) -> torch.Tensor:
        levels = torch.stack([_blocking_level(image, int(p), block_size) for image, p in zip(images, phase, strict=True)])
        return apply_tiled_at(
            lambda tile, top, left: _deblock_columns(tile, (phase - left) % block_size, block_size, strength, levels),
            images, tiles)

    out = one_direction(frames, phases[:, 0], plan)
    out = one_direction(out.transpose(-1, -2), phases[:, 1], plan).transpose(-1, -2)
    return out.clamp(0.0, 1.0).contiguous()


def _scratch_tiled(frames: torch.Tensor, plan: TilePlan, sensitivity: float, temporal: bool) -> torch.Tensor:
    from restoration.ops.scratch import fill_scratches, remove_scratches, signed_scratches

    if temporal:  # the temporal fill warps whole neighbours along the flow: whole frames
        return remove_scratches(frames, sensitivity=sensitivity, temporal=True)
    # A scratch is a column judged against the whole row's profile and its neighbours: detected
    # once on whole frames (luma only), filled per tile along rows (lines are far narrower than
    # the overlap's discarded half).
    signed = signed_scratches(frames, sensitivity=sensitivity)
    if not bool(signed.any()):
        return frames.clone()
    return apply_tiled_at(
        lambda tile, top, left: fill_scratches(
            tile, signed[..., top:top + tile.shape[-2], left:left + tile.shape[-1]]),
        frames, plan)


SHARED_ESTIMATES: dict[str, Callable[..., torch.Tensor]] = {
    "stabilise": _stabilise_tiled,
    "deflicker": _deflicker_tiled,
    "deblock": _deblock_tiled,
    "scratch": _scratch_tiled,
}


def run_op_tiled(op: OpSpec, frames: torch.Tensor, params: dict[str, Any], plan: TilePlan) -> torch.Tensor:
    """One op over a window: whole frames unless it is ``tileable``; in tiles its shared-estimate
    form where it has one, else tile by tile."""
    if plan.whole_frame or not op.tileable:
        return op.function(frames, **params)
    shared = SHARED_ESTIMATES.get(op.name)
    if shared is not None:
        return shared(frames, plan, **params)
    return apply_tiled(lambda tile: op.function(tile, **params), frames, plan)
