"""Synthetic shots for the analysis tests: smooth random textures under camera motion, with grain."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

FOOTAGE = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "footage"


def textured_shot(seed: int, frames: int, *, height: int = 72, width: int = 96, pan: tuple[int, int] = (1, 0),
                  grain: float = 0.01, channels: int = 1) -> torch.Tensor:
    """(frames, channels, height, width) in [0, 1]: a smooth random picture panned ``pan`` px/frame."""
    generator = torch.Generator().manual_seed(seed)
    span_x, span_y = abs(pan[0]) * frames, abs(pan[1]) * frames
    picture = torch.rand(1, channels, height + span_y + 8, width + span_x + 8, generator=generator)
    for _ in range(3):
        picture = F.avg_pool2d(picture, 7, 1, 3, count_include_pad=False)
    picture = (picture - picture.amin()) / (picture.amax() - picture.amin()).clamp_min(1e-6) * 0.8 + 0.1
    shots = []
    for t in range(frames):
        x = t * pan[0] if pan[0] >= 0 else span_x + t * pan[0]
        y = t * pan[1] if pan[1] >= 0 else span_y + t * pan[1]
        shots.append(picture[0, :, y : y + height, x : x + width])
    clip = torch.stack(shots)
    clip = clip + grain * torch.randn(clip.shape, generator=generator)
    return clip.clamp(0, 1)


@pytest.fixture
def make_shot():
    return textured_shot


@pytest.fixture
def footage() -> Path:
    if not FOOTAGE.is_dir():
        pytest.skip("shared footage folder is absent")
    return FOOTAGE
