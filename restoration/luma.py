"""Luma: the weighted sum of R, G and B that stands for brightness. One function, two named weightings.

Rec. 601 (SD video) and Rec. 709 (HD) weigh the channels differently. Each use keeps the weighting
it was built, tuned or trained with, and names it at the call, so no number moves when code moves.
"""

from __future__ import annotations

import torch

__all__ = ["REC601_LUMA", "REC709_LUMA", "luma"]

REC601_LUMA = (0.299, 0.587, 0.114)  # (R, G, B)
REC709_LUMA = (0.2126, 0.7152, 0.0722)


def luma(frames: torch.Tensor, *, weights: tuple[float, float, float]) -> torch.Tensor:
    """(..., C, H, W) -> (..., 1, H, W) in the frames' dtype: grey frames as they are, RGB frames
    weighted by ``weights`` (R, G, B)."""
    if frames.shape[-3] == 1:
        return frames
    # Three products added in channel order: the same values as a weighted sum over the channel
    # axis, in half the time (no 3-channel temporary to reduce); contiguous like the sum, as
    # some later kernels round differently on other memory layouts.
    red, green, blue = frames.unbind(-3)
    return (red * weights[0] + green * weights[1] + blue * weights[2]).unsqueeze(-3).contiguous()
