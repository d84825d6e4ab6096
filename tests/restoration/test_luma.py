"""One luma function, two named weightings."""

from __future__ import annotations

import pytest
import torch

from restoration.luma import REC601_LUMA, REC709_LUMA, luma


@pytest.mark.parametrize("weights", [REC601_LUMA, REC709_LUMA])
def test_weights_sum_to_one_and_weigh_each_channel(weights):
    assert sum(weights) == pytest.approx(1.0)
    frames = torch.zeros(2, 3, 4, 5, dtype=torch.float64)
    frames[:, 1] = 1.0  # pure green
    out = luma(frames, weights=weights)
    assert out.shape == (2, 1, 4, 5) and out.dtype == torch.float64
    assert torch.all(out == weights[1])


def test_grey_frames_are_returned_as_they_are_and_single_frames_work():
    grey = torch.rand(3, 1, 4, 4)
    assert luma(grey, weights=REC601_LUMA) is grey
    frame = torch.rand(3, 6, 7)  # (C, H, W)
    expected = sum(w * frame[c] for c, w in enumerate(REC709_LUMA))
    torch.testing.assert_close(luma(frame, weights=REC709_LUMA)[0], expected)
