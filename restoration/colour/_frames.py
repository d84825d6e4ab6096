"""Shape checks and small helpers shared by the colour modules."""

from __future__ import annotations

import torch

from restoration.errors import SpecError


def check_frames(frames: torch.Tensor, what: str) -> None:
    """Raise SpecError unless ``frames`` is a float tensor (T, C, H, W) with C in {1, 3}."""
    if not isinstance(frames, torch.Tensor):
        raise SpecError(f"{what}: expected a tensor (T, C, H, W), got {type(frames).__name__}")
    if frames.ndim != 4 or frames.shape[1] not in (1, 3):
        raise SpecError(f"{what}: expected frames (T, C, H, W) with C 1 or 3, got shape {tuple(frames.shape)}")
    if not frames.is_floating_point():
        raise SpecError(f"{what}: expected float frames in [0, 1], got dtype {frames.dtype}")


def as_rgb(frames: torch.Tensor) -> torch.Tensor:
    """(T, 3, H, W): grey frames broadcast to three equal channels (a view, no copy)."""
    return frames.expand(-1, 3, -1, -1) if frames.shape[1] == 1 else frames
