"""Small helpers shared by the ops: shape checks, separable filters, temporal neighbours.

Everything works on (N, C, H, W) float tensors and keeps their device and dtype.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from restoration.errors import SpecError


def check_frames(frames: torch.Tensor, op_name: str) -> None:
    """Raise SpecError unless ``frames`` is a float tensor (T, C, H, W) with C in {1, 3}."""
    if not isinstance(frames, torch.Tensor):
        raise SpecError(f"{op_name}: expected a tensor (T, C, H, W), got {type(frames).__name__}")
    if frames.ndim != 4:
        raise SpecError(f"{op_name}: expected frames of shape (T, C, H, W), got shape {tuple(frames.shape)}")
    if frames.shape[1] not in (1, 3):
        raise SpecError(f"{op_name}: expected 1 or 3 channels, got {frames.shape[1]}")
    if not frames.is_floating_point():
        raise SpecError(f"{op_name}: expected float frames in [0, 1], got dtype {frames.dtype}")
    if frames.shape[0] < 1 or frames.shape[2] < 2 or frames.shape[3] < 2:
        raise SpecError(f"{op_name}: frames are empty or smaller than 2x2: shape {tuple(frames.shape)}")


def _reflect_or_replicate(images: torch.Tensor, pad: tuple[int, int, int, int]) -> torch.Tensor:
    # Reflection needs the padding to be smaller than the side; fall back to replication.
    left, right, top, bottom = pad
    if left < images.shape[-1] and right < images.shape[-1] and top < images.shape[-2] and bottom < images.shape[-2]:
        return F.pad(images, pad, mode="reflect")
    return F.pad(images, pad, mode="replicate")


def _box_sum_1d(images: torch.Tensor, radius: int, dim: int) -> torch.Tensor:
    # Shifted adds beat conv2d/avg_pool2d on the CPU for the small windows used here; long
    # windows use a running sum instead (cost independent of the radius).
    size = images.shape[dim]
    pad = (radius, radius, 0, 0) if dim == -1 else (0, 0, radius, radius)
    padded = _reflect_or_replicate(images, pad)
    if radius <= 6:
        out = padded.narrow(dim, 0, size) + padded.narrow(dim, 1, size)  # radius >= 1: two terms at least
        for shift in range(2, 2 * radius + 1):
            out += padded.narrow(dim, shift, size)
        return out
    running = padded.cumsum(dim)
    zero = torch.zeros_like(running.narrow(dim, 0, 1))
    running = torch.cat((zero, running), dim)
    return running.narrow(dim, 2 * radius + 1, size) - running.narrow(dim, 0, size)


def box_filter(images: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over a (2r+1)^2 window, separable, reflected edges."""
    if radius <= 0:
        return images
    out = _box_sum_1d(_box_sum_1d(images, radius, -1), radius, -2)
    return out / float((2 * radius + 1) ** 2)


def sampled_median(images: torch.Tensor, step: int = 3) -> torch.Tensor:
    """Per-image median (N,) of (N, C, H, W) over a regular subsample of pixels.

    Used for robust global statistics (grain level, thresholds): a full median sorts every
    pixel and costs more than the rest of an op; every ``step``-th row and column is plenty.
    """
    sample = images[..., ::step, ::step] if min(images.shape[-2:]) >= 8 * step else images
    return sample.flatten(1).median(dim=1).values


def upsampled_region(maps: torch.Tensor, size: tuple[int, int], top: int, left: int, height: int, width: int
                     ) -> torch.Tensor:
    """The pixels [top, top + height) x [left, left + width) of ``maps`` (N, C, h, w) enlarged to
    ``size`` bilinearly (``F.interpolate``'s align_corners=False, edges clamped), without making
    the whole enlargement: a tile's share of a whole-frame estimate made at a reduced size."""
    full_height, full_width = size
    ys = (torch.arange(top, top + height, device=maps.device, dtype=maps.dtype) + 0.5) * (2.0 / full_height) - 1.0
    xs = (torch.arange(left, left + width, device=maps.device, dtype=maps.dtype) + 0.5) * (2.0 / full_width) - 1.0
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    grid = torch.stack((grid_x, grid_y), dim=-1)[None].expand(maps.shape[0], -1, -1, -1)
    return F.grid_sample(maps, grid, mode="bilinear", padding_mode="border", align_corners=False)


def reflected_indices(length: int, offsets, *, device=None) -> torch.Tensor:
    """Index table (len(offsets), length) of frame t+offset, reflected at the clip's edges.

    Frame -1 is frame 1 and frame T is frame T-2 (clamped for clips too short to reflect), so
    neighbours stay distinct frames at the edges and a result at frame t depends only on frames
    t-R..t+R: windows with R frames of context give the same result as the whole clip.
    """
    base = torch.arange(length, device=device)
    rows = []
    for offset in offsets:
        index = base + int(offset)
        index = torch.where(index < 0, -index, index)
        index = torch.where(index > length - 1, 2 * (length - 1) - index, index)
        rows.append(index.clamp(0, length - 1))
    return torch.stack(rows)


def _max_1d(images: torch.Tensor, radius: int, dim: int) -> torch.Tensor:
    size, length = images.shape[dim], 2 * radius + 1
    pad = (radius, radius, 0, 0) if dim == -1 else (0, 0, radius, radius)
    running = F.pad(images, pad, mode="replicate")
    # The maximum over `width` consecutive values, doubling the width; then two such windows that
    # overlap cover the whole one (a maximum does not mind counting a value twice): log2 of the
    # width in operations instead of the width (the 25-px searches of dust and the net).
    width = 1
    while 2 * width <= length:
        count = running.shape[dim] - width
        running = torch.maximum(running.narrow(dim, 0, count), running.narrow(dim, width, count))
        width *= 2
    return torch.maximum(running.narrow(dim, 0, size), running.narrow(dim, length - width, size))


def max_filter(images: torch.Tensor, radius: int | tuple[int, int]) -> torch.Tensor:
    """Maximum over a (2ry+1, 2rx+1) window, replicated edges (separable shifted maxima:
    much faster on the CPU than max_pool2d with stride 1)."""
    radius_y, radius_x = (radius, radius) if isinstance(radius, int) else radius
    out = _max_1d(images, radius_x, -1) if radius_x > 0 else images
    return _max_1d(out, radius_y, -2) if radius_y > 0 else out


def min_filter(images: torch.Tensor, radius: int | tuple[int, int]) -> torch.Tensor:
    return -max_filter(-images, radius)


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Binary dilation of a (N, 1, H, W) float mask with a square of side 2r+1."""
    if radius <= 0:
        return mask
    return max_filter(mask, radius)
