import pytest
import torch

from restoration.errors import SpecError
from restoration.op_registry import get_op
from restoration.ops.scratch import Scratch, detect_scratches, remove_scratches
from tests.restoration.ops.checks import assert_windows_match_whole_clip
from tests.restoration.ops.textures import grainy
from tests.restoration.ops.textures import textured_image as _textured_image


def textured_image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    return _textured_image(h, w, seed, low=0.2, high=0.8, scales=(8, 16))  # no fine texture: it reads as scratches


def scratched(frames: int = 5, h: int = 64, w: int = 80, bright: bool = True):
    """A static textured clip with a 2 px scratch drifting one column every other frame."""
    clean = textured_image(h, w).expand(frames, 1, h, w).contiguous()
    damaged, mask = clean.clone(), torch.zeros(frames, 1, h, w)
    for t in range(frames):
        column = 40 + t // 2
        damaged[t, :, 4:, column:column + 2] += 0.3 if bright else -0.3
        mask[t, 0, 4:, column:column + 2] = 1
    return clean, damaged.clamp(0, 1), mask


@pytest.mark.parametrize("bright", [True, False])
def test_scratch_column_is_found_and_removed(bright):
    clean, damaged, mask = scratched(bright=bright)
    clean, damaged = grainy(clean), grainy(damaged)
    detected = detect_scratches(damaged)
    assert float((detected * mask).sum() / mask.sum()) > 0.9
    # Nothing in columns away from the line (rows are verified in segments of a few rows).
    line_columns = mask.amax(dim=2, keepdim=True).expand_as(mask)
    far = 1 - torch.nn.functional.max_pool2d(line_columns, (1, 5), stride=1, padding=(0, 2))
    assert float((detected * far).sum()) == 0
    out = remove_scratches(damaged)
    line = mask.bool()
    assert (out - clean)[line].abs().mean() < 0.2 * (damaged - clean)[line].abs().mean()
    assert (out - damaged)[far > 0].abs().max() == 0


def test_temporal_fill_on_a_pan_beats_the_scratch():
    big = textured_image(64, 112)
    clean = torch.stack([big[0, :, :, 3 * t:3 * t + 80] for t in range(5)])  # pan 3 px a frame
    damaged, mask = clean.clone(), torch.zeros_like(clean)
    damaged[:, :, :, 40:42] = (damaged[:, :, :, 40:42] - 0.3).clamp(0, 1)
    mask[:, :, :, 40:42] = 1
    out = remove_scratches(damaged, temporal=True)
    line = mask.bool()
    assert (out - clean)[line].abs().mean() < 0.15 * (damaged - clean)[line].abs().mean()


def test_clean_clip_and_picture_edges_are_left_alone():
    clean = textured_image(64, 80).expand(4, 1, 64, 80).contiguous()
    ramp = torch.linspace(0.2, 0.5, 80).view(1, 1, 1, 80)
    clean[:, :, 32:] = ramp  # lower half: a smooth shading with a strong vertical edge, not a line
    clean[:, :, 32:, 50:] += 0.3
    clean = grainy(clean)
    assert detect_scratches(clean).sum() == 0
    assert torch.equal(remove_scratches(clean), clean)


def test_window_equals_whole_clip():
    _, damaged, _ = scratched(frames=8)
    damaged = grainy(damaged)
    assert_windows_match_whole_clip(lambda clip: remove_scratches(clip, temporal=True), damaged,
                                    radius=get_op("scratch").temporal_radius, windows=((0, 3), (3, 5), (6, 8)))


def test_module_equals_function_rgb_float64():
    _, damaged, _ = scratched()
    damaged = damaged.expand(5, 3, 64, 80).to(torch.float64)
    out = Scratch(sensitivity=2.0)(damaged)
    assert out.dtype == torch.float64 and out.shape == damaged.shape
    assert torch.equal(out, remove_scratches(damaged, sensitivity=2.0))


def test_bad_input_raises():
    with pytest.raises(SpecError):
        remove_scratches(torch.rand(64, 80))
    with pytest.raises(SpecError):
        detect_scratches(torch.rand(2, 2, 64, 80))
    with pytest.raises(SpecError):
        detect_scratches(torch.rand(2, 1, 64, 80), sensitivity=-1)


def test_thin_picture_line_moving_with_a_pan_is_not_a_scratch():
    big = textured_image(64, 112)
    big[..., 4:, 60:62] -= 0.3  # a pole in the scene
    clean = grainy(torch.stack([big[0, :, :, 3 * t:3 * t + 80] for t in range(5)]).clamp(0, 1))
    assert detect_scratches(clean).sum() == 0


@pytest.mark.parametrize("name", ["astronaut", "camera"])
def test_clean_photograph_clip_is_left_almost_untouched(name):
    # Fine picture lines (the astronaut's suit, the tripod) were taken for scratches: a clean
    # clip came back at 27-31 dB against itself. Now they stay under the line-contrast floor.
    from restoration.compare import psnr
    from restoration.degrade import clean_sources, synthetic_clip

    clip = synthetic_clip(dict(clean_sources())[name], frames=6, size=(96, 128), seed=0, motion="pan")
    assert psnr(remove_scratches(clip), clip) > 45


@pytest.mark.parametrize("bright", [True, False])
def test_repair_only_undoes_the_scratch_polarity(bright):
    # A bright scratch only added light: its repair may darken pixels, never brighten them.
    _, damaged, _ = scratched(bright=bright)
    damaged = grainy(damaged)
    change = remove_scratches(damaged) - damaged
    assert bool(change.abs().amax() > 0.1)
    assert bool((change <= 0).all()) if bright else bool((change >= 0).all())
