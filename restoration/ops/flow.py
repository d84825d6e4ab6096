"""Dense motion estimation shared by the temporal ops (denoise, dust, deflicker, stabilise, ...).

``estimate_flow(source, target)`` returns a per-pixel displacement (N, 2, H, W), in pixels, x then
y, such that ``warp(target, flow)`` approximates ``source``: the content of source at (x, y) is
found in target at (x + u, y + v).

The method is coarse-to-fine iterative Lucas-Kanade with robust (Cauchy) weights, which is fast
on a CPU and good enough for the smooth motion of film (pans, zooms, weave, slow objects):

- Old film flickers and is grainy, so matching is done on locally mean- and contrast-normalised
  grey images (a brightness or gain change between frames does not move the flow), built from
  a 2x2-averaged pyramid (which also averages grain away).
- Dust, blotches and occlusions break brightness constancy; the Cauchy weights down-weight pixels
  with a large residual and the flow is smoothed after every update, so a blotch neither pulls
  the flow nor leaves a hole in it.
- On large frames the finest levels are skipped (``work_side``): the flow of film footage is
  smooth, and it is upsampled bilinearly, which keeps the cost per pair a few milliseconds.
"""

from __future__ import annotations

import functools
import math
import threading

import torch
import torch.nn.functional as F

from restoration.errors import SpecError
from restoration.luma import REC601_LUMA, luma  # Rec. 601: the luma the estimator was tuned on
from restoration.ops._common import box_filter, upsampled_region

__all__ = ["estimate_flow", "flows_between", "warp", "resize_flow", "align", "inside", "brightness_offset", "consistency",
           "align_neighbours", "warp_neighbours", "alike", "alike_difference", "trusted", "ChainedFlows", "SharedFlows", "TileFlows", "chained_flows", "flow_region",
           "FlowEstimator"]

# Forward-backward check (Sundaram et al. 2010): a round trip t -> j -> t that misses by more than
# about half a pixel plus a few % of the motion means the pixel is occluded in j, or that the flow
# does not follow what moves there.
ROUND_TRIP_PX = 0.5
ROUND_TRIP_RELATIVE = 0.05
# How far (pixels of the flow's working level) a pixel looks for the motion of its own side of a
# motion boundary (estimate_flow's ``boundaries``), in the flows the temporal ops chain.
FOLLOW_BOUNDARIES_PX = 4
# How strongly the candidate that matches best wins there: one matching twice as well weighs 2^8
# times more than it.
BOUNDARY_SHARPNESS = 8.0
# The forward-backward check (:func:`consistency`) runs at the smallest pyramid level whose shorter
# side still has this many pixels (and no coarser than the flow's working level), and its result is
# enlarged: the flows are estimated at 100-150 px (``work_side``) and enlarged bilinearly, so at full
# size a 4K frame's check repeated the same smooth values 64 times over, at 11 % of the classical
# chain's time. 2K and 4K are checked at 389 x 512, 1080p at 270 x 480, 480p at 240 x 427 (-8 % of
# learned_restore's CPU there against a check at full size, the same PSNR to 0.003 dB on moving
# cut-outs at 640 x 480). Frames below twice this (SD scans of 368 lines) are checked at their own size.
CHECK_SIDE = 240
# Side (pixels) of the cells over which an aligned frame's slowly varying brightness is matched.
BRIGHTNESS_CELL = 16
# How far past the image's edge (pixels) a sample still counts as inside (:func:`inside`): the
# border padding there is the edge pixel's value to 1 %, and zero motion (a still picture's flow,
# whose sign a rounding decides) stays clear of the decision.
EDGE_MARGIN_PX = 0.01
# Past the margin a sample's share of trust falls to 0 over this distance (pixels): within half a
# pixel the border padding is still close to what lies there.
EDGE_RAMP_PX = 0.5


def _check_images(images: torch.Tensor, name: str) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise SpecError(f"flow: {name} must be a tensor (N, C, H, W), got {shape}")
    if not images.is_floating_point():
        raise SpecError(f"flow: {name} must be a float tensor, got dtype {images.dtype}")


