import pytest
import torch
import torch.nn.functional as F

from restoration.errors import SpecError
from restoration.ops.interpolate import (
    INTERPOLATE_RADIUS,
    FrameInterpolator,
    interpolate_frames,
    retime_times,
)


def texture(h: int, w: int, seed: int) -> torch.Tensor:
    """Smooth random texture (1, 1, h, w) in [0, 1]: blobs at three scales."""
    generator = torch.Generator().manual_seed(seed)
    image = torch.zeros(1, 1, h, w)
    for scale in (3, 6, 12):
        coarse = torch.rand(1, 1, h // scale + 2, w // scale + 2, generator=generator)
        image += F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False) / 3
    return image.clamp(0, 1)


BACKGROUND = texture(96, 128, seed=1)
SQUARE = texture(48, 48, seed=2) * 0.6 + 0.4


def square_frame(x: int, y: int) -> torch.Tensor:
    frame = BACKGROUND.clone()
    frame[..., y:y + 48, x:x + 48] = SQUARE
    return frame


def square_clip(positions) -> torch.Tensor:
    return torch.cat([square_frame(x, y) for x, y in positions])


def mean_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().mean())


def test_moving_square_midpoint_beats_linear_blend():
    clip = square_clip([(30, 20), (34, 22)])
    truth = square_frame(32, 21)
    middle = interpolate_frames(clip, torch.tensor([0.5]))
    linear = 0.5 * (clip[:1] + clip[1:])
    assert mean_error(middle, truth) < 0.6 * mean_error(linear, truth)


def test_quarter_positions_follow_the_motion():
    clip = square_clip([(30, 20), (38, 24)])
    out = interpolate_frames(clip, [0.25, 0.75])
    for index, truth in enumerate((square_frame(32, 21), square_frame(36, 23))):
        a = (0.25, 0.75)[index]
        linear = (1 - a) * clip[:1] + a * clip[1:]
        assert mean_error(out[index:index + 1], truth) < 0.75 * mean_error(linear, truth)


def test_pan_is_interpolated_almost_exactly():
    scene = texture(128, 160, seed=3)
    clip = torch.cat((scene[..., 8:104, 8:136], scene[..., 12:108, 18:146]))  # moves (10, 4) px
    truth = scene[..., 10:106, 13:141]
    middle = interpolate_frames(clip, [0.5])
    inner = (..., slice(8, -8), slice(8, -8))
    assert mean_error(middle[inner], truth[inner]) < 0.01
    assert mean_error((0.5 * (clip[:1] + clip[1:]))[inner], truth[inner]) > 0.05


def test_unrelated_frames_fall_back_towards_a_cross_fade():
    # No motion links the two (a flash, a burnt frame): wrong warps must not replace the fade.
    first = texture(96, 128, seed=5)
    second = torch.rand(1, 1, 96, 128, generator=torch.Generator().manual_seed(6))
    middle = interpolate_frames(torch.cat((first, second)), [0.5])
    fade = 0.5 * (first + second)
    assert mean_error(middle, fade) < 0.6 * mean_error(fade, first)


def test_integer_times_return_the_inputs_exactly():
    clip = torch.rand(4, 3, 24, 32, generator=torch.Generator().manual_seed(4))
    out = interpolate_frames(clip, torch.tensor([0.0, 3.0, 1.0, 2.0, 1.0]))
    assert torch.equal(out, clip[[0, 3, 1, 2, 1]])
    assert interpolate_frames(clip, []).shape == (0, 3, 24, 32)


def test_window_equals_whole_clip():
    clip = square_clip([(20, 20), (24, 22), (28, 24), (32, 26), (36, 28)])
    times = torch.tensor([0.5, 1.25, 2.0, 2.5, 3.75])
    whole = interpolate_frames(clip, times)
    # Position 2.5 needs frames 2 and 3 only (INTERPOLATE_RADIUS frames of context).
    assert INTERPOLATE_RADIUS == 1
    assert torch.allclose(interpolate_frames(clip[2:4], times[3:4] - 2), whole[3:4], atol=1e-6)
    assert torch.allclose(interpolate_frames(clip[1:3], times[1:3] - 1), whole[1:3], atol=1e-6)


def test_retime_counts_and_positions():
    doubled = retime_times(10, 24, 48)
    assert doubled.dtype == torch.float64
    assert len(doubled) == 20  # the shot keeps its duration; the last frame is held
    assert torch.equal(doubled[:19], torch.arange(19, dtype=torch.float64) / 2)
    assert doubled[-1] == 9
    assert len(retime_times(10, 24, 48, keep_duration=False)) == 19  # no frame past the last input
    assert torch.allclose(retime_times(4, 16, 24), torch.tensor([0, 2 / 3, 4 / 3, 2, 8 / 3, 3], dtype=torch.float64))
    assert torch.allclose(retime_times(3, 18, 24), torch.tensor([0, 0.75, 1.5, 2.0], dtype=torch.float64))
    assert torch.equal(retime_times(5, 24, 24), torch.arange(5, dtype=torch.float64))
    assert torch.equal(retime_times(6, 48, 24), torch.tensor([0.0, 2.0, 4.0], dtype=torch.float64))
    # NTSC rates are taken as 24000/1001 and 30000/1001: 4 film frames give 5 video frames.
    assert torch.allclose(retime_times(4, 23.976, 29.97), torch.tensor([0, 0.8, 1.6, 2.4, 3.0], dtype=torch.float64))
    # Positions always fit interpolate_frames.
    clip = torch.rand(3, 1, 16, 16)
    assert interpolate_frames(clip, retime_times(3, 16, 24)).shape == (5, 1, 16, 16)


def test_module_equals_functional():
    clip = square_clip([(30, 20), (34, 22)])
    times = torch.tensor([0.0, 0.5, 1.0])
    assert torch.equal(FrameInterpolator()(clip, times), interpolate_frames(clip, times))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_and_device_follow_input(dtype):
    clip = square_clip([(30, 20), (34, 22)]).repeat(1, 3, 1, 1).to(dtype)
    out = interpolate_frames(clip, [0.5])
    assert out.dtype == dtype and out.device == clip.device and out.shape == (1, 3, 96, 128)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_bad_input_raises():
    clip = torch.rand(3, 1, 16, 16)
    with pytest.raises(SpecError, match=r"\[0, 2\]"):
        interpolate_frames(clip, [2.5])
    with pytest.raises(SpecError, match=r"\[0, 2\]"):
        interpolate_frames(clip, [-0.5])
    with pytest.raises(SpecError, match="1-D"):
        interpolate_frames(clip, torch.zeros(2, 2))
    with pytest.raises(SpecError, match="finite"):
        interpolate_frames(clip, [float("nan")])
    with pytest.raises(SpecError):
        interpolate_frames(torch.rand(16, 16), [0.0])
    with pytest.raises(SpecError, match="src_fps"):
        retime_times(10, 0, 24)
    with pytest.raises(SpecError, match="dst_fps"):
        retime_times(10, 24, float("inf"))
    with pytest.raises(SpecError, match="frame count"):
        retime_times(0, 24, 48)
