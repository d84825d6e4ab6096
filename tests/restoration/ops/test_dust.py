import pytest
import torch

from restoration.errors import SpecError
from restoration.op_registry import get_op
from restoration.ops.dust import Dust, detect_dust, remove_dust
from restoration.ops.flow import warp
from tests.restoration.ops.checks import assert_windows_match_whole_clip
from tests.restoration.ops.textures import grainy
from tests.restoration.ops.textures import textured_image as _textured_image


def textured_image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    return _textured_image(h, w, seed, low=0.15, high=0.85)


def add_dust(frames: torch.Tensor, seed: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Dark and bright round spots, a few per frame, none at the same place twice."""
    generator = torch.Generator().manual_seed(seed)
    t_count, _, h, w = frames.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    damaged, mask = frames.clone(), torch.zeros(t_count, 1, h, w)
    for t in range(t_count):
        spot = 0
        while spot < 3:
            cy = 8 + float(torch.rand(1, generator=generator)) * (h - 16)
            cx = 8 + float(torch.rand(1, generator=generator)) * (w - 16)
            radius = 1.5 + 2.5 * float(torch.rand(1, generator=generator))
            inside = (ys - cy) ** 2 + (xs - cx) ** 2 <= radius ** 2
            near = (ys - cy) ** 2 + (xs - cx) ** 2 <= (radius + 3) ** 2
            if mask[max(0, t - 2):t + 1, 0, near].any():
                continue  # dust of neighbouring frames never overlaps
            spot += 1
            damaged[t, :, inside] = 0.02 if spot % 2 == 0 else 0.98
            mask[t, 0, inside] = 1
    return damaged, mask


def static_clip(frames: int = 6, h: int = 48, w: int = 64) -> torch.Tensor:
    return textured_image(h, w).expand(frames, 1, h, w).contiguous()


def test_dust_on_a_static_textured_clip_is_removed():
    clean = grainy(static_clip())
    damaged, mask = add_dust(clean)
    out = remove_dust(damaged)
    before = ((damaged - clean) ** 2).mean()
    after = ((out - clean) ** 2).mean()
    assert after < before / 20
    detected = detect_dust(damaged)
    assert float((detected * mask).sum() / mask.sum()) > 0.8  # recall
    assert float((detected * (1 - mask)).sum()) < 0.1 * float(mask.sum())  # few false detections


def test_dust_is_found_on_a_pan():
    big = textured_image(80, 96)
    clean = torch.cat([warp(big, torch.full((1, 2, 80, 96), 1.5 * t))[..., 8:56, 8:72] for t in range(6)])
    damaged, mask = add_dust(grainy(clean))
    detected = detect_dust(damaged)
    assert float((detected * mask).sum() / mask.sum()) > 0.7


def test_undamaged_static_clip_is_left_alone():
    clean = grainy(static_clip())
    assert detect_dust(clean).sum() == 0
    assert torch.equal(remove_dust(clean), clean)


def test_moving_square_is_not_taken_for_dust():
    frames = static_clip(frames=6).clone()
    for t in range(6):  # a bright textured square moving 3 px a frame
        frames[t, :, 16:30, 5 + 3 * t:19 + 3 * t] = 0.9 - 0.2 * textured_image(14, 14, seed=4)
    frames = grainy(frames)
    assert detect_dust(frames).sum() == 0
    assert torch.allclose(remove_dust(frames), frames)


def test_window_equals_whole_clip():
    damaged, _ = add_dust(grainy(static_clip(frames=9)))
    assert_windows_match_whole_clip(remove_dust, damaged, radius=get_op("dust").temporal_radius,
                                    windows=((0, 2), (4, 6), (7, 9)))


def test_module_equals_function_rgb_float64():
    damaged, _ = add_dust(grainy(static_clip(frames=4)).expand(4, 3, 48, 64).contiguous())
    damaged = damaged.to(torch.float64)
    out = Dust(sensitivity=1.5)(damaged)
    assert out.dtype == torch.float64 and out.shape == damaged.shape
    assert torch.equal(out, remove_dust(damaged, sensitivity=1.5))
    assert detect_dust(damaged).shape == (4, 1, 48, 64)


def test_bad_input_raises():
    with pytest.raises(SpecError):
        remove_dust(torch.rand(4, 48, 64))
    with pytest.raises(SpecError):
        detect_dust(torch.rand(4, 4, 48, 64))
    with pytest.raises(SpecError):
        remove_dust(torch.rand(4, 1, 48, 64), sensitivity=0)


def test_both_neighbours_range_is_each_neighbours_range_combined():
    # One filter each way over the neighbours' pointwise min and max, bit for bit the lower of
    # their lows and the higher of their highs, where seen (narrow) and elsewhere (wide).
    from restoration.ops._common import max_filter, min_filter
    from restoration.ops.dust import RANGE_RADIUS, UNSEEN_RADIUS, _local_range

    generator = torch.Generator().manual_seed(3)
    previous, following = torch.rand(2, 3, 1, 40, 52, generator=generator)
    seen = torch.rand(3, 1, 40, 52, generator=generator) > 0.3
    low, high = _local_range(previous, following, RANGE_RADIUS, seen)
    for radius, where in ((RANGE_RADIUS, seen), (UNSEEN_RADIUS, ~seen)):
        assert torch.equal(low[where], torch.minimum(min_filter(previous, radius), min_filter(following, radius))[where])
        assert torch.equal(high[where], torch.maximum(max_filter(previous, radius), max_filter(following, radius))[where])
