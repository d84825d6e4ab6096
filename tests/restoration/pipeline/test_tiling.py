"""Spatial tiles: sizes from a memory budget, feathered seams, and tiled ops equal to untiled ones."""

from __future__ import annotations

import pytest
import torch

from restoration.errors import RestorationError
from restoration.ops._common import box_filter
from restoration.pipeline import run_pipeline
from restoration.pipeline.tiling import (
    TilePlan,
    apply_tiled,
    parse_memory_size,
    plan_tiles,
    window_for_budget,
)

# Tiled against untiled, in 8-bit code values: the bound for "no visible seam".
SEAM_TOLERANCE = 0.5 / 255


@pytest.mark.parametrize(("text", "expected"), [
    ("4GiB", 4 * 2 ** 30), ("512MiB", 512 * 2 ** 20), ("2G", 2 * 10 ** 9), ("1.5 GB", 1_500_000_000),
    ("67108864", 2 ** 26), ("16gib", 16 * 2 ** 30),
])
def test_parse_memory_size(text, expected):
    assert parse_memory_size(text) == expected


@pytest.mark.parametrize("text", ["", "GiB", "4 GiBs", "4PiB", "-4GiB", "1MiB", "4e9", "nan"])
def test_parse_memory_size_refuses(text):
    with pytest.raises(RestorationError, match="--max-memory"):
        parse_memory_size(text)


def test_small_frames_are_not_tiled_and_large_ones_are():
    assert plan_tiles(frames=20, channels=3, height=480, width=640, max_memory=12 * 2 ** 30).whole_frame
    plan = plan_tiles(frames=4, channels=3, height=3112, width=4096, max_memory=4 * 2 ** 30)
    assert not plan.whole_frame and 64 <= plan.tile < 3112 and plan.tile % 16 == 0
    smaller = plan_tiles(frames=4, channels=3, height=3112, width=4096, max_memory=3 * 2 ** 30)
    assert smaller.tile < plan.tile


def test_window_shrinks_with_the_budget_down_to_the_context():
    roomy = window_for_budget(window=32, context=4, channels=3, height=480, width=640, max_memory=12 * 2 ** 30)
    tight = window_for_budget(window=32, context=4, channels=3, height=3112, width=4096, max_memory=2 * 2 ** 30)
    assert roomy == 32
    assert 1 <= tight < 32
    # Below the context radius a window would mostly recompute its context: the radius is the floor.
    assert window_for_budget(window=32, context=8, channels=3, height=3112, width=4096, max_memory=2 ** 30) == 8
    assert window_for_budget(window=32, context=0, channels=3, height=3112, width=4096, max_memory=2 ** 30) == 1


def test_pointwise_function_is_exact_through_the_feathered_blend():
    frames = torch.rand(3, 2, 150, 211, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = apply_tiled(lambda tile: tile * 0.5 + 0.25, frames, TilePlan(48, overlap=16))
    torch.testing.assert_close(out, frames * 0.5 + 0.25)


def test_local_filter_within_the_halo_is_exact():
    # A 5x5 box reaches 2 px: the discarded half of a 16 px overlap (8 px) hides the tile edges.
    frames = torch.rand(2, 1, 130, 190, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    tiled = apply_tiled(lambda tile: box_filter(tile, 2), frames, TilePlan(40, overlap=16))
    torch.testing.assert_close(tiled, box_filter(frames, 2))


def test_a_filter_reaching_past_the_halo_shows_the_seam():
    # The check above can fail: a filter wider than the halo does differ near the seams.
    frames = torch.rand(1, 1, 128, 128, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    tiled = apply_tiled(lambda tile: box_filter(tile, 12), frames, TilePlan(32, overlap=8))
    assert (tiled - box_filter(frames, 12)).abs().max() > 1e-3


@pytest.fixture(scope="module")
def damaged_clip() -> torch.Tensor:
    from restoration.degrade import clean_sources, degrade, synthetic_clip

    image = dict(clean_sources())["camera"]
    clip = synthetic_clip(image, frames=6, size=(128, 192), seed=1, motion="pan")
    return degrade(clip, seed=5, strength="medium").damaged


@pytest.mark.parametrize(("op", "params"), [
    ("deblock", {"strength": 1.5}),
    ("stabilise", {"radius": 3}),
    ("deflicker", {"radius": 8}),
    ("levels", {}),
])
def test_tiled_op_matches_untiled(damaged_clip, op, params):
    spec = {"ops": [{"op": op, "params": params}]}
    whole = run_pipeline(damaged_clip, spec, fps=24, tile=0).frames
    tiled = run_pipeline(damaged_clip, spec, fps=24, tile=64).frames
    assert (tiled - whole).abs().max() <= SEAM_TOLERANCE


def test_stabilise_tiles_share_one_shift_estimate():
    # A frame moved by 3 px: per tile the correlation would find whatever each tile's content says;
    # with the shared estimate every tile moves by the same whole-frame shift, as untiled.
    base = torch.rand(1, 1, 128, 192, generator=torch.Generator().manual_seed(4))
    base = box_filter(base, 2)
    frames = torch.cat([base] * 3 + [torch.roll(base, shifts=3, dims=-1)] + [base] * 3)
    spec = {"ops": [{"op": "stabilise", "params": {"radius": 3}}]}
    whole = run_pipeline(frames, spec, fps=24, tile=0).frames
    tiled = run_pipeline(frames, spec, fps=24, tile=64).frames
    assert (whole[3] - frames[3]).abs().max() > 0.05  # the op did move the frame
    assert (tiled - whole).abs().max() <= SEAM_TOLERANCE