def _sampling_grid(flow: torch.Tensor) -> torch.Tensor:
    """(N, 2, H, W) pixel displacement -> grid_sample grid (N, H, W, 2) in [-1, 1] (align_corners).
    Made in the flow's own layout and handed over as a view (grid_sample takes it strided, as
    fast): permuting first wrote an interleaved copy, 2x the time of the whole grid."""
    n, _, h, w = flow.shape
    scale_x = 2.0 / max(w - 1, 1)
    scale_y = 2.0 / max(h - 1, 1)
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype) * scale_x - 1.0
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype) * scale_y - 1.0
    origins = torch.stack((xs.expand(h, w), ys.view(h, 1).expand(h, w)))
    return torch.addcmul(origins, flow, flow.new_tensor([scale_x, scale_y]).view(1, 2, 1, 1)).permute(0, 2, 3, 1)


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``image`` (N, C, H, W) at (x + u, y + v), bilinear, with border padding.

    ``flow`` is (N, 2, H, W) or (1, 2, H, W) (broadcast over N), in pixels, x then y.
    """
    _check_images(image, "image")
    _check_images(flow, "flow")
    n, _, h, w = image.shape
    if flow.shape[1] != 2 or flow.shape[-2:] != image.shape[-2:] or flow.shape[0] not in (1, n):
        raise SpecError(f"flow: flow of shape {tuple(flow.shape)} does not fit images of shape {tuple(image.shape)}")
    grid = _sampling_grid(flow.to(image.dtype)).expand(n, h, w, 2)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def _normalise(grey: torch.Tensor, radius: int) -> torch.Tensor:
    """Local zero mean, unit contrast: invariant to the slowly varying gain/offset of flicker."""
    mean = box_filter(grey, radius)
    centred = grey - mean
    std = box_filter(centred * centred, radius).sqrt()
    # The floor keeps flat, grainy areas from being amplified into strong fake texture.
    floor = 0.02 + 0.25 * std.mean(dim=(-2, -1), keepdim=True)
    return centred / (std + floor)


def _pyramid(grey: torch.Tensor, levels: int) -> list[torch.Tensor]:
    pyramid = [grey]
    for _ in range(levels - 1):
        pyramid.append(F.avg_pool2d(pyramid[-1], 2, ceil_mode=True))
    return pyramid


def _gradients(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    padded = F.pad(image, (1, 1, 1, 1), mode="replicate")
    grad_x = 0.5 * (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2])
    grad_y = 0.5 * (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1])
    return grad_x, grad_y


def _smooth_with_confidence(flow: torch.Tensor, confidence: torch.Tensor, pool: int) -> torch.Tensor:
    """Normalised convolution on a grid ``pool`` times coarser, upsampled bilinearly.

    Textured (confident) pixels set the flow; flat or aperture-limited ones inherit it from
    their neighbours. Pooling first keeps this cheap and gives a smoothing scale of ~pool px.
    """
    h, w = flow.shape[-2:]
    if pool > 1 and min(h, w) >= 2 * pool:
        # pooled apart and stacked small: the same values as stacking first, without a full-size copy
        stacked = torch.cat((F.avg_pool2d(flow * confidence, pool, ceil_mode=True),
                             F.avg_pool2d(confidence, pool, ceil_mode=True)), 1)
        stacked = box_filter(stacked, 1).contiguous(memory_format=torch.channels_last)
        # Channels-last: the same values, and the CPU's bilinear upsampling of 3 channels takes
        # 0.6x the time. The flow comes back in the usual layout (later kernels round by layout).
        stacked = F.interpolate(stacked, size=(h, w), mode="bilinear", align_corners=False)
        return torch.div(stacked[:, :2], stacked[:, 2:], out=flow.new_empty(flow.shape))
    stacked = box_filter(torch.cat((flow * confidence, confidence), 1), 2)
    return stacked[:, :2] / stacked[:, 2:]


def resize_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resample a pixel flow field (N, 2, H, W) to ``size`` (h, w), scaling its vectors by the size
    ratio of each axis (x by w / W, y by h / H). A reduction averages every vector it covers
    (area), so no motion is skipped; an enlargement interpolates (bilinear)."""
    h, w = flow.shape[-2:]
    if (h, w) == tuple(size):
        return flow
    if size[0] <= h and size[1] <= w:
        resized = F.interpolate(flow, size=size, mode="area")
    else:
        resized = F.interpolate(flow, size=size, mode="bilinear", align_corners=False)
    return resized * flow.new_tensor([size[1] / w, size[0] / h]).view(1, 2, 1, 1)


def flow_region(flow: torch.Tensor, size: tuple[int, int], top: int, left: int, height: int, width: int
                ) -> torch.Tensor:
    """``resize_flow(flow, size)[..., top:top + height, left:left + width]`` without making the
    whole field: a flow estimated at a coarse working size, enlarged at one tile's pixels only
    (a 4K flow field is 100 MB; its working level a few hundred KB). Same values within float
    rounding (bilinear, align_corners=False, border: as ``F.interpolate``)."""
    h, w = flow.shape[-2:]
    if (h, w) == tuple(size):
        return flow[..., top:top + height, left:left + width]
    if size[0] <= h and size[1] <= w:  # a reduction averages (resize_flow's area): rare, made whole
        return resize_flow(flow, size)[..., top:top + height, left:left + width]
    return upsampled_region(flow, size, top, left, height, width) * flow.new_tensor(
        [size[1] / w, size[0] / h]).view(1, 2, 1, 1)


def _refine(source: torch.Tensor, target: torch.Tensor, flow: torch.Tensor, *, iterations: int,
            window: int, smooth: int) -> torch.Tensor:
    """Iterative robust Lucas-Kanade at one pyramid level (gradients of the source, fixed)."""
    grad_x, grad_y = _gradients(source)
    products = torch.cat((grad_x * grad_x, grad_x * grad_y, grad_y * grad_y), 1)
    gradients = torch.cat((grad_x, grad_y), 1)
    weighted = products.new_empty(products.shape[0], 5, *products.shape[-2:])  # filled in place each iteration
    for _ in range(iterations):
        residual = warp(target, flow) - source
        # Cauchy weights: pixels that do not fit (blotches, occlusion) count little.
        weight = 1.0 / (1.0 + (residual * (1.0 / 0.6)) ** 2)
        torch.mul(weight, products, out=weighted[:, :3])
        torch.mul(weight * residual, gradients, out=weighted[:, 3:])
        sums = box_filter(weighted, window)
        a11, a12, a22, b1, b2 = sums.unbind(1)
        # Tikhonov term: no texture -> no update (the coarser level's flow stays).
        reg = 1e-2 + 0.05 * (a11 + a22).mean(dim=(-2, -1), keepdim=True)
        a11 = a11 + reg
        a22 = a22 + reg
        det = a11 * a22 - a12 * a12
        update = torch.stack(((a12 * b2 - a22 * b1) / det, (a12 * b1 - a11 * b2) / det), 1).clamp(-1.0, 1.0)
        # Smaller eigenvalue of the structure tensor: high only where both directions are textured.
        half_trace = 0.5 * (a11 + a22)
        min_eig = half_trace - (0.25 * (a11 - a22) ** 2 + a12 * a12).sqrt() - reg
        confidence = min_eig.clamp_min(0.0).unsqueeze(1) + 1e-3 * reg.unsqueeze(1)
        flow = _smooth_with_confidence(flow + update, confidence, smooth)
    return flow


def _follow_boundaries(source: torch.Tensor, target: torch.Tensor, flow: torch.Tensor, step: int,
                       radius: int = 2) -> torch.Tensor:
    """Sharpen motion boundaries: each pixel takes, of its own flow and the flows ``step`` pixels
    away in the 8 directions, the one that matches best over a small window.

    The smoothing of :func:`_refine` spreads a moving object's motion over its surroundings and
    the background's over the object, so near a boundary neither is followed (misaligned content
    blended by an op is a ghost). A pixel near the boundary has the right motion within a few
    pixels on its own side: choosing by the local matching error gives it back.
    """
    h, w = flow.shape[-2:]
    padded = F.pad(flow, (step, step, step, step), mode="replicate")
    candidates = [flow]
    for dy in (-step, 0, step):
        for dx in (-step, 0, step):
            if dy or dx:  # the flow (dy, dx) pixels back: a view of the padded flow
                candidates.append(padded[..., step - dy:step - dy + h, step - dx:step - dx + w])
    errors = torch.stack([box_filter((warp(target, candidate) - source).abs(), radius) for candidate in candidates])
    errors[0] *= 0.9  # a small bias for the smooth flow where candidates tie
    # Weights as error ** -BOUNDARY_SHARPNESS, normalised: a soft choice. The hard one (the least
    # error) flipped between candidates on float rounding alone, moving the flow by a third of a
    # pixel where tiled and whole frames differ by 1e-6.
    weights = torch.softmax(-BOUNDARY_SHARPNESS * torch.log(errors + 1e-6), dim=0)
    return (weights * torch.stack(candidates)).sum(0)


