import pytest
import torch

from restoration.errors import SpecError
from restoration.op_registry import get_op
from restoration.ops.denoise import Denoise, denoise, estimate_noise
from restoration.ops.flow import warp
from restoration.pipeline import run_pipeline
from tests.restoration.ops.checks import assert_windows_match_whole_clip
from tests.restoration.ops.textures import grainy as _grainy
from tests.restoration.ops.textures import textured_image as _textured_image


def textured_image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    return _textured_image(h, w, seed, low=0.1, high=0.9)


def grainy(clean: torch.Tensor, sigma: float = 0.05, seed: int = 1) -> torch.Tensor:
    return _grainy(clean, sigma, seed)


def panning_clip(frames: int = 7, h: int = 64, w: int = 80, step: float = 1.3) -> torch.Tensor:
    big = textured_image(h + 32, w + 32)
    clips = []
    for t in range(frames):
        flow = torch.zeros(1, 2, h + 32, w + 32)
        flow[:, 0] = step * t
        flow[:, 1] = 0.5 * step * t
        clips.append(warp(big, flow)[..., 8:8 + h, 8:8 + w])
    return torch.cat(clips)


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b) ** 2).mean())


def test_removes_most_grain_on_a_pan():
    clean = panning_clip()
    noisy = grainy(clean)
    out = denoise(noisy)
    inner = (slice(2, -2), slice(None), slice(4, -4), slice(4, -4))
    # Better than 3x lower error (about +5 dB).
    assert mse(out[inner], clean[inner]) < mse(noisy[inner], clean[inner]) / 3


def test_frames_next_to_the_clips_ends_are_denoised_like_the_others():
    # At radius 2 frame 1's reflected neighbour -2 is frame 1 itself: its nil difference must
    # not set the misalignment tolerance (it did: frames 1 and T-2 came out with their grain).
    clean = panning_clip(frames=8)
    noisy = grainy(clean)
    for tile in (None, 32):
        out = denoise(noisy) if tile is None else run_pipeline(noisy, {"ops": [{"op": "denoise"}]}, fps=24, tile=tile).frames
        inner = (slice(None), slice(4, -4), slice(4, -4))
        gains = [mse(noisy[t][inner], clean[t][inner]) / mse(out[t][inner], clean[t][inner]) for t in range(8)]
        assert min(gains) > 5, gains


def test_keeps_a_moving_object_sharp():
    clean = panning_clip(step=0.0)
    for t in range(clean.shape[0]):  # a bright square moving 6 px a frame over a static background
        clean[t, :, 20:36, 6 + 6 * t:22 + 6 * t] = 0.95
    noisy = grainy(clean, sigma=0.03)
    out = denoise(noisy)
    square = (3, slice(None), slice(21, 35), slice(6 + 18 + 1, 22 + 18 - 1))
    # No ghost of the background or of the square's other positions inside it.
    assert (out[square] - clean[square]).abs().mean() < 0.03


def test_estimate_noise_measures_white_grain():
    clean = torch.full((2, 1, 64, 64), 0.5)
    level = estimate_noise(grainy(clean, sigma=0.04))
    assert torch.allclose(level, torch.full((2,), 0.04), rtol=0.15)


def test_window_equals_whole_clip():
    frames = grainy(panning_clip(frames=9, h=40, w=48))
    radius = get_op("denoise").temporal_radius
    assert_windows_match_whole_clip(lambda clip: denoise(clip, radius=radius), frames, radius=radius,
                                    windows=((4, 6),))


def test_module_equals_function_and_keeps_dtype():
    frames = grainy(panning_clip(frames=4, h=32, w=40)).to(torch.float64).expand(4, 3, 32, 40).contiguous()
    out = Denoise(radius=1, strength=2.0)(frames)
    assert out.dtype == torch.float64 and out.shape == frames.shape
    assert torch.equal(out, denoise(frames, radius=1, strength=2.0))


def test_registered_with_params():
    spec = get_op("denoise")
    assert spec.temporal_radius >= 1
    assert spec.validate_params({"radius": 1}) == {"radius": 1, "strength": 1.5, "spatial": 1.0}
    with pytest.raises(SpecError):
        spec.validate_params({"radius": 9})


def test_bad_input_raises():
    with pytest.raises(SpecError):
        denoise(torch.rand(3, 32, 32))
    with pytest.raises(SpecError):
        denoise(torch.rand(3, 2, 32, 32))
    with pytest.raises(SpecError):
        denoise(torch.rand(3, 1, 32, 32), radius=0)
