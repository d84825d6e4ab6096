"""Assertions shared by the temporal ops' tests."""

from __future__ import annotations

from collections.abc import Callable

import torch


def assert_windows_match_whole_clip(
    op: Callable[[torch.Tensor], torch.Tensor],
    frames: torch.Tensor,
    *,
    radius: int,
    windows: tuple[tuple[int, int], ...],
) -> None:
    """Each window [start, stop), given ``radius`` frames of context on each side (clipped at the
    clip's ends), restores exactly what the whole-clip run gives there: what the pipeline relies on."""
    whole = op(frames)
    for start, stop in windows:
        lo, hi = max(0, start - radius), min(frames.shape[0], stop + radius)
        windowed = op(frames[lo:hi])
        assert torch.allclose(windowed[start - lo:stop - lo], whole[start:stop], atol=1e-5), (start, stop)