def estimate_flow(source: torch.Tensor, target: torch.Tensor, *, levels: int | None = None,
                  work_side: int = 100, iterations: int = 4, window: int = 3,
                  smooth: int = 4, boundaries: int = 0) -> torch.Tensor:
    """Displacement (N, 2, H, W) in pixels such that ``warp(target, flow)`` approximates ``source``.

    ``source`` and ``target`` are (N, C, H, W) (C may differ only if both are grey/RGB; both are
    reduced to grey). ``levels`` caps the pyramid depth (default: down to ~16 px); ``work_side``
    is the shorter side at which the finest estimate is made (larger frames are estimated on a
    downsampled level and the flow upsampled); ``iterations`` per level; ``window`` the radius
    of the Lucas-Kanade window at each level; ``smooth`` the scale (pixels of each level) of the
    confidence-weighted smoothing that fills flat areas and suppresses outliers; ``boundaries``
    (pixels of the finest level, 0: off) lets each pixel take a flow that far away where it
    matches better (:func:`_follow_boundaries`: things moving on their own keep their motion).
    """
    _check_images(source, "source")
    _check_images(target, "target")
    if source.shape[0] != target.shape[0] or source.shape[-2:] != target.shape[-2:]:
        raise SpecError(
            f"flow: source {tuple(source.shape)} and target {tuple(target.shape)} must have the same N, H and W"
        )
    n = source.shape[0]
    return flows_between(torch.cat((source, target.to(source.dtype)), 0), [(i, n + i) for i in range(n)],
                         levels=levels, work_side=work_side, iterations=iterations, window=window, smooth=smooth,
                         boundaries=boundaries)


def flows_between(frames: torch.Tensor, pairs: list[tuple[int, int]], *, levels: int | None = None,
                  work_side: int = 100, iterations: int = 4, window: int = 3, smooth: int = 4,
                  boundaries: int = 0) -> torch.Tensor:
    """:func:`estimate_flow` from ``frames[i]`` to ``frames[j]`` for each (i, j) of ``pairs``, in one
    batch (K, 2, H, W), the same values: each frame's matching images are made once, however many
    pairs it is in (a clip's consecutive flows both ways put every frame in four)."""
    return resize_flow(coarse_flows_between(frames, pairs, levels=levels, work_side=work_side, iterations=iterations,
                                            window=window, smooth=smooth, boundaries=boundaries),
                       frames.shape[-2:]).to(frames.dtype)


def coarse_flows_between(frames: torch.Tensor, pairs: list[tuple[int, int]], *, levels: int | None = None,
                         work_side: int = 100, iterations: int = 4, window: int = 3, smooth: int = 4,
                         boundaries: int = 0) -> torch.Tensor:
    """:func:`flows_between` at the working level it is estimated on (``work_side``), in that
    level's pixels, before :func:`resize_flow` enlarges it to the frames' size."""
    h, w = frames.shape[-2:]
    levels, finest = _levels(h, w, levels, work_side)
    pyramid = normalised_pyramid(frames, levels=levels, finest=finest)
    sources = torch.tensor([i for i, _ in pairs], device=frames.device)
    targets = torch.tensor([j for _, j in pairs], device=frames.device)
    return _estimate(pyramid[sources], pyramid[targets], iterations=iterations, window=window,
                     smooth=smooth, boundaries=boundaries)


def _levels(h: int, w: int, levels: int | None, work_side: int) -> tuple[int, int]:
    """(pyramid levels, finest level estimated) for frames of h x w (see :func:`estimate_flow`)."""
    short_side = min(h, w)
    max_levels = max(1, int(math.floor(math.log2(max(short_side, 16) / 16))) + 1)
    levels = max_levels if levels is None else max(1, min(int(levels), max_levels))
    finest = 0
    while finest < levels - 1 and short_side / 2 ** finest > work_side * 1.5:
        finest += 1
    return levels, finest


class _Pyramid:
    """The normalised grey images :func:`estimate_flow` matches, levels ``finest`` (index 0 here)
    to the coarsest, for a batch of frames; indexing selects frames."""

    def __init__(self, images: list[torch.Tensor]):
        self.images = images

    def __getitem__(self, index: torch.Tensor) -> _Pyramid:
        return _Pyramid([image[index] for image in self.images])


def normalised_pyramid(frames: torch.Tensor, *, levels: int, finest: int) -> _Pyramid:
    """Each frame's matching images (grey, locally normalised, levels ``finest``..``levels - 1``):
    they depend on the frame alone, so a frame in several pairs is prepared once."""
    compute_dtype = torch.float32 if frames.dtype in (torch.float16, torch.bfloat16) else frames.dtype
    pyramid = _pyramid(luma(frames, weights=REC601_LUMA).to(compute_dtype), levels)
    return _Pyramid([_normalise(box_filter(box_filter(pyramid[level], 1), 1), radius=4)
                     for level in range(finest, levels)])


def _estimate(source: _Pyramid, target: _Pyramid, *, iterations: int, window: int,
              smooth: int, boundaries: int) -> torch.Tensor:
    flow = None
    coarsest = len(source.images) - 1
    for level in range(coarsest, -1, -1):
        src, tgt = source.images[level], target.images[level]
        flow = src.new_zeros(src.shape[0], 2, *src.shape[-2:]) if flow is None else resize_flow(flow, src.shape[-2:])
        flow = _refine(src, tgt, flow, iterations=iterations * 2 if level == coarsest else iterations,
                       window=window, smooth=smooth)
        if boundaries and level == 0:
            flow = _follow_boundaries(src, tgt, flow, boundaries)
    return flow


