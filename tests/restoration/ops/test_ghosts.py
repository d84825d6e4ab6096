"""Things that move inside the picture: the temporal ops follow them or leave them alone, and
never blend another frame's content into them (a translucent ghost)."""

import pytest
import torch

from restoration.ops.deflicker import deflicker
from restoration.ops.denoise import denoise
from restoration.ops.dust import remove_dust
from restoration.ops.flow import ChainedFlows, align_neighbours, consistency, trusted
from tests.restoration.ops.textures import grainy, textured_image

SIDE = 16  # the moving square's side
SPEED = 5  # px per frame, to the right
FRAMES = 7
H, W = 64, 96


def moving_square(frames: int = FRAMES) -> tuple[torch.Tensor, torch.Tensor]:
    """A still textured background (0.1-0.5) with a bright square (0.9) crossing it, and the
    square's mask (T, 1, H, W)."""
    background = textured_image(H, W, seed=3, low=0.1, high=0.5)
    clip, masks = [], []
    for t in range(frames):
        mask = torch.zeros(1, 1, H, W)
        left = 12 + SPEED * t
        mask[..., 24:24 + SIDE, left:left + SIDE] = 1.0
        clip.append(background * (1 - mask) + 0.9 * mask)
        masks.append(mask)
    return torch.cat(clip), torch.cat(masks)


def trailing_region(t: int) -> tuple[slice, slice]:
    """Where the square was in frame t-1 and is not any more: background in frame t."""
    left = 12 + SPEED * t
    return slice(24, 24 + SIDE), slice(left - SPEED, left)


def trail(t: int) -> tuple[slice, slice, slice]:
    """The square's trail in frame t and the band the flow's smoothing spreads it over (two steps)."""
    left = 12 + SPEED * t
    return slice(None), slice(24, 24 + SIDE), slice(left - 2 * SPEED, left)


def test_the_confidence_is_low_where_a_moving_thing_uncovers_the_background_and_high_elsewhere():
    clip, _ = moving_square()
    flows = ChainedFlows(clip)
    flows.prepare(range(FRAMES - 1))
    t = 3
    confidence = flows.confidence(t, t - 1)[0]
    # Every row of the trail holds pixels that fail the round trip ...
    assert float(confidence[trail(t)].amin(-1).max()) < 0.1
    # ... while the still background far from the square passes it.
    assert float(confidence[:, :, 70:].mean()) > 0.9
    assert float(confidence.min()) >= 0.0 and float(confidence.max()) <= 1.0


def test_consistency_is_one_for_a_flow_and_its_inverse_and_zero_outside_the_picture():
    forward = torch.zeros(1, 2, 20, 30)
    forward[:, 0] = 2.0
    confidence = consistency(forward, -forward)
    assert torch.allclose(confidence[..., :, :27], torch.ones(1, 1, 20, 27))
    assert float(confidence[..., :, 28:].max()) == 0.0  # sampled beyond the right edge
    assert float(consistency(forward, forward)[..., :, :20].max()) < 1e-3  # the round trip misses by 4 px


def test_aligned_neighbours_fall_back_to_the_frame_itself_where_the_flow_fails():
    clip, _ = moving_square()
    flows = ChainedFlows(clip)
    flows.prepare(range(FRAMES - 1))
    t = 3
    aligned, confidence = align_neighbours(clip, flows, [t, t], [t - 1, t], brightness_limit=None)
    assert float(confidence[1].max()) == 0.0  # the frame itself adds nothing
    kept = trusted(aligned[:1], clip[t:t + 1], confidence[:1])
    rejected = (confidence[:1] < 1e-3).expand_as(kept)
    assert torch.allclose(kept[rejected], clip[t:t + 1][rejected], atol=1e-3)
    band = trail(t)
    raw_error = float((aligned[0][band] - clip[t][band]).abs().mean())
    assert float((kept[0][band] - clip[t][band]).abs().mean()) < 0.85 * raw_error


def ghost(out: torch.Tensor, clean: torch.Tensor) -> float:
    """Mean brightness added in the trailing regions of frames 2..T-3: the square's ghost."""
    added = []
    for t in range(2, FRAMES - 2):
        rows, columns = trailing_region(t)
        added.append(float((out[t, :, rows, columns] - clean[t, :, rows, columns]).mean()))
    return max(added)


def test_denoise_leaves_no_ghost_behind_a_moving_square():
    clean, _ = moving_square()
    out = denoise(grainy(clean, 0.03))
    # A ghost of the 0.9 square over a 0.1-0.5 background brightens its trail by 0.1 or more.
    assert ghost(out, clean) < 0.03


def test_dust_removal_keeps_a_moving_square_and_still_removes_a_speck():
    clean, mask = moving_square()
    dusty = grainy(clean, 0.01).clone()
    dusty[3, :, 50:54, 80:84] = 0.0  # a dark speck on the still background of frame 3
    out = remove_dust(dusty)
    square = mask.bool().expand_as(clean)
    assert float((out - dusty)[square].abs().max()) < 0.1  # not one pixel of the square taken for dirt
    assert float(out[3, :, 50:54, 80:84].mean()) > 0.1  # the speck is filled from the neighbours
    assert ghost(out, clean) < 0.03


def test_deflicker_leaves_a_moving_square_as_it_is():
    clean, _ = moving_square()
    out = deflicker(clean, radius=3)
    assert float((out - clean).abs().max()) < 0.03


def test_the_learned_net_leaves_no_ghost_behind_a_moving_square():
    from restoration.models.learned_ops import learned_restore

    clean, _ = moving_square()
    out = learned_restore(grainy(clean, 0.03))
    assert ghost(out, clean) < 0.04


@pytest.mark.parametrize("cutouts", [0, 2])
def test_a_clean_clip_gets_no_repairs_and_comes_back_as_it_was(cutouts):
    from restoration.analysis import analyse
    from restoration.bench.interp import cutout_clip
    from restoration.pipeline import run_pipeline

    clip = cutout_clip(0, frames=10, size=(96, 128), seed=[5, cutouts], motion="pan", cutouts=cutouts, speed=(2.0, 4.0))
    shots = analyse(clip, fps=24.0)["shots"]
    ops = [step["op"] for shot in shots for step in shot["recommended_pipeline"]]
    assert not {"denoise", "learned_restore"} & set(ops)
    out = run_pipeline(clip, "film", fps=24.0, shots=shots).frames
    assert float((out - clip).abs().mean()) < 1e-3


def test_the_flow_at_a_motion_boundary_does_not_jump_on_a_rounding():
    # Choosing each pixel's motion from its neighbours' by the least matching error flipped on a
    # nudge of 1e-6 (0.14 px here at seed 2; a third of a pixel between tiles and whole frames):
    # the choice weighs the candidates by how well they match instead.
    from restoration.ops.flow import FOLLOW_BOUNDARIES_PX, estimate_flow

    clip, _ = moving_square()
    for seed in range(5):
        generator = torch.Generator().manual_seed(seed)
        grain = (clip + 0.02 * torch.randn(clip.shape, generator=generator)).clamp(0, 1)
        nudged = grain + (torch.rand(clip.shape, generator=generator) - 0.5) * 2e-6
        flow, nudged_flow = (estimate_flow(frames[2:3], frames[3:4], boundaries=FOLLOW_BOUNDARIES_PX)
                             for frames in (grain, nudged))
        assert float((flow - nudged_flow).abs().max()) < 1e-3
