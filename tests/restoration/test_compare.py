"""Comparison metrics against scikit-image, and comparison frames."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from restoration.compare import difference_image, psnr, side_by_side, split_frame, ssim
from restoration.luma import REC601_LUMA, luma


def _pair(c=1, h=24, w=32, noise=0.1, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(c, h, w, generator=g)
    b = (a + noise * torch.randn(c, h, w, generator=g)).clamp(0, 1)
    return a, b


def test_psnr_matches_scikit_image():
    a, b = _pair(c=3)
    expected = peak_signal_noise_ratio(a.numpy(), b.numpy(), data_range=1.0)
    assert psnr(a, b) == pytest.approx(expected, abs=1e-6)


def test_psnr_of_a_clip_is_the_mean_over_frames_and_identity_is_inf():
    a, b = _pair()
    a2, b2 = _pair(seed=1, noise=0.02)
    clip = psnr(torch.stack([a, a2]), torch.stack([b, b2]))
    assert clip == pytest.approx((psnr(a, b) + psnr(a2, b2)) / 2)
    assert math.isinf(psnr(a, a))


@pytest.mark.parametrize("channels", [1, 3])
def test_ssim_matches_scikit_image_gaussian_ssim(channels):
    a, b = _pair(c=channels)
    ya, yb = luma(a, weights=REC601_LUMA)[0].double().numpy(), luma(b, weights=REC601_LUMA)[0].double().numpy()
    expected = structural_similarity(
        ya, yb, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0
    )
    assert ssim(a, b) == pytest.approx(expected, abs=1e-6)
    assert ssim(a, a) == pytest.approx(1.0)


def test_ssim_falls_as_noise_grows():
    a, light = _pair(noise=0.02)
    _, heavy = _pair(noise=0.2)
    assert ssim(a, light) > ssim(a, heavy)


def test_metrics_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(torch.zeros(1, 8, 8), torch.zeros(1, 8, 9))
    with pytest.raises(ValueError, match="C 1 or 3"):
        ssim(torch.zeros(2, 16, 16), torch.zeros(2, 16, 16))


def test_difference_image():
    a = torch.zeros(1, 4, 4)
    b = a.clone()
    b[0, 1, 2] = 0.1
    diff = difference_image(a, b, gain=4.0)
    assert diff.shape == a.shape
    assert diff[0, 1, 2] == pytest.approx(0.4)
    assert diff.sum() == pytest.approx(0.4)
    assert difference_image(a, b.fill_(1.0), gain=4).max() == 1.0  # clipped


def test_split_frame_takes_left_from_a_and_right_from_b():
    a, b = torch.zeros(2, 3, 4, 10), torch.ones(2, 3, 4, 10) * 0.5
    out = split_frame(a, b, 0.3, divider=False)
    assert out.shape == a.shape
    assert torch.all(out[..., :3] == 0) and torch.all(out[..., 3:] == 0.5)
    lined = split_frame(a[0], b[0], 0.3)
    assert torch.all(lined[..., 3] == 1.0) and lined.shape == a[0].shape


def test_side_by_side():
    a, b = torch.zeros(1, 4, 5), torch.ones(1, 4, 5)
    out = side_by_side(a, b, gap=2)
    assert out.shape == (1, 4, 12)
    assert torch.equal(out[..., :5], a) and torch.equal(out[..., 7:], b) and torch.all(out[..., 5:7] == 0)
    assert np.allclose(side_by_side(a[None], b[None]).numpy()[0], torch.cat([a, b], -1).numpy())