def _lowpass(images: torch.Tensor, cell: int) -> torch.Tensor:
    """The means of ``cell`` x ``cell`` cells (smoothed over their 3 x 3 neighbours) enlarged
    bilinearly, each about its own centre: cell i's at pixel ``cell * i + (cell - 1) / 2`` whatever
    the images' size, so a tile read from a pixel on the cell grid (``pipeline.tiling``) gets the
    whole frame's values away from its edges. (``F.interpolate(size=)`` stretches the cells by
    h / ceil(h / cell), which moved their centres by the tile's size.)"""
    h, w = images.shape[-2:]
    if min(h, w) < 2 * cell:
        return images.mean(dim=(-2, -1), keepdim=True).expand_as(images)
    rows, narrow = _cell_enlargement(images, cell)
    return rows @ narrow


def _add_lowpass(target: torch.Tensor, images: torch.Tensor, cell: int) -> None:
    """``target += _lowpass(images, cell)`` in place, without the full-size map: the enlargement
    of the rows is accumulated into ``target`` by the matrix product itself."""
    h, w = images.shape[-2:]
    if min(h, w) < 2 * cell or not target.is_contiguous():
        target += _lowpass(images, cell)
        return
    rows, narrow = _cell_enlargement(images, cell)
    narrow = narrow.reshape(-1, *narrow.shape[-2:])
    target.view(-1, h, w).baddbmm_(rows.expand(narrow.shape[0], -1, -1), narrow)


