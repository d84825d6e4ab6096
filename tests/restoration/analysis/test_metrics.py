import pytest
import torch
import torch.nn.functional as F

from restoration.analysis.metrics import FrameStatistics, frame_statistics, shot_metrics


def metrics_of(frames: torch.Tensor) -> dict:
    return shot_metrics(frame_statistics(frames).values, 0, frames.shape[0] - 1)


@pytest.fixture
def clean(make_shot):
    return make_shot(3, 24, height=96, width=128, grain=0.0)


def test_noise_level_follows_added_grain(clean):
    generator = torch.Generator().manual_seed(1)
    noisy = (clean + 6 / 255 * torch.randn(clean.shape, generator=generator)).clamp(0, 1)
    assert metrics_of(clean)["noise"] < 1.0
    assert 4.5 < metrics_of(noisy)["noise"] < 7.5  # 8-bit code values


def test_temporal_grain_follows_grain_that_changes_every_frame(clean):
    generator = torch.Generator().manual_seed(1)
    soft = F.avg_pool2d(torch.randn(clean.shape, generator=generator), 3, 1, 1, count_include_pad=False)
    soft = soft / soft.std() * 8 / 255  # soft grain: too wide for the 3x3 spatial operator
    grainy = (clean + soft).clamp(0, 1)
    assert metrics_of(clean)["grain"] < 1.0
    assert 5.0 < metrics_of(grainy)["grain"] < 11.0
    assert metrics_of(grainy)["grain"] > 2 * metrics_of(grainy)["noise"]


def test_dust_density_counts_one_frame_specks(clean):
    dusty = clean.clone()
    generator = torch.Generator().manual_seed(2)
    for t in range(1, 23):
        for _ in range(6):
            y, x = torch.randint(4, 90, (2,), generator=generator).tolist()
            dusty[t, :, y : y + 3, x : x + 3] = 0.0 if t % 2 else 1.0
    assert metrics_of(clean)["dust"] < 1e-4
    assert metrics_of(dusty)["dust"] > 1e-3


def test_scratch_counts_vertical_lines(clean):
    scratched = clean.clone()
    scratched[:, :, :, 50] = (scratched[:, :, :, 50] - 0.25).clamp(0, 1)
    assert metrics_of(clean)["scratch"] < 0.1
    assert 0.8 <= metrics_of(scratched)["scratch"] <= 1.2


def test_flicker_index_is_relative_brightness_wobble(clean):
    generator = torch.Generator().manual_seed(3)
    gains = 1 + 0.1 * (2 * torch.rand(24, generator=generator) - 1)
    flickering = (clean * gains.view(-1, 1, 1, 1)).clamp(0, 1)
    assert metrics_of(clean)["flicker"] < 0.005
    assert metrics_of(flickering)["flicker"] > 0.02


def test_weave_is_jitter_not_a_steady_pan(make_shot):
    steady = make_shot(4, 24, height=96, width=128, pan=(2, 0), grain=0.0)
    generator = torch.Generator().manual_seed(4)
    jitter = torch.randint(-3, 4, (24, 2), generator=generator)
    weaving = torch.stack([torch.roll(f, tuple(j.tolist()), (-2, -1)) for f, j in zip(steady, jitter, strict=True)])
    assert metrics_of(steady)["weave"] < 0.3
    assert metrics_of(weaving)["weave"] > 1.0  # native pixels


def test_blockiness_sees_an_8x8_grid(clean):
    blocky = F.interpolate(F.avg_pool2d(clean, 8), scale_factor=8, mode="nearest")
    blocky = blocky + 0.5 * (clean - F.avg_pool2d(clean, 3, 1, 1))  # some detail inside blocks
    assert metrics_of(clean)["blockiness"] < 0.1
    assert metrics_of(blocky)["blockiness"] > 0.3


def test_sharpness_drops_when_blurred(make_shot):
    sharp = make_shot(5, 8, height=96, width=128, grain=0.0)
    sharp = (sharp > 0.5).float() * 0.8 + 0.1  # hard edges
    blurred = F.avg_pool2d(sharp, 5, 1, 2, count_include_pad=False)
    assert metrics_of(blurred)["sharpness"] < 0.5 * metrics_of(sharp)["sharpness"]


def test_motion_is_zero_for_a_still_shot(make_shot):
    still = make_shot(6, 10, pan=(0, 0), grain=0.0)
    moving = make_shot(6, 10, pan=(3, 2), grain=0.0)
    assert metrics_of(still)["motion"] < 0.1
    assert metrics_of(moving)["motion"] > 1.0


def test_grey_footage_has_no_colour_metrics(clean):
    for frames in (clean, clean.expand(-1, 3, -1, -1).contiguous()):
        m = metrics_of(frames)
        assert m["is_grey"] is True
        assert m["colour_cast"] is None and m["saturation"] is None


def test_colour_cast_and_grey_world_gains(make_shot):
    rgb = make_shot(7, 6, channels=3, grain=0.0)
    neutral = rgb.mean(1, keepdim=True).expand(-1, 3, -1, -1).clone()
    neutral[:, 1] += 0.002  # barely off-grey still counts as colour data, but has no cast
    cast = neutral.clone()
    cast[:, 0] = (cast[:, 0] * 1.3).clamp(0, 1)  # red cast
    m_cast = metrics_of(cast)
    assert m_cast["is_grey"] is False
    assert m_cast["colour_cast"] > 6.0
    assert m_cast["red_gain"] < 1.0 < m_cast["blue_gain"]
    assert metrics_of(rgb)["saturation"] > 0.0


def test_streaming_equals_one_pass(make_shot):
    frames = make_shot(8, 20, pan=(2, 1))
    frames[7, :, 10:14, 10:14] = 1.0
    whole = frame_statistics(frames).values
    streamed = FrameStatistics()
    for chunk in frames.split(3):
        streamed.feed(chunk)
    streamed.finish()
    for key, values in whole.items():
        assert len(streamed.values[key]) == 20, key
        assert torch.allclose(torch.tensor(streamed.values[key]), torch.tensor(values), atol=1e-5, equal_nan=True), key


def test_every_metric_is_a_number_even_for_one_frame(make_shot):
    m = metrics_of(make_shot(9, 1))
    assert m["frames"] == 1
    for key, value in m.items():
        if key not in ("is_grey", "colour_cast", "saturation", "red_gain", "green_gain", "blue_gain"):
            assert isinstance(value, (int, float)) and value == value, key


@pytest.mark.footage
def test_burn_and_flicker_show_in_real_footage(footage):
    from restoration.io import read_frames

    gates = metrics_of(read_frames(footage / "within_our_gates.mkv"))
    steady = metrics_of(read_frames(footage / "a-bomb-blast-effects-1952.mp4", 44, 90))
    market = metrics_of(read_frames(footage / "a_trip_down_market_street_before_the_fire.mkv"))
    assert gates["dust"] > 5 * steady["dust"]  # the burn on frame 28, plus dirt
    assert market["flicker"] > 3 * steady["flicker"]
    assert steady["blockiness"] > market["blockiness"]  # H.264 access copy vs lossless FFV1 scan
