from pathlib import Path

import numpy as np
import pytest
import torch
from skimage import data

from restoration.errors import SpecError
from restoration.op_registry import get_op
from restoration.ops.stabilise import (
    STABILISE_RADIUS,
    Stabilise,
    _shift_frames,
    estimate_shift,
    reduced_grey,
    reduction_factor,
    shifts_of_reduced,
    stabilisation_shifts,
    stabilise,
)

LENGTH = 24


@pytest.fixture(scope="module")
def photo() -> torch.Tensor:
    return torch.from_numpy(data.camera()[60:300, 120:400]).double()[None, None] / 255.0


def camera_clip(photo: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Frames of a 96x112 view whose content sits at ``positions`` (T, 2) pixels."""
    moved = _shift_frames(photo.expand(positions.shape[0], -1, -1, -1), positions.double())
    return moved[..., 60:156, 80:192].float()


def film_like(clip: torch.Tensor, seed: int) -> torch.Tensor:
    """Flicker (per-frame gain) and grain on top of a clean clip."""
    generator = torch.Generator().manual_seed(seed)
    gain = 0.75 + 0.5 * torch.rand(clip.shape[0], 1, 1, 1, generator=generator)
    return (clip * gain + 0.04 * torch.randn(clip.shape, generator=generator)).clamp(0, 1)


def path_fit(positions: torch.Tensor, radius: int, missing: tuple[int, ...] = ()) -> np.ndarray:
    """Reference: the weighted cubic fit of the known positions, relative to each frame
    (frames in ``missing`` are left out of every fit but their own)."""
    positions = positions.numpy()
    length = positions.shape[0]
    out = np.zeros((length, 2))
    for t in range(length):
        js = np.array([j for j in range(max(0, t - radius), min(length, t + radius + 1)) if j == t or j not in missing])
        offsets = (js - t).astype(float)
        weights = np.exp(-0.5 * (offsets / (radius / 2)) ** 2)
        for axis in range(2):
            intercept = np.polyfit(offsets, positions[js, axis] - positions[t, axis], 3, w=np.sqrt(weights))[-1]
            out[t, axis] = intercept
    return out


def random_weave(seed: int, amplitude: float = 2.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(LENGTH, 2, generator=generator, dtype=torch.float64) - 0.5) * 2 * amplitude


def test_estimate_shift_is_subpixel_under_flicker_and_grain(photo):
    positions = random_weave(1, amplitude=3.0)
    clip = film_like(camera_clip(photo, positions), seed=2)
    measured = estimate_shift(clip[1:], clip[:1]).double()
    assert (measured - (positions[1:] - positions[:1])).abs().max() < 0.1


def test_random_weave_is_measured_and_removed(photo):
    positions = random_weave(3)
    clip = film_like(camera_clip(photo, positions), seed=4)
    shifts = stabilisation_shifts(clip, radius=8).double()
    assert np.abs(shifts.numpy() - path_fit(positions, 8)).max() < 0.1
    # Realigned: each output frame matches the frame the photo gives at its path position.
    out = stabilise(clip, radius=8)
    expected = camera_clip(photo, positions + shifts)
    interior = (slice(None), slice(None), slice(4, -4), slice(4, -4))
    grain_free = stabilise(camera_clip(photo, positions), radius=8)
    assert (grain_free[interior] - expected[interior]).abs().mean() < 0.01
    # The weave left after stabilisation is a small fraction of the weave before.
    before = (positions - positions.mean(0)).pow(2).mean().sqrt()
    after = stabilisation_shifts(out, radius=8).pow(2).mean().sqrt()
    assert after < 0.1 * before


def test_a_ruined_frame_does_not_bend_its_neighbours(photo):
    positions = random_weave(12)
    clip = film_like(camera_clip(photo, positions), seed=13)
    clip[10] = torch.rand(clip[10].shape, generator=torch.Generator().manual_seed(14))  # a burnt frame
    shifts = stabilisation_shifts(clip, radius=8).double().numpy()
    neighbours = [t for t in range(LENGTH) if t != 10]
    assert np.abs(shifts - path_fit(positions, 8, missing=(10,)))[neighbours].max() < 0.25
    assert np.abs(shifts[10]).max() < 1e-6  # no match at all: the frame is left where it is


def test_steady_pan_is_preserved(photo):
    positions = torch.arange(LENGTH, dtype=torch.float64)[:, None] * torch.tensor([1.5, -0.75], dtype=torch.float64)
    clip = film_like(camera_clip(photo, positions), seed=5)
    shifts = stabilisation_shifts(clip)
    assert shifts.abs().max() < 0.1  # also at the clip's ends
    out = stabilise(clip)
    assert (out - clip)[..., 4:-4, 4:-4].abs().mean() < 0.02


def test_no_black_borders(photo):
    positions = random_weave(6, amplitude=3.0)
    out = stabilise(0.3 + 0.5 * camera_clip(photo, positions))
    edges = torch.cat((out[..., 0, :], out[..., -1, :], out[..., :, 0], out[..., :, -1]), dim=-1)
    assert float(edges.min()) > 0.25  # the input is never below 0.3; black padding would be 0


def test_window_equals_whole_clip(photo):
    positions = random_weave(7) + torch.arange(LENGTH, dtype=torch.float64)[:, None] * 0.5
    clip = film_like(camera_clip(photo, positions), seed=8)
    radius = get_op("stabilise").temporal_radius
    assert radius == STABILISE_RADIUS
    whole = stabilise(clip, radius=6)
    # Core frames 0..3 (the window starts at the clip's start) and 12..14 with context.
    start, end = 12, 15
    window = stabilise(clip[max(0, start - radius):end + radius], radius=6)
    first = start - max(0, start - radius)
    assert torch.allclose(window[first:first + end - start], whole[start:end], atol=1e-4)
    window = stabilise(clip[: 4 + radius], radius=6)
    assert torch.allclose(window[:4], whole[:4], atol=1e-4)


def test_single_frame_and_strength_zero(photo):
    clip = camera_clip(photo, random_weave(9)[:3])
    assert torch.allclose(stabilise(clip[:1]), clip[:1], atol=1e-5)
    assert torch.equal(stabilise(clip, strength=0.0), clip)


def test_module_equals_functional_and_registry(photo):
    clip = camera_clip(photo, random_weave(10)[:8])
    spec = get_op("stabilise")
    assert spec.module is Stabilise
    params = spec.validate_params({"radius": 4, "strength": 0.5})
    assert torch.equal(Stabilise(**params)(clip), spec.function(clip, **params))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_device_and_colour(photo, dtype):
    clip = camera_clip(photo, random_weave(11)[:6]).repeat(1, 3, 1, 1).to(dtype)
    out = stabilise(clip, radius=3)
    assert out.dtype == dtype and out.device == clip.device and out.shape == clip.shape
    assert stabilisation_shifts(clip, radius=3).dtype == dtype


def test_bad_input_raises():
    clip = torch.rand(4, 1, 32, 32)
    with pytest.raises(SpecError, match="radius"):
        stabilise(clip, radius=STABILISE_RADIUS + 1)
    with pytest.raises(SpecError, match="strength"):
        stabilise(clip, strength=1.5)
    with pytest.raises(SpecError, match="max_shift"):
        stabilise(clip, max_shift=0.0)
    with pytest.raises(SpecError):
        stabilise(torch.rand(4, 32, 32))
    with pytest.raises(SpecError, match="reference"):
        estimate_shift(clip, torch.rand(2, 1, 32, 32))
    with pytest.raises(SpecError):
        get_op("stabilise").validate_params({"radius": 0})


FOOTAGE = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "footage"


@pytest.mark.footage
def test_real_film_weave_is_reduced():
    clip_path = FOOTAGE / "the_great_train_robbery.mkv"
    if not clip_path.exists():
        pytest.skip(f"archival footage not present at {FOOTAGE}")
    from restoration.io import read_frames

    frames = read_frames(clip_path, 0, 20)

    def high_frequency_weave(clip: torch.Tensor) -> float:
        """RMS of the camera path minus its 5-frame moving average (the jitter, not the moves)."""
        path = torch.cumsum(estimate_shift(clip[1:], clip[:-1]).double(), 0)
        padded = torch.nn.functional.pad(path.T[:, None], (2, 2), mode="replicate")
        smooth = torch.nn.functional.avg_pool1d(padded, 5, stride=1)[:, 0].T
        return float((path - smooth).pow(2).mean().sqrt())

    before = high_frequency_weave(frames)
    after = high_frequency_weave(stabilise(frames))
    assert before > 0.3  # this 1903 print weaves visibly
    assert after < 0.3 * before


def test_eased_pan_without_weave_is_left_untouched():
    # An eased pan accelerates; a straight-line path took that for weave and moved every frame.
    from restoration.degrade import clean_sources, synthetic_clip

    image = dict(clean_sources())["camera"]
    clip = synthetic_clip(image, frames=16, size=(96, 128), seed=0, motion="pan")
    assert stabilisation_shifts(clip).abs().max() < 0.05
    assert torch.equal(stabilise(clip), clip)


def test_shifting_a_tile_gives_the_whole_frames_pixels_bit_for_bit():
    # Tiled runs shift each tile on its own: away from the tile's cut edges (farther than the
    # shift and the filter's reach) its pixels must be the whole frame's, not merely close.
    generator = torch.Generator().manual_seed(3)
    frames = torch.rand(3, 3, 80, 120, generator=generator)
    shifts = torch.tensor([[0.37, -1.62], [-2.91, 0.08], [4.5, 3.25]], dtype=torch.float64)
    whole = _shift_frames(frames, shifts)
    tile = _shift_frames(frames[..., 17:71, 29:101].contiguous(), shifts)
    margin = 8  # > 4.5 px of shift + 2 px of taps
    assert torch.equal(tile[..., margin:-margin, margin:-margin], whole[..., 17 + margin:71 - margin, 29 + margin:101 - margin])
    # At the frame's own edges a tile that shares them mirrors them alike.
    corner = _shift_frames(frames[..., :40, :60].contiguous(), shifts)
    assert torch.equal(corner[..., :-margin, :-margin], whole[..., :40 - margin, :60 - margin])


def test_shifts_from_grey_copies_made_a_few_frames_at_a_time_equal_the_whole_clips(photo):
    # A streamed pipeline keeps a neighbour as its reduced grey copy, made when the frame arrived
    # (a chunk at a time): the shifts from those copies must be the whole clip's, bit for bit.
    clip = film_like(camera_clip(photo, random_weave(11) + torch.arange(LENGTH)[:, None] * 0.7), seed=12)
    big = torch.nn.functional.interpolate(clip, scale_factor=9, mode="nearest")[:8]  # 864 px: reduced 2x
    for frames in (clip, big):
        factor = reduction_factor(frames)
        grey = torch.cat([reduced_grey(part) for part in frames.split(3)])
        assert grey.shape == (frames.shape[0], frames.shape[-2] // factor, frames.shape[-1] // factor)
        shifts = shifts_of_reduced(grey, factor, radius=4)
        assert shifts.dtype == torch.float64
        assert torch.equal(shifts.to(frames.dtype), stabilisation_shifts(frames, radius=4))
        assert float(shifts.abs().max()) > 0.5  # the weave is seen
    assert reduction_factor(big) == 2
