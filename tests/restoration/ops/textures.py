"""Synthetic test images shared by the ops tests."""

from __future__ import annotations

import torch


def textured_image(
    h: int, w: int, seed: int = 0, *, low: float = 0.0, high: float = 1.0, scales: tuple[int, ...] = (4, 8, 16)
) -> torch.Tensor:
    """A smooth random texture (blobs of the given sizes, in px), (1, 1, h, w), mapped to [low, high]."""
    generator = torch.Generator().manual_seed(seed)
    image = torch.zeros(1, 1, h, w)
    for scale in scales:
        coarse = torch.rand(1, 1, h // scale + 2, w // scale + 2, generator=generator)
        image += torch.nn.functional.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False) / len(scales)
    return (low + (high - low) * image).clamp(0, 1)


def grainy(clean: torch.Tensor, sigma: float = 0.02, seed: int = 1) -> torch.Tensor:
    """``clean`` plus seeded white noise of standard deviation ``sigma``, clamped to [0, 1]."""
    generator = torch.Generator().manual_seed(seed)
    return (clean + sigma * torch.randn(clean.shape, generator=generator)).clamp(0, 1)
