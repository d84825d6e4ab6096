"""FFmpeg filter chains through PyAV's filter graph, on tiny clips."""

from __future__ import annotations

import pytest
import torch

from restoration.classical import CHAINS, FFmpegChain, ffmpeg_chain, parse_chain, run_filter_chain
from restoration.errors import RestorationError


def _noisy_clip(t=7, c=1, h=24, w=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    clean = torch.linspace(0.2, 0.8, w).expand(t, c, h, w).clone()
    return clean, (clean + 0.08 * torch.randn(t, c, h, w, generator=g)).clamp(0, 1)


@pytest.mark.parametrize("chain", sorted(CHAINS))
@pytest.mark.parametrize("channels", [1, 3])
def test_named_chains_keep_shape_and_count_and_denoise(chain, channels):
    clean, noisy = _noisy_clip(c=channels)
    out = run_filter_chain(noisy, chain)
    assert out.shape == noisy.shape and out.dtype == noisy.dtype
    assert not torch.allclose(out, noisy, atol=1e-3)
    assert (out - clean).pow(2).mean() < (noisy - clean).pow(2).mean()


def test_a_delaying_filter_still_gives_every_frame():
    # deflicker holds frames back until it has seen `size` of them; the end-of-stream flush returns them.
    _, noisy = _noisy_clip(t=9)
    out = run_filter_chain(noisy, "deflicker=size=7")
    assert out.shape[0] == 9
    torch.testing.assert_close(out.mean((1, 2, 3)), noisy.mean((1, 2, 3)), atol=0.02, rtol=0)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_clips_shorter_than_the_deflicker_window_keep_their_brightness(count):
    # FFmpeg's deflicker alone darkens a clip shorter than its window; run_filter_chain fits the window.
    steady = torch.full((count, 1, 16, 16), 0.5)
    out = run_filter_chain(steady, "deflicker=size=5")
    assert out.shape == steady.shape
    torch.testing.assert_close(out, steady, atol=1 / 255, rtol=0)


def test_identity_chain_round_trips_8_bit_values():
    frames = torch.randint(0, 256, (3, 3, 8, 10)).float() / 255
    assert torch.equal(run_filter_chain(frames, "null"), frames)


def test_parse_chain():
    assert parse_chain("a=x:y,b") == [("a", "x:y"), ("b", None)]
    assert parse_chain("nlmeans")[0][0] == "removegrain"


def test_bad_chains_raise_one_line_errors():
    _, noisy = _noisy_clip(t=2)
    with pytest.raises(RestorationError, match="no_such_filter"):
        run_filter_chain(noisy, "no_such_filter")
    with pytest.raises(ValueError, match=r"\(T, C, H, W\)"):
        run_filter_chain(noisy[0], "null")


def test_module_equals_functional_and_pipeline_windows_are_exact():
    from restoration.pipeline import run_pipeline

    _, noisy = _noisy_clip(t=20, h=16, w=16)
    whole = ffmpeg_chain(noisy, "atadenoise")
    assert torch.equal(FFmpegChain("atadenoise")(noisy), whole)
    windowed = run_pipeline(noisy, {"ops": [{"op": "ffmpeg", "params": {"chain": "atadenoise"}}]}, window=6).frames
    assert torch.equal(windowed, whole)
