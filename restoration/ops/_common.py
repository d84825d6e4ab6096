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


def _box_sum_1d(padded: torch.Tensor, radius: int, dim: int) -> torch.Tensor:
    """Sums over 2 radius + 1 consecutive values along ``dim`` of an image padded by ``radius``
    there (the result is 2 radius shorter)."""
    # Shifted adds beat conv2d/avg_pool2d on the CPU for the small windows used here; long
    # windows use a running sum instead (cost independent of the radius).
    size = padded.shape[dim] - 2 * radius
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
    if radius < min(images.shape[-2:]):
        # One padding of both sides for both passes (the row sums of reflected rows are the
        # reflected row sums): same values as padding before each pass, one copy fewer.
        rows = _box_sum_1d(F.pad(images, (radius,) * 4, mode="reflect"), radius, -1)
    else:
        rows = _box_sum_1d(_reflect_or_replicate(images, (radius, radius, 0, 0)), radius, -1)
        rows = _reflect_or_replicate(rows, (0, 0, radius, radius))
    return _box_sum_1d(rows, radius, -2) / float((2 * radius + 1) ** 2)


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


def neighbour_offsets(radius: int) -> list[int]:
    """The offsets -radius..radius but 0: a frame's neighbours in a temporal op's window."""
    return [k for k in range(-radius, radius + 1) if k != 0]


def output_frames(frames: torch.Tensor, outputs: range | None) -> range:
    """The frames of ``frames`` (T, ...) whose output a temporal op makes: ``outputs`` where a
    streamed call asks for some (the others are only their context), else all of them."""
    return range(frames.shape[0]) if outputs is None else outputs


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


def _extreme_1d(padded: torch.Tensor, radius: int, dim: int, pick) -> torch.Tensor:
    """``pick`` (torch.maximum or torch.minimum) over 2 radius + 1 consecutive values along ``dim``
    of an image padded by ``radius`` there (the result is 2 radius shorter)."""
    size, length = padded.shape[dim] - 2 * radius, 2 * radius + 1
    running = padded
    # The maximum over `width` consecutive values, doubling the width; then two such windows that
    # overlap cover the whole one (a maximum does not mind counting a value twice): log2 of the
    # width in operations instead of the width (the 25-px searches of dust and the net).
    width = 1
    while 2 * width <= length:
        count = running.shape[dim] - width
        running = pick(running.narrow(dim, 0, count), running.narrow(dim, width, count))
        width *= 2
    return pick(running.narrow(dim, 0, size), running.narrow(dim, length - width, size))


def _extreme_filter(images: torch.Tensor, radius: int | tuple[int, int], pick) -> torch.Tensor:
    radius_y, radius_x = (radius, radius) if isinstance(radius, int) else radius
    if radius_y <= 0 and radius_x <= 0:
        return images
    # One padding for both passes (the row maxima of replicated rows are the replicated row maxima).
    out = F.pad(images, (max(radius_x, 0), max(radius_x, 0), max(radius_y, 0), max(radius_y, 0)), mode="replicate")
    out = _extreme_1d(out, radius_x, -1, pick) if radius_x > 0 else out
    return _extreme_1d(out, radius_y, -2, pick) if radius_y > 0 else out


def max_filter(images: torch.Tensor, radius: int | tuple[int, int]) -> torch.Tensor:
    """Maximum over a (2ry+1, 2rx+1) window, replicated edges (separable shifted maxima:
    much faster on the CPU than max_pool2d with stride 1)."""
    return _extreme_filter(images, radius, torch.maximum)


def min_filter(images: torch.Tensor, radius: int | tuple[int, int]) -> torch.Tensor:
    """Minimum over a (2ry+1, 2rx+1) window, replicated edges (as :func:`max_filter`)."""
    return _extreme_filter(images, radius, torch.minimum)


def dilate(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Binary dilation of a (N, 1, H, W) float mask with a square of side 2r+1."""
    if radius <= 0:
        return mask
    return max_filter(mask, radius)
