"""Comparison metrics (PSNR, SSIM) and comparison frames (difference, split, side by side).

Frames are float tensors in [0, 1], either one frame (C, H, W) or a clip (T, C, H, W), C 1 or 3,
on any device. Metrics of a clip are the mean of the per-frame values, as video restoration
papers report them.
"""

from __future__ import annotations

import math

import torch

from restoration.luma import REC601_LUMA, luma

SSIM_SIGMA = 1.5
SSIM_RADIUS = 5  # 11 x 11 window, as in the reference implementation
SSIM_K1, SSIM_K2 = 0.01, 0.03


def _check_pair(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor):
        raise TypeError("expected two tensors")
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} and {tuple(b.shape)}")
    if a.ndim not in (3, 4) or a.shape[-3] not in (1, 3):
        raise ValueError(f"expected frames (C, H, W) or (T, C, H, W) with C 1 or 3, got {tuple(a.shape)}")
    clip_a = a if a.ndim == 4 else a.unsqueeze(0)
    clip_b = b.to(a.device) if b.ndim == 4 else b.unsqueeze(0).to(a.device)
    return clip_a, clip_b


def psnr(a: torch.Tensor, b: torch.Tensor, *, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB (mean over frames; inf for identical frames)."""
    clip_a, clip_b = _check_pair(a, b)
    mse = (clip_a.double() - clip_b.double()).pow(2).flatten(1).mean(1)
    per_frame = [math.inf if m == 0 else 10.0 * math.log10(data_range**2 / m) for m in mse.tolist()]
    return sum(per_frame) / len(per_frame)


def _gaussian_kernel(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    x = torch.arange(-SSIM_RADIUS, SSIM_RADIUS + 1, dtype=dtype, device=device)
    kernel = torch.exp(-(x**2) / (2 * SSIM_SIGMA**2))
    return kernel / kernel.sum()


def _valid_filter(image: torch.Tensor, kernel: torch.Tensor, *, dim: int) -> torch.Tensor:
    """``image`` filtered by the 1-D ``kernel`` along ``dim``, valid region only: a sum of shifted
    copies, the same sums as a convolution and several times faster in float64 on a CPU."""
    length = image.shape[dim] - kernel.shape[0] + 1
    weights = kernel.tolist()
    out = image.narrow(dim, 0, length) * weights[0]
    for tap, weight in enumerate(weights[1:], start=1):
        out.add_(image.narrow(dim, tap, length), alpha=weight)  # in place: no temporary per tap
    return out


def ssim_map(a: torch.Tensor, b: torch.Tensor, *, data_range: float = 1.0) -> torch.Tensor:
    """Per-pixel SSIM of the luma, (T, 1, H - 10, W - 10): the window never leaves the frame."""
    clip_a, clip_b = _check_pair(a, b)
    if min(clip_a.shape[-2:]) < 2 * SSIM_RADIUS + 1:
        raise ValueError(f"frames must be at least {2 * SSIM_RADIUS + 1} pixels each way for SSIM")
    # Rec. 601 luma, as in SSIM's standard definition (Wang et al. 2004).
    x, y = luma(clip_a.double(), weights=REC601_LUMA), luma(clip_b.double(), weights=REC601_LUMA)
    kernel = _gaussian_kernel(x.dtype, x.device)

    def blur(image: torch.Tensor) -> torch.Tensor:  # separable gaussian, valid region only
        return _valid_filter(_valid_filter(image, kernel, dim=-1), kernel, dim=-2)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    return ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))


def ssim(a: torch.Tensor, b: torch.Tensor, *, data_range: float = 1.0) -> float:
    """Structural similarity of the luma, gaussian window (sigma 1.5), mean over frames."""
    return float(ssim_map(a, b, data_range=data_range).flatten(1).mean(1).mean())


def difference_image(a: torch.Tensor, b: torch.Tensor, gain: float = 4.0) -> torch.Tensor:
    """|a - b| amplified by ``gain`` and clipped to [0, 1]: what changed shows bright on black."""
    clip_a, clip_b = _check_pair(a, b)
    if gain <= 0:
        raise ValueError(f"gain must be positive, got {gain}")
    out = ((clip_a - clip_b).abs() * gain).clamp(0.0, 1.0)
    return out if a.ndim == 4 else out[0]


def split_frame(a: torch.Tensor, b: torch.Tensor, position: float = 0.5, *, divider: bool = True) -> torch.Tensor:
    """``a`` left of ``position`` (a fraction of the width), ``b`` right of it, like a wipe.

    ``divider`` draws a one-pixel white line at the split so the eye finds it.
    """
    clip_a, clip_b = _check_pair(a, b)
    if not 0.0 <= position <= 1.0:
        raise ValueError(f"position must be in [0, 1], got {position}")
    width = clip_a.shape[-1]
    column = round(position * width)
    out = torch.cat([clip_a[..., :column], clip_b[..., column:]], dim=-1)
    if divider and 0 < column < width:
        out[..., column] = 1.0
    return out if a.ndim == 4 else out[0]


def side_by_side(a: torch.Tensor, b: torch.Tensor, *, gap: int = 0) -> torch.Tensor:
    """``a`` and ``b`` next to each other, ``gap`` black columns between them."""
    clip_a, clip_b = _check_pair(a, b)
    if gap < 0:
        raise ValueError(f"gap must not be negative, got {gap}")
    spacer = clip_a.new_zeros(*clip_a.shape[:-1], gap)
    out = torch.cat([clip_a, spacer, clip_b], dim=-1)
    return out if a.ndim == 4 else out[0]
