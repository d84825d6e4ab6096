import math

import pytest
import torch

from restoration.errors import SpecError
from restoration.op_registry import get_op
from restoration.ops.deflicker import Deflicker, brightness_maps, deflicker
from restoration.ops.flow import warp
from tests.restoration.ops.checks import assert_windows_match_whole_clip
from tests.restoration.ops.textures import textured_image as _textured_image


def textured_image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    return _textured_image(h, w, seed, low=0.2, high=0.8)


def panning_clip(frames: int = 12, h: int = 60, w: int = 80) -> torch.Tensor:
    big = textured_image(h + 40, w + 40)
    return torch.cat([warp(big, torch.full((1, 2, h + 40, w + 40), 1.2 * t))[..., 10:10 + h, 10:10 + w]
                      for t in range(frames)])


def flickering(clean: torch.Tensor, amount: float = 0.08, seed: int = 3) -> torch.Tensor:
    """Random per-frame exposure change plus a random left-right brightness tilt."""
    generator = torch.Generator().manual_seed(seed)
    t_count, _, _, w = clean.shape
    offset = amount * torch.randn(t_count, 1, 1, 1, generator=generator)
    tilt = 0.5 * amount * torch.randn(t_count, 1, 1, 1, generator=generator) * torch.linspace(-1, 1, w).view(1, 1, 1, w)
    return (clean + offset + tilt).clamp(0, 1)


def frame_means(frames: torch.Tensor) -> torch.Tensor:
    return frames.mean(dim=(1, 2, 3))


def test_flicker_is_reduced_on_a_pan():
    clean = panning_clip()
    flicker = flickering(clean)
    out = deflicker(flicker)
    before = ((flicker - clean) ** 2).mean()
    after = ((out - clean) ** 2).mean()
    assert after < before / 3
    # The frame-to-frame brightness wobble is mostly gone.
    assert (frame_means(out) - frame_means(clean)).std() < 0.5 * (frame_means(flicker) - frame_means(clean)).std()


def test_clip_without_flicker_is_left_nearly_alone():
    clean = panning_clip()
    out = deflicker(clean)
    assert (out - clean).abs().mean() < 0.004
    assert (frame_means(out) - frame_means(clean)).abs().max() < 0.003


def test_slow_lighting_change_is_kept():
    clean = panning_clip() * torch.linspace(0.7, 1.0, 12).view(-1, 1, 1, 1)  # a slow fade-up
    out = deflicker(clean)
    inner = slice(4, 8)  # away from the clip's edges, where the window is reflected
    assert (frame_means(out[inner]) - frame_means(clean[inner])).abs().max() < 0.004


@pytest.mark.parametrize("radius", [3, 12])
def test_window_equals_whole_clip(radius):
    # a window needs the context its radius asks for (the pipeline reads it from the spec)
    frames = flickering(panning_clip(frames=14, h=40, w=48))
    context = get_op("deflicker").context_radius({"radius": radius, "strength": 1.0, "contrast": False})
    assert context == radius
    assert_windows_match_whole_clip(lambda clip: deflicker(clip, radius=radius), frames, radius=context,
                                    windows=((0, 3), (6, 8), (12, 14)))


def test_a_longer_radius_follows_a_slow_drift_less_on_a_still_shot():
    still = panning_clip(frames=1, h=40, w=48).expand(16, -1, -1, -1)
    drift = 1 + 0.06 * torch.sin(torch.arange(16.0) / 6 * 2 * math.pi).view(-1, 1, 1, 1)  # a 6-frame wave
    error = {r: float((deflicker((still * drift).clamp(0, 1), radius=r) - still).abs().mean()) for r in (2, 8)}
    assert error[8] < 0.5 * error[2]


def test_module_equals_function_rgb_float64_and_maps_shape():
    frames = flickering(panning_clip(frames=5, h=40, w=48)).expand(5, 3, 40, 48).to(torch.float64)
    out = Deflicker(radius=2, contrast=True)(frames)
    assert out.dtype == torch.float64 and out.shape == frames.shape
    assert torch.equal(out, deflicker(frames, radius=2, contrast=True))
    gain, offset = brightness_maps(frames, radius=2)
    assert gain.shape == offset.shape and gain.shape[:2] == (5, 1)


def test_bad_input_raises():
    with pytest.raises(SpecError):
        deflicker(torch.rand(5, 40, 48))
    with pytest.raises(SpecError):
        deflicker(torch.rand(5, 1, 40, 48), radius=13)
    with pytest.raises(SpecError):
        deflicker(torch.rand(5, 1, 40, 48), strength=2.0)
