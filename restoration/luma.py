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
    return (frames * frames.new_tensor(weights).view(3, 1, 1)).sum(dim=-3, keepdim=True)