def _cell_enlargement(images: torch.Tensor, cell: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_lowpass` as two matrix products ``rows @ narrow``: the smoothed cell means
    enlarged along the columns (``narrow``, (..., cells, W)) and the rows' bilinear weights
    (``rows``, (H, cells)). The same values as ``F.interpolate``'s bilinear enlargement at the
    cell's scale (align_corners=False, edges clamped) to float rounding, in 0.6x its time on a
    CPU: each output is a product over a few cells, not a gather of four."""
    h, w = images.shape[-2:]
    pooled = box_filter(F.avg_pool2d(images, cell, ceil_mode=True), 1)
    columns = _bilinear_weights(w, pooled.shape[-1], cell, images.dtype, images.device)
    rows = _bilinear_weights(h, pooled.shape[-2], cell, images.dtype, images.device)
    return rows, pooled @ columns.T


@functools.lru_cache(maxsize=32)
def _bilinear_weights(size: int, cells: int, cell: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(size, cells): each pixel's bilinear weights on the ``cells`` values whose centres lie at
    ``cell * i + (cell - 1) / 2`` (two neighbours, one past the last centre or before the first)."""
    position = ((torch.arange(size, dtype=torch.float64) + 0.5) / cell - 0.5).clamp_(min=0.0)
    low = position.floor().long().clamp_(max=cells - 1)
    high = (low + 1).clamp_(max=cells - 1)
    share = position - low
    weights = torch.zeros(size, cells, dtype=torch.float64)
    pixels = torch.arange(size)
    weights.index_put_((pixels, low), 1.0 - share, accumulate=True)
    weights.index_put_((pixels, high), share, accumulate=True)
    return weights.to(dtype=dtype, device=device)


def align(source: torch.Tensor, target: torch.Tensor, *, match_brightness: bool = True,
          brightness_limit: float | torch.Tensor = 0.08, cell: int = BRIGHTNESS_CELL, return_flow: bool = False,
          smooth: int = 4):
    """``target`` motion-compensated onto ``source`` (both (N, C, H, W)).

    With ``match_brightness`` the slowly varying brightness difference (flicker) is removed
    too: the difference source - warped target, clipped to +-``brightness_limit`` (a scalar
    or one value per image) so that misaligned objects and blotches barely bias it, is
    averaged over cells of ``cell`` pixels, interpolated smoothly and added to the warp.
    With ``return_flow`` the flow is returned too: ``(aligned, flow)``. ``smooth`` is passed to
    :func:`estimate_flow` (larger: closer to a global motion, more robust to grain).
    """
    flow = estimate_flow(source, target, smooth=smooth)
    aligned = warp(target, flow)
    if match_brightness:
        aligned = aligned + brightness_offset(source, aligned, limit=brightness_limit, cell=cell)
    return (aligned, flow) if return_flow else aligned


def inside(flow: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) in [0, 1]: how far ``warp`` samples inside the image rather than its padded
    border: 1 inside or within ``EDGE_MARGIN_PX`` of its edge, falling to 0 over the next
    ``EDGE_RAMP_PX``. A ramp, not a cut: a flow a rounding moves across a hard edge test turned
    a neighbour's confidence from 1 to 0 (tiled and whole frames 1e-6 apart: 4 codes of
    difference after denoise).

    Tiles and whole frames must judge a sample alike: the flow is compared with each pixel's
    distance to the edges (whole numbers, the same for a tile touching that edge as for the whole
    frame), not the sample's position flow + x (which rounds by the x it is added to: a tile's own
    or the whole frame's); and the margin keeps the decision away from zero motion, where a still
    border's flow lies (its rounding differs between a tile's flows and the whole frame's)."""
    h, w = flow.shape[-2:]
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype)
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype).view(h, 1)
    u, v = flow[:, 0:1], flow[:, 1:2]
    past = -u - xs  # how far past each edge the sample lies; in place: one map, not four
    past = torch.maximum(past, u - ((w - 1) - xs), out=past)
    past = torch.maximum(past, -v - ys, out=past)
    past = torch.maximum(past, v - ((h - 1) - ys), out=past)
    return past.sub_(EDGE_MARGIN_PX).div_(-EDGE_RAMP_PX).add_(1.0).clamp_(0.0, 1.0)


def brightness_offset(source: torch.Tensor, aligned: torch.Tensor, *, limit: float | torch.Tensor = 0.08,
                      cell: int = BRIGHTNESS_CELL) -> torch.Tensor:
    """Smooth map to add to ``aligned`` so its slowly varying brightness matches ``source``."""
    return _lowpass(_clipped_differences(source, aligned, limit), cell)


def _clipped_differences(source: torch.Tensor, aligned: torch.Tensor, limit: float | torch.Tensor) -> torch.Tensor:
    """``source - aligned`` clipped to +-``limit`` (one value, or one per aligned image): what the
    brightness offset averages, so that misaligned objects and blotches barely bias it."""
    limit = torch.as_tensor(limit, dtype=source.dtype, device=source.device)
    if limit.ndim == 1:
        limit = limit.view(-1, 1, 1, 1)
    # ``source``: one image per aligned image, or a run of them repeated over the aligned ones
    # (:func:`_centre_frames`), broadcast: the same differences, no copy of the repeats
    offset = (source - aligned.unflatten(0, (-1, source.shape[0]))).flatten(0, 1)
    torch.minimum(offset, limit, out=offset)  # clipped in place: one full-size temporary, not three
    torch.maximum(offset, -limit, out=offset)
    return offset


def _squared_length(vectors: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) u^2 + v^2 of (N, 2, H, W): the same values as a sum over the channel axis,
    faster on a CPU (a reduction over a strided axis of two)."""
    u, v = vectors.unbind(1)
    return (u.square() + v.square()).unsqueeze(1)


def consistency(forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
    """Confidence (N, 1, H, W) in [0, 1] of ``forward`` (flow t -> j, (N, 2, H, W)) from the
    forward-backward check against ``backward`` (flow j -> t): 1 where following the flow to j and
    back lands where it started, towards 0 where it does not (occluded in j, or a flow that does
    not follow the thing moving there), and 0 where the flow leaves the picture."""
    # 0 outside, 1 inside, the edge's ramp between
    return _round_trip(forward, backward).mul_(inside(forward))


def _round_trip(forward: torch.Tensor, backward: torch.Tensor, scale: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`consistency` without the picture's edge: how close the round trip t -> j -> t lands.
    ``scale`` (1, 2, 1, 1): the size of a pixel of these flows in the frames' pixels, where the
    check runs on a reduced copy of them (the tolerances are in the frames' pixels)."""
    returned = warp(backward, forward)
    if scale is not None:
        forward, returned = forward * scale, returned * scale
    miss = _squared_length(forward + returned)
    motion = _squared_length(forward) + _squared_length(returned)
    allowed = ROUND_TRIP_PX ** 2 + ROUND_TRIP_RELATIVE ** 2 * motion
    return torch.exp(-(miss / allowed).square())


def check_size(height: int, width: int, *, levels: int | None = None, work_side: int = 100, **_) -> tuple[int, int]:
    """The size (h, w) the forward-backward check of flows between frames of ``height`` x ``width``
    runs at (:data:`CHECK_SIDE`): a level of the flow's pyramid, no coarser than its working level."""
    _, finest = _levels(height, width, levels, work_side)
    level = 0
    while level < finest and min(height, width) / 2 ** (level + 1) >= CHECK_SIDE:
        level += 1
    for _ in range(level):  # the pyramid's sizes (avg_pool2d, ceil_mode)
        height, width = -(-height // 2), -(-width // 2)
    return height, width


def align_neighbours(frames: torch.Tensor, flows: ChainedFlows, centres: list[int], neighbours: list[int], *,
                     brightness_limit: float | torch.Tensor | None = 0.08) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames ``neighbours[k]`` of ``frames`` motion-compensated onto frames ``centres[k]``, and how
    far each aligned pixel can be trusted: the one place where the temporal ops align neighbours
    (``flows`` is a :class:`ChainedFlows` of ``frames`` with the steps between them prepared).

    Returns (aligned (K, C, H, W), confidence (K, 1, H, W) in [0, 1]): the forward-backward
    consistency of the flow (:func:`consistency`: ~0 at occlusions and on things the flow does not
    follow), 0 for a pair whose neighbour is the centre itself (it adds nothing). Unless
    ``brightness_limit`` is None the slowly varying brightness difference (flicker) is matched too,
    clipped at that limit (one value, or one per pair). Ops weight a neighbour by its confidence,
    or take :func:`trusted`, so that where alignment fails the centre frame is used instead of a
    blend with another frame's content (which shows as a ghost).
    """
    pairs = list(zip(centres, neighbours, strict=True))
    aligned, between = _warped(frames, flows, pairs)
    same = torch.tensor([t == j for t, j in pairs], device=frames.device)
    confidence = flows.confidence_pairs(pairs, between=between).masked_fill(same.view(-1, 1, 1, 1), 0.0)
    del between  # not held while the brightness is matched
    return _matched_brightness(frames, aligned, centres, brightness_limit), confidence


def warp_neighbours(frames: torch.Tensor, flows: ChainedFlows, centres: list[int], neighbours: list[int], *,
                    brightness_limit: float | torch.Tensor | None = 0.08) -> torch.Tensor:
    """The aligned frames of :func:`align_neighbours` (K, C, H, W) without their confidences (the
    forward-backward check costs a warp and the reverse flows: a statistic of the aligned
    differences does not need it)."""
    aligned, _ = _warped(frames, flows, list(zip(centres, neighbours, strict=True)))
    return _matched_brightness(frames, aligned, centres, brightness_limit)


def _warped(frames: torch.Tensor, flows: ChainedFlows, pairs: list[tuple[int, int]]
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Frame j warped onto frame t for each (t, j) of ``pairs`` (K, C, H, W), and the flows
    t -> j it was warped with (K, 2, H, W)."""
    between = flows.between_pairs(pairs)
    return warp(frames[torch.tensor([j for _, j in pairs], device=frames.device)], between), between


def _matched_brightness(frames: torch.Tensor, aligned: torch.Tensor, centres: list[int],
                        brightness_limit: float | torch.Tensor | None) -> torch.Tensor:
    if brightness_limit is not None:
        # added in place (the warp's own output): the same sums, no full-size copy of the offset
        _add_lowpass(aligned, _clipped_differences(_centre_frames(frames, centres), aligned, brightness_limit),
                     BRIGHTNESS_CELL)
    return aligned


def _centre_frames(frames: torch.Tensor, centres: list[int]) -> torch.Tensor:
    """``frames[centres]``; where ``centres`` is a run of frames repeated (each centre once per
    neighbour offset: dust's and denoise's batches), that run as a view, which
    :func:`_clipped_differences` broadcasts over the repeats instead of a copy per neighbour."""
    first, count = centres[0], len(centres)
    run = next((length for length in range(1, count) if centres[length] != first + length), count)
    if count % run == 0 and centres == list(range(first, first + run)) * (count // run):
        return frames[first:first + run]
    return frames[torch.tensor(centres, device=frames.device)]


def alike(aligned: torch.Tensor, centre: torch.Tensor, tolerance: torch.Tensor, *, radius: int) -> torch.Tensor:
    """(K, 1, H, W) in [0, 1]: how alike ``aligned`` and ``centre`` (K, C, H, W) look, from their
    luma difference averaged over a (2 radius + 1)^2 window, in units of ``tolerance`` (one value
    per pair, (K,)): grain averages out, misaligned structure (a flow that passes its check but
    does not follow what moves) does not."""
    return alike_difference(luma(aligned - centre, weights=REC601_LUMA), tolerance, radius=radius)


def alike_difference(difference: torch.Tensor, tolerance: torch.Tensor, *, radius: int) -> torch.Tensor:
    """:func:`alike` from the luma difference (K, 1, H, W) of ``aligned - centre``, where the
    caller has it already."""
    return torch.exp(-0.5 * (box_filter(difference, radius) / tolerance.view(-1, 1, 1, 1)) ** 2)


def trusted(aligned: torch.Tensor, centre: torch.Tensor, confidence: torch.Tensor) -> torch.Tensor:
    """``aligned`` where its ``confidence`` is 1, ``centre`` where it is 0, mixed in between: the
    neighbour an op may use as if alignment had not failed (it falls back to the frame itself)."""
    return centre + confidence * (aligned - centre)


class ChainedFlows:
    """Flows from frame t to any frame j near it, chained from flows between consecutive frames.

    Two motion estimates per frame (t -> t+1 and t+1 -> t) instead of one per (frame, neighbour)
    pair: the flow to t+2 is that to t+1 followed by the one from t+1 to t+2. Both directions are
    estimated (not one inverted), so that :meth:`confidence` can check one against the other:
    an inverted flow agrees with its source by construction, occlusions included. Each
    consecutive flow depends on its two frames only, so windowed runs still match whole-clip runs.

    A chained flow extends the one a step shorter (t -> j-1, then one more step), and the flows
    and confidences of a pair are kept once computed: a +-8-frame window costs one warp per pair,
    not one per step of every pair. Frames are numbered from ``origin`` inside (see
    :class:`SharedFlows`, whose views of one table share every estimate); the methods take the
    numbers of ``frames``.
    """

    def __init__(self, frames: torch.Tensor, *, origin: int = 0, shared: bool = False, coarse: bool = False,
                 **flow_options):
        self.frames = frames
        self.origin = origin
        self.shared = shared  # a SharedFlows table: later ops of the chain still need its estimates
        # consecutive flows kept at their working level (coarse_flows_between): such a table serves
        # tiles through region() only
        self.coarse = coarse
        # passed to estimate_flow; by default the flow keeps the motion of things moving on their own
        self.flow_options = {"boundaries": FOLLOW_BOUNDARIES_PX, **flow_options}
        self.forward: dict[int, torch.Tensor] = {}  # s -> flow (1, 2, H, W) from s to s+1
        self.backward: dict[int, torch.Tensor] = {}  # s -> flow from s to s-1
        self._chained: dict[tuple[int, int], torch.Tensor] = {}  # (t, j) -> flow t -> j, |j - t| > 1
        self._confidence: dict[tuple[int, int], torch.Tensor] = {}  # (t, j) -> _round_trip of t -> j
        # the consecutive flows at their working level, which the check's reduced copies are made from
        self.coarse_forward = self.forward if coarse else {}
        self.coarse_backward = self.backward if coarse else {}
        # where the check runs at a reduced size (check_size): a table of the flows enlarged to it,
        # numbered as this table's frames from 0 (shared by this table's views and tiles)
        size = check_size(*frames.shape[-2:], **self.flow_options)
        self._check = None if size == tuple(frames.shape[-2:]) and not coarse else _CheckFlows(self, size)

    def view(self, frames: torch.Tensor, origin: int) -> ChainedFlows:
        """The same estimates seen from ``frames``, whose first frame is number ``origin``."""
        view = ChainedFlows.__new__(ChainedFlows)
        view.__dict__.update(self.__dict__)
        view.frames, view.origin = frames, origin
        return view

    def region(self, frames: torch.Tensor, top: int, left: int) -> ChainedFlows:
        """The flows of ``frames``, a tile of this coarse table's frames whose top-left pixel is
        (top, left): consecutive flows enlarged from this table's at the tile's pixels (the
        whole frames' motion, not the tile's own estimate), chains and confidences the tile's."""
        return _RegionFlows(frames, self, top, left)

    def largest_motion(self) -> float:
        """The longest consecutive flow vector estimated so far, in pixels of the frames."""
        flows = list(self.forward.values()) + list(self.backward.values())
        if not flows:
            return 0.0
        h, w = self.frames.shape[-2:]
        scale = flows[0].new_tensor([w / flows[0].shape[-1], h / flows[0].shape[-2]])
        # each component's largest length, then scaled: the same maximum as scaling every vector
        # (rounding is monotonic), without a scaled copy of each flow
        return max(float((flow.abs().amax(dim=(0, 2, 3)) * scale).max()) for flow in flows)

    def prepare(self, steps: range) -> None:
        """Estimate the consecutive flows s -> s+1 and s+1 -> s for ``steps`` not known yet, in one batch."""
        wanted = self._wanted(steps)
        if wanted:
            low = min(wanted)
            pairs = [(s - low, s + 1 - low) for s in wanted]
            flows = coarse_flows_between(self.frames[low:max(wanted) + 2], pairs + [(j, i) for i, j in pairs],
                                         **self.flow_options)
            if not self.coarse:
                if self._check is not None:  # the check's reduced copies are made from these
                    self._keep(wanted, flows, self.coarse_forward, self.coarse_backward)
                flows = resize_flow(flows, self.frames.shape[-2:]).to(self.frames.dtype)  # flows_between's
            self._keep(wanted, flows)

    def _wanted(self, steps: range) -> list[int]:
        """The consecutive steps of ``steps`` inside the frames whose flows are not known yet."""
        return [s for s in steps if 0 <= s < self.frames.shape[0] - 1 and s + self.origin not in self.forward]

    def _keep(self, wanted: list[int], flows: torch.Tensor, forward: dict | None = None,
              backward: dict | None = None) -> None:
        """Store ``flows``: the forward flows of the ``wanted`` steps, then their backward ones (in
        ``forward`` and ``backward``, by default this table's)."""
        count = len(wanted)
        forward = self.forward if forward is None else forward
        backward = self.backward if backward is None else backward
        forward.update({self.origin + s: flows[i:i + 1] for i, s in enumerate(wanted)})
        backward.update({self.origin + s + 1: flows[count + i:count + i + 1] for i, s in enumerate(wanted)})

    def forget_before(self, step: int, *, estimates: bool | None = None) -> None:
        """Free what frames before ``step`` need (a table shared with later ops keeps its
        estimates and confidences: only the chained flows, cheap to make again, go).
        ``estimates``: drop the estimates and confidences too (default: unless shared)."""
        step += self.origin
        keep_estimates = self.shared if estimates is None else not estimates
        tables = [self._chained] if keep_estimates else [self.forward, self.backward, self._chained, self._confidence,
                                                         self.coarse_forward, self.coarse_backward]
        for table in tables:
            for key in [key for key in table if (min(key) if isinstance(key, tuple) else key) < step]:
                del table[key]
        if self._check is not None:
            self._check.forget_before(step, estimates=not keep_estimates)

    def between(self, t: int, j: int) -> torch.Tensor:
        """Flow (1, 2, H, W) from frame t to frame j (steps between them prepared)."""
        return self.between_pairs([(t, j)])

    def between_pairs(self, pairs: list[tuple[int, int]]) -> torch.Tensor:
        """Flows (K, 2, H, W) from t to j for each (t, j) of ``pairs`` (steps between them prepared)."""
        pairs = [(t + self.origin, j + self.origin) for t, j in pairs]
        # Every chained flow needed, and the shorter ones it extends, made one step length at a
        # time, each length in one batch.
        missing: dict[int, list[tuple[int, int]]] = {}
        for t, j in pairs:
            direction = 1 if j > t else -1
            for m in range(j, t + direction, -direction):
                if abs(m - t) < 2 or (t, m) in self._chained:
                    break
                missing.setdefault(abs(m - t), []).append((t, m))
        for length in sorted(missing):
            todo = list(dict.fromkeys(missing[length]))
            shorter = torch.cat([self._flow(t, m - (1 if m > t else -1)) for t, m in todo])
            steps = torch.cat([self.forward[m - 1] if m > t else self.backward[m + 1] for t, m in todo])
            longer = shorter + warp(steps, shorter)
            self._chained.update({pair: longer[i:i + 1] for i, pair in enumerate(todo)})
        return torch.cat([self._flow(t, j) for t, j in pairs])

    def _flow(self, t: int, j: int) -> torch.Tensor:
        if j == t:
            return self.frames.new_zeros(1, 2, *self.frames.shape[-2:])
        if j == t + 1:
            return self.forward[t]
        if j == t - 1:
            return self.backward[t]
        return self._chained[(t, j)]

    def confidence(self, t: int, j: int) -> torch.Tensor:
        """(1, 1, H, W): how far the flow from t to j can be trusted (:func:`consistency`)."""
        if j == t:
            return self.frames.new_ones(1, 1, *self.frames.shape[-2:])
        return self.confidence_pairs([(t, j)])

    def confidence_pairs(self, pairs: list[tuple[int, int]], *, between: torch.Tensor | None = None) -> torch.Tensor:
        """(K, 1, H, W): :func:`consistency` of the flow t -> j against j -> t for each (t, j) of
        ``pairs``, the round trip computed once per pair (at :func:`check_size`, enlarged), the
        picture's edge at the frames' size. ``between``: :meth:`between_pairs` of ``pairs`` where
        the caller has it already (not gathered again)."""
        forward = self.between_pairs(pairs) if between is None else between
        trips = self._enlarged(self._round_trips(pairs, forward))
        return inside(forward).mul_(trips.to(forward.dtype))

    def _round_trips(self, pairs: list[tuple[int, int]], between: torch.Tensor | None) -> torch.Tensor:
        """(K, 1, h, w): :func:`_round_trip` of each pair at the check's size (numbers of ``frames``;
        ``between``: their flows at the frames' size where the caller has them, used where the
        check runs at that size)."""
        if self._check is not None:
            return self._check.round_trips([(t + self.origin, j + self.origin) for t, j in pairs])
        return self._checked(pairs, between=between)

    def _checked(self, pairs: list[tuple[int, int]], scale: torch.Tensor | None = None, *,
                 between: torch.Tensor | None = None) -> torch.Tensor:
        """:func:`_round_trip` of each pair's flows in this table, each pair computed once
        (``between``: the pairs' flows where the caller has them, not gathered again)."""
        todo = list(dict.fromkeys(pair for pair in pairs if (pair[0] + self.origin, pair[1] + self.origin)
                                  not in self._confidence))
        if todo:
            forward = between if between is not None and todo == list(pairs) else self.between_pairs(todo)
            checked = _round_trip(forward, self.between_pairs([(j, t) for t, j in todo]), scale)
            self._confidence.update({(t + self.origin, j + self.origin): checked[i:i + 1]
                                     for i, (t, j) in enumerate(todo)})
        return torch.cat([self._confidence[(t + self.origin, j + self.origin)] for t, j in pairs])

    def _enlarged(self, maps: torch.Tensor) -> torch.Tensor:
        """``maps`` at the check's size enlarged to the frames'."""
        return _region_of(maps, tuple(self.frames.shape[-2:]), 0, 0, *self.frames.shape[-2:])


def _region_of(maps: torch.Tensor, size: tuple[int, int], top: int, left: int, height: int, width: int
               ) -> torch.Tensor:
    """The pixels [top, top + height) x [left, left + width) of ``maps`` enlarged bilinearly to
    ``size`` (as they are where they have that size already)."""
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps[..., top:top + height, left:left + width]
    return upsampled_region(maps, size, top, left, height, width)


class _CheckFlows(ChainedFlows):
    """Where the forward-backward check of a table's flows runs at a reduced size (:func:`check_size`):
    the table's consecutive flows at their working level enlarged to that size (not reduced from
    the frames' size: tiles and whole frames check the same values), chained there, numbered as the
    table's frames from 0; the round trips measured in the frames' pixels."""

    def __init__(self, source: ChainedFlows, size: tuple[int, int]):
        height, width = source.frames.shape[-2:]
        # only the size of the frames is used here: the flows are the source's
        super().__init__(source.frames.new_zeros(1, 1, 1, 1).expand(1, 1, *size))
        self._check = None  # checked at its own size
        # the source's tables, not the source: a reference back to it would make a cycle that
        # keeps its frames (a 4K window: 600 MB) until the garbage collector runs
        self.steps = (source.coarse_forward, source.coarse_backward)
        self._lock = threading.Lock()  # tiles run in threads (pipeline.tiling) and share this table
        self.scale = torch.tensor([width / size[1], height / size[0]], device=source.frames.device).view(1, 2, 1, 1)

    def round_trips(self, pairs: list[tuple[int, int]]) -> torch.Tensor:
        """(K, 1, h, w): :func:`_round_trip` of each (t, j) of ``pairs`` (the source's frame numbers from 0)."""
        size = tuple(self.frames.shape[-2:])
        with self._lock:
            for t, j in pairs:
                for s in range(min(t, j), max(t, j)):
                    if s not in self.forward:
                        self.forward[s] = resize_flow(self.steps[0][s], size)
                        self.backward[s + 1] = resize_flow(self.steps[1][s + 1], size)
            return self._checked(pairs, self.scale)


class SharedFlows:
    """The motion between the frames of one pipeline window, estimated once and handed along the
    chain of ops (the runner gives it to every op that declares ``OpSpec.shares_flows``), instead
    of each temporal op estimating it again on its own input.

    The flows are estimated on the input of the first op that asks for them (with given options,
    at a given size) and serve the later ops as they are: the ops between them change grain,
    dirt and brightness, not where things are, and the flow works on contrast-normalised images
    (flicker does not move it) with robust weights (dirt does not pull it). An op that moves the
    picture (``OpSpec.moves_picture``: stabilise) makes the runner :meth:`forget` them.
    ``origin`` is the number, within the window, of the frames the next op receives (the runner
    drops context frames along the chain)."""

    def __init__(self) -> None:
        self.origin = 0
        self._tables: dict[tuple, ChainedFlows] = {}

    def chained(self, frames: torch.Tensor, *, coarse: bool = False, **flow_options) -> ChainedFlows:
        """The :class:`ChainedFlows` of ``frames`` (numbered from ``origin``) with ``flow_options``;
        ``coarse``: its consecutive flows kept at their working level, for tiles (:class:`TileFlows`)."""
        key = (tuple(frames.shape[-2:]), frames.device, coarse, tuple(sorted(flow_options.items())))
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = ChainedFlows(frames, origin=self.origin, shared=True, coarse=coarse,
                                                     **flow_options)
        return table.view(frames, self.origin)

    def forget(self) -> None:
        self._tables.clear()

    def forget_before(self, frame: int) -> None:
        """Drop every estimate of frames before ``frame`` (numbered as ``origin``): a streamed
        chain's last op sharing them has gone past them (pipeline.runner). The frames a table was
        first estimated on go too (each op's call works through a view of its own frames)."""
        for table in self._tables.values():
            table.view(table.frames, 0).forget_before(frame, estimates=True)
            table.frames = table.frames.new_empty((0, *table.frames.shape[1:]))


class _RegionFlows(ChainedFlows):
    """:meth:`ChainedFlows.region`: a tile's flows from a coarse table of the whole frames."""

    def __init__(self, frames: torch.Tensor, table: ChainedFlows, top: int, left: int):
        super().__init__(frames)
        self.table, self.top, self.left = table, top, left
        self._check = None  # the whole frames' (_round_trips)

    def prepare(self, steps: range) -> None:
        wanted = self._wanted(steps)  # numbered from 0: a tile's table has no origin of its own
        if wanted:
            self.table.prepare(range(min(wanted), max(wanted) + 1))
            first = self.table.origin
            coarse = torch.cat([self.table.forward[first + s] for s in wanted]
                               + [self.table.backward[first + s + 1] for s in wanted])
            flows = flow_region(coarse, tuple(self.table.frames.shape[-2:]), self.top, self.left,
                                *self.frames.shape[-2:]).to(self.frames.dtype)
            self._keep(wanted, flows)

    def _round_trips(self, pairs: list[tuple[int, int]], between: torch.Tensor | None) -> torch.Tensor:
        # the whole frames' check (a coarse table always has its own table for it; this tile's
        # flows are not its): tiles agree where they overlap
        return self.table._round_trips(pairs, None)

    def _enlarged(self, maps: torch.Tensor) -> torch.Tensor:
        return _region_of(maps, tuple(self.table.frames.shape[-2:]), self.top, self.left, *self.frames.shape[-2:])


class TileFlows:
    """A tile's view of a window's :class:`SharedFlows`: ``chained`` gives the flows estimated
    once on the whole ``frames`` (kept at their working level) enlarged at the tile's pixels, so
    every tile aligns with the whole picture's motion and tiles agree where they overlap.
    ``frames``: the whole frames as the op would estimate its flows on them (its tile is a crop of them)."""

    def __init__(self, shared: SharedFlows, frames: torch.Tensor, top: int, left: int):
        self.shared, self.frames, self.top, self.left = shared, frames, top, left

    def chained(self, frames: torch.Tensor, **flow_options) -> ChainedFlows:
        return self.shared.chained(self.frames, coarse=True, **flow_options).region(frames, self.top, self.left)


def chained_flows(frames: torch.Tensor, shared: SharedFlows | TileFlows | None = None, **flow_options
                  ) -> ChainedFlows:
    """The flows a temporal op aligns ``frames`` with: from ``shared`` (a pipeline's window, or a
    tile's view of it) when given, else estimated for this call."""
    return ChainedFlows(frames, **flow_options) if shared is None else shared.chained(frames, **flow_options)


class FlowEstimator(torch.nn.Module):
    """Module form of :func:`estimate_flow`: ``forward(source, target) -> flow``."""

    def __init__(self, *, levels: int | None = None, work_side: int = 100, iterations: int = 4,
                 window: int = 3, smooth: int = 4) -> None:
        super().__init__()
        self.levels = levels
        self.work_side = work_side
        self.iterations = iterations
        self.window = window
        self.smooth = smooth

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return estimate_flow(source, target, levels=self.levels, work_side=self.work_side,
                             iterations=self.iterations, window=self.window, smooth=self.smooth)
