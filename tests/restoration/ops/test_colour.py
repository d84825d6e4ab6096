import pytest
import torch

from restoration.errors import SpecError
from restoration.luma import REC709_LUMA
from restoration.op_registry import get_op
from restoration.ops.colour import (
    WHITE_BALANCE_RADIUS,
    Levels,
    LiftGammaGain,
    Saturation,
    WhiteBalance,
    levels,
    lift_gamma_gain,
    saturation,
    white_balance,
)


def ramp(channels: int = 1) -> torch.Tensor:
    """(1, C, 2, 5): values 0, .25, .5, .75, 1 along each row of every channel."""
    return torch.linspace(0, 1, 5).view(1, 1, 1, 5).repeat(1, channels, 2, 1)


def random_clip(channels: int = 3, frames: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.rand(frames, channels, 6, 7, generator=torch.Generator().manual_seed(seed))


# ---- levels ----

def test_levels_identity_by_default():
    clip = random_clip()
    assert torch.equal(levels(clip), clip)


def test_levels_values():
    out = levels(ramp(), black_in=0.25, white_in=0.75)
    assert torch.allclose(out.flatten(), torch.tensor([0.0, 0.0, 0.5, 1.0, 1.0]).repeat(2))
    out = levels(ramp(), black_out=0.2, white_out=0.6)
    assert torch.allclose(out.flatten(), torch.tensor([0.2, 0.3, 0.4, 0.5, 0.6]).repeat(2))
    out = levels(ramp(), gamma=2.0)
    assert torch.allclose(out.flatten(), torch.tensor([0.0, 0.5, 0.5 ** 0.5, 0.75 ** 0.5, 1.0]).repeat(2))


def test_levels_grey_and_colour_same_per_channel():
    clip = random_clip(3)
    out = levels(clip, black_in=0.1, white_in=0.9, gamma=1.3)
    for c in range(3):
        assert torch.allclose(out[:, c:c + 1], levels(clip[:, c:c + 1], black_in=0.1, white_in=0.9, gamma=1.3))


def test_levels_bad_params_and_shapes():
    with pytest.raises(SpecError, match="white_in"):
        levels(ramp(), black_in=0.6, white_in=0.5)
    with pytest.raises(SpecError, match="gamma"):
        levels(ramp(), gamma=0.0)
    with pytest.raises(SpecError):
        levels(torch.rand(3, 8, 8))
    with pytest.raises(SpecError):
        levels(torch.rand(1, 2, 8, 8))
    with pytest.raises(SpecError):
        levels(torch.zeros(1, 1, 8, 8, dtype=torch.uint8))
    with pytest.raises(SpecError):
        get_op("levels").validate_params({"black_in": -0.1})


# ---- lift / gamma / gain ----

def test_lift_gamma_gain_identity_by_default():
    clip = random_clip()
    assert torch.allclose(lift_gamma_gain(clip), clip)


def test_lift_gamma_gain_values_grey():
    x = ramp()
    assert torch.allclose(lift_gamma_gain(x, lift=0.2).flatten(), torch.tensor([0.2, 0.4, 0.6, 0.8, 1.0]).repeat(2))
    halved = torch.tensor([0.0, 0.125, 0.25, 0.375, 0.5]).repeat(2)
    assert torch.allclose(lift_gamma_gain(x, gain=0.5).flatten(), halved)
    assert torch.allclose(lift_gamma_gain(x, gamma=2.0).flatten(), x.flatten() ** 0.5)
    # Gain above 1 clips at white.
    assert torch.allclose(lift_gamma_gain(x, gain=2.0).flatten(), torch.tensor([0.0, 0.5, 1.0, 1.0, 1.0]).repeat(2))


def test_lift_gamma_gain_per_channel():
    x = ramp(3)
    out = lift_gamma_gain(x, gain=0.8, gain_r=0.5, lift_b=0.2, gamma=2.0, gamma_g=0.5)
    assert torch.allclose(out[0, 0, 0], 0.4 * x[0, 0, 0] ** 0.5)  # gain .8 * .5, gamma 2
    assert torch.allclose(out[0, 1, 0], 0.8 * x[0, 1, 0])  # gamma 2 * .5 = 1
    assert torch.allclose(out[0, 2, 0], 0.8 * (0.2 + 0.8 * x[0, 2, 0]) ** 0.5)


def test_lift_gamma_gain_per_channel_on_grey_raises():
    with pytest.raises(SpecError, match="per-channel"):
        lift_gamma_gain(ramp(1), gain_r=1.2)
    with pytest.raises(SpecError, match="gamma"):
        lift_gamma_gain(ramp(1), gamma=0.0)
    with pytest.raises(SpecError):
        LiftGammaGain(lfit=0.1)


# ---- saturation ----

def test_saturation_values():
    pixel = torch.tensor([0.6, 0.45, 0.35]).view(1, 3, 1, 1).repeat(1, 1, 2, 2)
    luma = sum(w * v for w, v in zip(REC709_LUMA, [0.6, 0.45, 0.35], strict=True))
    assert torch.allclose(saturation(pixel, amount=0.0), torch.full_like(pixel, luma))
    assert torch.allclose(saturation(pixel, amount=1.0), pixel)
    doubled = saturation(pixel, amount=2.0)
    assert torch.allclose(doubled[0, :, 0, 0], torch.tensor([2 * v - luma for v in [0.6, 0.45, 0.35]]))
    # Luma is preserved (no clipping in this case).
    assert torch.allclose((doubled[0, :, 0, 0] * torch.tensor(REC709_LUMA)).sum(), torch.tensor(luma))


def test_saturation_grey_is_unchanged_copy():
    grey = random_clip(1)
    out = saturation(grey, amount=0.0)
    assert torch.equal(out, grey) and out.data_ptr() != grey.data_ptr()


def test_saturation_bad_amount():
    with pytest.raises(SpecError, match="amount"):
        saturation(random_clip(), amount=-1.0)


# ---- white balance ----

def test_white_balance_gains_mode():
    clip = random_clip() * 0.5
    out = white_balance(clip, mode="gains", gain_r=1.5, gain_g=1.0, gain_b=0.5)
    assert torch.allclose(out, clip * torch.tensor([1.5, 1.0, 0.5]).view(1, 3, 1, 1))
    half = white_balance(clip, mode="gains", gain_r=4.0, strength=0.5)
    assert torch.allclose(half[:, 0], (clip[:, 0] * 2.0).clamp(0, 1))


def test_white_balance_grey_world_removes_cast_keeps_luma():
    clip = random_clip(frames=1).repeat(3, 1, 1, 1) * 0.5  # a still: every frame measures the same
    cast = clip * torch.tensor([1.3, 1.0, 0.6]).view(1, 3, 1, 1)
    out = white_balance(cast, mode="grey_world")
    means = out.mean(dim=(0, 2, 3))
    assert torch.allclose(means, means.mean().expand(3), atol=1e-5)
    cast_means = cast.mean(dim=(0, 2, 3))
    weights = torch.tensor(REC709_LUMA)
    assert torch.allclose((means * weights).sum(), (cast_means * weights).sum(), atol=1e-5)
    # Half strength goes half way (geometrically) in gain.
    half = white_balance(cast, mode="grey_world", strength=0.5)
    full_gain = out.mean(dim=(0, 2, 3)) / cast_means
    half_gain = half.mean(dim=(0, 2, 3)) / cast_means
    assert torch.allclose(half_gain, full_gain.sqrt(), atol=1e-4)


def test_white_balance_white_patch_makes_highlights_neutral():
    clip = random_clip(frames=2)
    cast = clip * torch.tensor([1.0, 0.8, 0.5]).view(1, 3, 1, 1)
    out = white_balance(cast, mode="white_patch")
    highs = torch.quantile(out.flatten(2), 0.99, dim=-1).mean(dim=0)
    assert highs.max() - highs.min() < 0.03


def test_white_balance_grey_unchanged_and_bad_params():
    grey = random_clip(1)
    assert torch.equal(white_balance(grey, mode="grey_world"), grey)
    with pytest.raises(SpecError, match="mode"):
        white_balance(random_clip(), mode="auto")
    with pytest.raises(SpecError, match="strength"):
        white_balance(random_clip(), strength=1.5)
    with pytest.raises(SpecError, match="gains"):
        white_balance(random_clip(), mode="gains", gain_r=0.0)
    with pytest.raises(SpecError):
        get_op("white_balance").validate_params({"mode": "auto"})


def test_white_balance_window_equals_whole_clip():
    clip = random_clip(frames=30, seed=3) * torch.linspace(0.5, 1.0, 30).view(30, 1, 1, 1)
    radius = get_op("white_balance").temporal_radius
    assert radius == WHITE_BALANCE_RADIUS
    whole = white_balance(clip, mode="grey_world")
    start, end = 10, 14  # core frames 10..13, with radius frames of context on each side
    window = white_balance(clip[start - radius:end + radius], mode="grey_world")
    assert torch.allclose(window[radius:radius + end - start], whole[start:end], atol=1e-6)
    # Edge frames: the window starts at the clip's start.
    window = white_balance(clip[: 3 + radius], mode="grey_world")
    assert torch.allclose(window[:3], whole[:3], atol=1e-6)


# ---- all four: modules, registry, device/dtype ----

CASES = [
    ("levels", Levels, {"black_in": 0.1, "white_in": 0.8, "gamma": 1.4, "black_out": 0.05}),
    ("lift_gamma_gain", LiftGammaGain, {"lift": 0.05, "gamma": 1.2, "gain_r": 0.9, "gamma_b": 1.1}),
    ("saturation", Saturation, {"amount": 1.6}),
    ("white_balance", WhiteBalance, {"mode": "white_patch", "strength": 0.7}),
]


@pytest.mark.parametrize("name, module, params", CASES)
def test_module_equals_functional_and_registry(name, module, params):
    spec = get_op(name)
    assert spec.module is module
    clip = random_clip(frames=3)
    validated = spec.validate_params(params)
    assert torch.equal(module(**params)(clip), spec.function(clip, **validated))


@pytest.mark.parametrize("name, module, params", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_and_device_follow_input(name, module, params, dtype):
    clip = random_clip(frames=2).to(dtype)
    out = module(**params)(clip)
    assert out.dtype == dtype and out.device == clip.device and out.shape == clip.shape
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0

