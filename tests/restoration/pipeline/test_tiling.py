"""Spatial tiles: sizes from a memory budget, feathered seams, and tiled ops equal to untiled ones."""

from __future__ import annotations

import contextlib
import dataclasses
import logging

import pytest
import torch

from restoration.errors import RestorationError
from restoration.op_registry import register_op
from restoration.ops._common import box_filter, sampled_median
from restoration.ops.flow import flow_region, resize_flow
from restoration.ops.opspec import OpSpec
from restoration.pipeline import run_pipeline
from restoration.pipeline.tiling import (
    CPU_TILE,
    MIN_CHUNK,
    OUTPUTS_ONLY,
    PROCESS_BYTES,
    REDUCED_CONTEXTS,
    RESIDENT_COPIES,
    SHARED_ESTIMATES,
    SHARED_TILE,
    WORKING_COPIES,
    StreamPlan,
    TilePlan,
    apply_tiled,
    apply_tiled_at,
    chunk_for_budget,
    held_while_running,
    largest_tile,
    parse_memory_size,
    plan_tiles,
    run_op_tiled,
    stream_plan,
    streamed_bytes,
    streamed_frames,
    tile_medians,
    tile_workers,
)

# Tiled against untiled, in 8-bit code values: the bound for "no visible seam".
SEAM_TOLERANCE = 0.5 / 255
# Tiles of the scan clip below: with the temporal ops' widened overlaps, several to a frame.
SCAN_TILE = 96


@pytest.fixture(autouse=True)
def float32_networks(monkeypatch):
    # On a CPU with native bfloat16 the restoration net runs in bfloat16, whose convolutions
    # round differently for different tile sizes (1 code value at a few pixels): the seams are
    # checked on the float32 net, the same arithmetic on every machine.
    import restoration.models.learned_ops as learned_ops

    monkeypatch.setattr(learned_ops, "_native_bfloat16_cpu", lambda: False)


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


def test_an_op_declaring_more_working_copies_gets_smaller_tiles():
    sizes = {"frames": 4, "channels": 3, "height": 3112, "width": 4096, "max_memory": 4 * 2 ** 30}
    assert plan_tiles(**sizes, working_copies=56).tile < plan_tiles(**sizes).tile


def test_tiles_run_at_once_share_the_working_memory():
    sizes = {"frames": 4, "channels": 3, "height": 3112, "width": 4096, "max_memory": 4 * 2 ** 30}
    alone, two = plan_tiles(**sizes), plan_tiles(**sizes, workers=2)
    assert two.workers == 2 and two.tile < alone.tile
    # Each worker's tile (read with its overlap) holds about half the working memory.
    read = (alone.tile + 2 * alone.overlap) ** 2, (two.tile + 2 * two.overlap) ** 2
    assert 0.4 < read[1] / read[0] <= 0.5
    # A whole frame is one tile: it fits as it did for one worker.
    assert plan_tiles(frames=20, channels=3, height=480, width=640, max_memory=12 * 2 ** 30, workers=2).whole_frame
    assert TilePlan(512, workers=2).widened(70).workers == 2


def test_tiles_on_a_cpu_stop_at_the_largest_side_and_share_out_only_tiles_that_large():
    cpu = largest_tile(torch.device("cpu"))
    assert cpu == CPU_TILE and largest_tile(torch.device("meta")) is None  # any other device: no limit
    four_k = {"frames": 4, "channels": 3, "height": 3112, "width": 4096}
    # A budget that fits large tiles (12 GiB at 4K: 1616 px before) gets tiles of the largest side,
    # two at once.
    assert plan_tiles(**four_k, max_memory=12 * 2 ** 30, workers=2).tile > cpu
    assert plan_tiles(**four_k, max_memory=12 * 2 ** 30, workers=2, largest=cpu) == TilePlan(cpu, workers=2)
    # Where two at once would each get less than SHARED_TILE (4 GiB, whole window held: 544 px),
    # one tile at a time, larger; two at once while each keeps it (a streamed chain's frames: 672 px).
    shared = plan_tiles(**four_k, max_memory=4 * 2 ** 30, workers=2)
    assert shared.workers == 2 and shared.tile < SHARED_TILE
    alone = plan_tiles(**four_k, max_memory=4 * 2 ** 30, workers=2, largest=cpu)
    assert alone.workers == 1 and shared.tile < alone.tile <= cpu
    streamed = plan_tiles(**four_k, max_memory=4 * 2 ** 30, workers=2, held_frames=12, largest=cpu)
    assert streamed == TilePlan(672, workers=2) and SHARED_TILE <= streamed.tile < cpu
    # Frames that fit whole stay whole, even larger than the largest side (2K at 12 GiB).
    two_k = {"frames": 4, "channels": 3, "height": 1556, "width": 2048, "max_memory": 12 * 2 ** 30}
    assert plan_tiles(**two_k, workers=2, largest=cpu).whole_frame
    assert plan_tiles(frames=20, channels=3, height=480, width=640, max_memory=12 * 2 ** 30, workers=2,
                      largest=cpu).whole_frame


def test_the_runner_plans_with_the_devices_largest_tile(monkeypatch):
    from restoration.pipeline import runner

    planned = []
    monkeypatch.setattr(runner, "_apply", lambda step, frames, tiles, *rest, **options: planned.append(tiles) or frames)
    monkeypatch.setattr(runner, "largest_tile", lambda device: 96)
    # Frames the budget cannot hold whole (their tiles would be larger than 96 px otherwise).
    runner.run_pipeline(torch.rand(4, 1, 1000, 1000), {"ops": [{"op": "denoise"}]}, max_memory=2 ** 30)
    assert planned and all(plan.tile == 96 for plan in planned)


def test_tile_workers_follow_the_device_and_threads(monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    assert tile_workers(torch.device("cpu")) == 2
    assert tile_workers(torch.device("cuda")) == 1
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert tile_workers(torch.device("cpu")) == 1


def test_tiles_run_at_once_give_the_same_values_on_one_thread_each():
    frames = torch.rand(3, 2, 150, 211, generator=torch.Generator().manual_seed(3))
    threads_seen = set()

    def filtered(tile, top, left):
        threads_seen.add(torch.get_num_threads())
        assert not torch.is_grad_enabled()  # the caller's grad mode, in every thread
        return box_filter(tile, 2) * (1 + top + left)  # position-dependent: tiles must not be mixed up

    threads = torch.get_num_threads()
    one, two = TilePlan(48, overlap=16), TilePlan(48, overlap=16, workers=2)
    with torch.no_grad():
        assert torch.equal(apply_tiled_at(filtered, frames, two), apply_tiled_at(filtered, frames, one))
        assert torch.equal(tile_medians(filtered, frames, two), tile_medians(filtered, frames, one))
    assert threads_seen == {1, threads}  # the workers' tiles on one thread, the others as set
    assert torch.get_num_threads() == threads  # given back after


def test_a_failing_tile_fails_the_run_and_gives_the_threads_back():
    frames = torch.rand(1, 1, 150, 211)
    threads = torch.get_num_threads()

    def failing(tile, top, left):
        if top > 0:
            raise ValueError("tile failed")
        return tile

    with pytest.raises(ValueError, match="tile failed"):
        apply_tiled_at(failing, frames, TilePlan(48, overlap=16, workers=2))
    assert torch.get_num_threads() == threads


def test_the_pipeline_tiles_each_op_by_its_own_count(damaged_clip):
    # A budget that fits two whole frames for the planner's count, not for an op holding 20x that.
    tiles: dict[str, set[tuple[int, int]]] = {"light": set(), "heavy": set()}

    def recorder(name):
        def record(frames):
            tiles[name].add(tuple(frames.shape[-2:]))
            return frames
        return record

    for name, copies in (("light", None), ("heavy", 20 * WORKING_COPIES)):
        with contextlib.suppress(ValueError):  # registered by an earlier run of this test
            register_op(OpSpec(name=f"tiling_test_{name}", function=recorder(name), module=torch.nn.Identity,
                               tileable=True, working_copies=copies))
    frames = damaged_clip[:2]
    budget = PROCESS_BYTES + 2 * (RESIDENT_COPIES + WORKING_COPIES) * frames[0].numel() * 4
    out = run_pipeline(frames, {"ops": [{"op": "tiling_test_light"}, {"op": "tiling_test_heavy"}]}, fps=24,
                       max_memory=budget).frames
    torch.testing.assert_close(out, frames)
    assert tiles["light"] == {tuple(frames.shape[-2:])}
    assert len(tiles["heavy"]) > 1 and all(h * w < frames.shape[-2] * frames.shape[-1] for h, w in tiles["heavy"])


FILM_RADII = [3, 8, 2, 2, 1]  # stabilise, deflicker, dust, learned_restore, denoise


def test_chunk_shrinks_with_the_budget_down_to_its_floor():
    roomy = chunk_for_budget(window=32, radii=FILM_RADII, channels=3, height=480, width=640, max_memory=12 * 2 ** 30)
    tight = chunk_for_budget(window=32, radii=[1], channels=3, height=3112, width=4096, max_memory=8 * 2 ** 30)
    assert roomy == 32
    assert MIN_CHUNK < tight < 32
    # The frames get half of what the process leaves of the budget, the tiles the other half.
    half = (8 * 2 ** 30 - PROCESS_BYTES) // 2
    assert streamed_bytes(radii=[1], chunk=tight, channels=3, height=3112, width=4096, whole_frames=False) <= half
    assert streamed_bytes(radii=[1], chunk=tight + 1, channels=3, height=3112, width=4096, whole_frames=False) > half
    # Below the floor a call would mostly read context: the run goes over the budget instead.
    assert chunk_for_budget(window=32, radii=FILM_RADII, channels=3, height=3112, width=4096, max_memory=2 ** 30) == MIN_CHUNK
    assert chunk_for_budget(window=2, radii=FILM_RADII, channels=3, height=3112, width=4096, max_memory=2 ** 30) == 2


def test_a_streamed_chain_holds_its_ops_own_context_whatever_the_window():
    # Each op keeps 2 r of its own input, not the window and the chain's summed context each side:
    # the film chain fed 4 frames at a time holds 32 frames carried, and while deflicker runs the
    # chunk it was fed, the source's chunk and its output cut from its call's (4 + 16) (a window
    # with the chain's context held 16 + 32 frames, and their op's output as many again).
    assert streamed_frames(FILM_RADII, 4) == 32 + 3 * 4 + 4 + 16
    assert streamed_frames(FILM_RADII, 5) - streamed_frames(FILM_RADII, 4) == 4
    assert streamed_frames([], 4) == 12
    # deflicker's neighbours as reduced copies: 8 frames ahead carried, not 16, and no context in
    # its output: the running op's largest is stabilise's (its call's output 4 + 2 * 3)
    assert streamed_frames(FILM_RADII, 4, [False, True, False, False, False]) == 24 + 12 + 10
    # and stabilise's as its grey copies: 3 carried, not 6; the running op's largest is dust's
    assert streamed_frames(FILM_RADII, 4, [True, True, False, False, False]) == 21 + 12 + 8
    assert {"stabilise", "deflicker"} <= set(REDUCED_CONTEXTS)
    # Ops that compute their chunk's outputs alone (OUTPUTS_ONLY) hold no output of their context.
    film_outputs_only = [False, False, True, True, True]
    assert {"dust", "learned_restore", "denoise"} <= OUTPUTS_ONLY
    assert streamed_frames(FILM_RADII, 4, [True, True], outputs_only=film_outputs_only) == 21 + 12
    # Spilled ops carry nothing while the others run; the running one reads its own back: with
    # all spilled, the largest of dust's and learned_restore's 4 + 12 + 8, or deflicker's 8 + 12
    # when those compute their outputs alone.
    assert streamed_frames(FILM_RADII, 4, [True, True], [True] * 5) == 4 + 12 + 8
    assert streamed_frames(FILM_RADII, 4, [True, True], [True] * 5, film_outputs_only) == 8 + 12
    assert streamed_frames(FILM_RADII, 4, [True, True], [False, True]) == 21 - 8 + 12 + 8
    # The most of what each op holds while it runs.
    assert streamed_frames(FILM_RADII, 4, [True, True], [True] * 5, film_outputs_only) == max(
        held_while_running(FILM_RADII, 4, index, [True, True], [True] * 5, film_outputs_only) for index in range(5))


def test_a_long_4k_film_shot_plans_its_frames_tiles_and_the_process_within_its_budget():
    # Each op's tiles get what the process and the frames held while it runs leave of the budget
    # (before: the frames were planned from half the budget without the process, and the tiles
    # from at least a quarter of it, with 20 frames held: 0.5 + 2.85 + 0.86 GiB while dust ran).
    from restoration.bench.scans import FILM_CHAIN
    from restoration.pipeline import runner
    from restoration.pipeline.spec import load_spec

    class Source:
        channels, height, width = 3, 3112, 4096

    budget = runner._Budget(4 * 2 ** 30, workers=2)
    steps = load_spec({"ops": FILM_CHAIN}).steps
    chain = runner._Chain.of(steps)
    stream = budget.stream(32, chain, Source, whole_frames=False)
    assert stream == StreamPlan(MIN_CHUNK, (True,) * 5)
    frame = 3 * 3112 * 4096 * 4
    for index, step in enumerate(steps):
        tiles = budget.tiles(chain, stream, index, 16, Source, step)
        window = MIN_CHUNK + (0 if chain.reduced[index] else 2 * chain.radii[index])
        copies = step.op.working_copies or WORKING_COPIES
        tile_bytes = tiles.workers * copies * window * 3 * 4 * (tiles.tile + 2 * tiles.overlap) ** 2
        held = held_while_running(chain.radii, MIN_CHUNK, index, chain.reduced, stream.spilled, chain.outputs_only)
        assert PROCESS_BYTES + held * frame + tile_bytes <= 4 * 2 ** 30, step.op.name
        assert tile_bytes > 4 * 2 ** 30 // 8, step.op.name  # the tiles keep a fair share


def test_a_long_4k_shot_spills_its_carried_frames_when_they_do_not_fit():
    film = dict(window=32, radii=FILM_RADII, channels=3, height=3112, width=4096,
                reduced=[True, True, False, False, False], outputs_only=[False, False, True, True, True])
    # 33 frames of 4K (4.7 GiB) against half of what the process leaves of 4 GiB: every op's
    # carried frames spill, and the rest (20 frames, 2.8 GiB) is still more: the floor's chunk.
    tight = stream_plan(max_memory=4 * 2 ** 30, **film)
    assert tight == StreamPlan(MIN_CHUNK, (True,) * 5)
    # Half of 16 GiB holds the 33 frames: nothing spills.
    assert stream_plan(max_memory=16 * 2 ** 30, **film).spilled == (False,) * 5
    # In between, the ops that carry the most spill first, as few as fit: deflicker's 8 (read
    # back while it runs: still 33 frames held), then dust's 4 too (9 carried, deflicker's 8 and
    # 3 chunks: a chunk of 5 fits 32).
    frame = 3 * 3112 * 4096 * 4
    assert stream_plan(max_memory=2 * 33 * frame + PROCESS_BYTES, **film) == StreamPlan(MIN_CHUNK, (False,) * 5)
    assert stream_plan(max_memory=2 * 32 * frame + PROCESS_BYTES, **film) == StreamPlan(
        5, (False, True, True, False, False))
    # Small frames fit unspilled at the whole window.
    assert stream_plan(max_memory=4 * 2 ** 30, **dict(film, height=480, width=640)) == StreamPlan(32, (False,) * 5)


def test_pointwise_function_is_exact_through_the_feathered_blend():
    frames = torch.rand(3, 2, 150, 211, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = apply_tiled(lambda tile: tile * 0.5 + 0.25, frames, TilePlan(48, overlap=16))
    torch.testing.assert_close(out, frames * 0.5 + 0.25)


def test_local_filter_within_the_halo_is_exact():
    # A 5x5 box reaches 2 px: the discarded half of a 16 px overlap (8 px) hides the tile edges.
    frames = torch.rand(2, 1, 130, 190, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    tiled = apply_tiled(lambda tile: box_filter(tile, 2), frames, TilePlan(40, overlap=16))
    torch.testing.assert_close(tiled, box_filter(frames, 2))


def test_a_widened_overlap_reads_tiles_of_the_same_size():
    plan = TilePlan(512, overlap=32)
    wide = plan.widened(70)
    # The blend uses a tile's result up to half its 32 px band past the core: 70 px beyond that.
    assert wide.overlap == 96 and wide.overlap - 32 // 2 >= 70 and wide.overlap % 16 == 0
    assert wide.tile + 2 * wide.overlap == plan.tile + 2 * plan.overlap
    assert plan.widened(10) == plan


def test_a_widened_plan_hides_a_filter_of_its_reach():
    # The blend uses each tile 16 px past its core: the rest of the widened overlap covers the reach.
    frames = torch.rand(2, 1, 200, 260, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    plan = TilePlan(48, overlap=16).widened(20)
    tiled = apply_tiled(lambda tile: box_filter(tile, 20), frames, plan)
    torch.testing.assert_close(tiled, box_filter(frames, 20))


def test_flow_region_is_the_enlarged_flow_cropped():
    coarse = torch.randn(2, 2, 24, 33, generator=torch.Generator().manual_seed(4))
    whole = resize_flow(coarse, (200, 270))
    region = flow_region(coarse, (200, 270), 48, 96, 80, 112)
    # Float rounding of the sampling positions: 1e-4 px on flows of tens of pixels.
    torch.testing.assert_close(region, whole[..., 48:128, 96:208], atol=2e-4, rtol=1e-5)


def test_tile_medians_equal_the_whole_frames_sampled_median():
    frames = torch.rand(3, 1, 150, 211, generator=torch.Generator().manual_seed(7))
    medians = tile_medians(lambda tile, top, left: box_filter(tile, 1), frames, TilePlan(48, overlap=16))
    # Each tile's core is counted once: the overlaps' pixels are not counted twice.
    torch.testing.assert_close(medians, sampled_median(box_filter(frames, 1)), rtol=0, atol=0)


def test_a_filter_reaching_past_the_halo_shows_the_seam():
    # The check above can fail: a filter wider than the halo does differ near the seams.
    frames = torch.rand(1, 1, 128, 128, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    tiled = apply_tiled(lambda tile: box_filter(tile, 12), frames, TilePlan(32, overlap=8))
    assert (tiled - box_filter(frames, 12)).abs().max() > 1e-3


def _damaged_pan(frames: int, size: tuple[int, int]) -> torch.Tensor:
    from restoration.degrade import clean_sources, degrade, synthetic_clip

    image = dict(clean_sources())["camera"]
    clip = synthetic_clip(image, frames=frames, size=size, seed=1, motion="pan")
    return degrade(clip, seed=5, strength="medium").damaged


@pytest.fixture(scope="module")
def damaged_clip() -> torch.Tensor:
    return _damaged_pan(6, (128, 192))


# Every op of the film and clean presets, and the colour ops, in tiles: no seam (on frames this
# small the temporal ops' widened overlaps make each tile the whole frame; scan_clip below has several).
@pytest.mark.parametrize(("op", "params"), [
    ("deblock", {"strength": 1.5}),
    ("stabilise", {"radius": 3}),
    ("deflicker", {"radius": 8}),
    ("dust", {}),
    ("learned_restore", {}),
    ("denoise", {"radius": 1, "strength": 0.5}),
    ("scratch", {}),
    ("scratch", {"temporal": True}),
    ("levels", {"gamma": 1.3}),
    ("white_balance", {}),
])
def test_tiled_op_matches_untiled(damaged_clip, op, params):
    spec = {"ops": [{"op": op, "params": params}]}
    whole = run_pipeline(damaged_clip, spec, fps=24, tile=0).frames
    tiled = run_pipeline(damaged_clip, spec, fps=24, tile=64).frames
    assert (tiled - whole).abs().max() <= SEAM_TOLERANCE


@pytest.mark.parametrize("ops", [
    # The film preset's chain as a shot gets it.
    [{"op": "stabilise", "params": {"radius": 3}}, {"op": "deflicker", "params": {"radius": 8}},
     {"op": "dust"}, {"op": "learned_restore"}, {"op": "denoise", "params": {"radius": 1}}],
    # Tileable ops only: these do run in tiles, one after another.
    [{"op": "deblock"}, {"op": "stabilise", "params": {"radius": 3}}, {"op": "deflicker"}, {"op": "saturation",
                                                                                           "params": {"amount": 1.2}}],
])
def test_chain_tiled_matches_untiled(damaged_clip, ops):
    spec = {"ops": ops}
    whole = run_pipeline(damaged_clip, spec, fps=24, tile=0).frames
    tiled = run_pipeline(damaged_clip, spec, fps=24, tile=64).frames
    assert (tiled - whole).abs().max() <= SEAM_TOLERANCE


@pytest.fixture(scope="module")
def scan_clip() -> torch.Tensor:
    # Large enough for the temporal ops' widened overlaps to leave several tiles a frame, and
    # for the flows to be estimated on a reduced level and enlarged per tile (ops.flow.TileFlows).
    return _damaged_pan(5, (256, 352))


# The ops whose per-frame statistics and flows are measured on the whole frames, applied per tile.
@pytest.mark.parametrize(("op", "params"), [
    ("dust", {}),
    ("denoise", {}),
    ("denoise", {"radius": 1, "strength": 0.5}),
    ("learned_restore", {}),
    ("learned_restore", {"unconfirmed_limit": 0.5}),
    ("white_balance", {"mode": "white_patch"}),
])
def test_temporal_op_in_tiles_matches_whole_frames(scan_clip, op, params):
    spec = {"ops": [{"op": op, "params": params}]}
    whole = run_pipeline(scan_clip, spec, fps=24, tile=0).frames
    tiled = run_pipeline(scan_clip, spec, fps=24, tile=SCAN_TILE).frames
    assert (tiled - whole).abs().max() <= SEAM_TOLERANCE


@pytest.mark.parametrize("op", ["dust", "denoise"])
def test_statistics_measured_per_tile_would_show(scan_clip, op):
    # The check above can fail: each tile measuring its own grain level and flows differs.
    from restoration.op_registry import get_op

    function = get_op(op).function
    per_tile = apply_tiled(lambda tile: function(tile), scan_clip, TilePlan(SCAN_TILE))
    assert (per_tile - function(scan_clip)).abs().max() > 10 * SEAM_TOLERANCE


@pytest.mark.parametrize("ops", [
    # The classical ops (the clean preset's).
    [{"op": "denoise"}, {"op": "dust"}, {"op": "scratch"}, {"op": "deflicker"}],
    # The film preset's chain (stabilise shifts a tile's pixels exactly as the whole frame's: the
    # net's blotch and likeness tests downstream grew any rounding there into code values).
    [{"op": "stabilise", "params": {"radius": 3}}, {"op": "deflicker", "params": {"radius": 8}}, {"op": "dust"},
     {"op": "learned_restore"}, {"op": "denoise", "params": {"radius": 1, "strength": 0.5}}],
])
def test_chain_of_temporal_ops_in_tiles_matches_whole_frames(scan_clip, ops):
    spec = {"ops": ops}
    whole = run_pipeline(scan_clip, spec, fps=24, tile=0).frames
    tiled = run_pipeline(scan_clip, spec, fps=24, tile=SCAN_TILE).frames
    assert (tiled - whole).abs().max() <= SEAM_TOLERANCE


def test_only_tileable_ops_run_in_tiles():
    shapes: list[tuple[int, int]] = []

    def record(frames):
        shapes.append(tuple(frames.shape[-2:]))
        return frames * 0.5

    frames = torch.rand(2, 1, 128, 192, generator=torch.Generator().manual_seed(6))
    whole_op = OpSpec(name="record", function=record, module=torch.nn.Identity)
    run_op_tiled(whole_op, frames, {}, TilePlan(64))
    assert shapes == [(128, 192)]
    shapes.clear()
    run_op_tiled(dataclasses.replace(whole_op, tileable=True), frames, {}, TilePlan(64))
    assert len(shapes) > 1 and all(h < 128 or w < 192 for h, w in shapes)


def test_tileable_declarations():
    # The shared-estimate forms exist for tileable ops only; only the ops that change the frames'
    # size (and the ffmpeg filter, which sees whole frames) run on whole frames.
    from restoration.op_registry import list_ops

    ops = {op.name: op for op in list_ops()}  # other tests register ops of their own
    assert all(ops[name].tileable for name in SHARED_ESTIMATES)
    assert all(ops[name].tileable for name in ("deblock", "stabilise", "deflicker", "dust", "denoise", "learned_restore",
                                               "scratch", "white_balance", "levels", "lift_gamma_gain", "saturation"))
    assert not any(ops[name].tileable for name in ("upscale", "learned_upscale", "ffmpeg"))


def test_chunk_holding_whole_frames_is_shorter():
    sizes = {"channels": 3, "height": 1556, "width": 2048, "max_memory": 16 * 2 ** 30}
    tiled = chunk_for_budget(window=32, radii=[1], **sizes)
    whole = chunk_for_budget(window=32, radii=[1], whole_frames=True, **sizes)
    assert MIN_CHUNK < whole < tiled
    assert streamed_bytes(radii=[1], chunk=whole, whole_frames=True,
                          **{k: v for k, v in sizes.items() if k != "max_memory"}) <= sizes["max_memory"]
    # Never below the floor, even when that overruns the budget.
    assert chunk_for_budget(window=32, radii=[3], whole_frames=True, channels=3, height=3112, width=4096,
                            max_memory=2 ** 30) == MIN_CHUNK


def test_too_small_a_budget_is_reported_and_the_run_goes_on(damaged_clip, caplog):
    spec = {"ops": [{"op": "upscale"}]}
    with caplog.at_level(logging.WARNING, logger="restoration.pipeline.runner"):
        tight = run_pipeline(damaged_clip, spec, fps=24, max_memory=2 ** 20).frames
    assert "too small" in caplog.text and "cannot be tiled" in caplog.text
    torch.testing.assert_close(tight, run_pipeline(damaged_clip, spec, fps=24, tile=0).frames)


def test_scratch_detected_whole_is_filled_per_tile_across_a_seam(damaged_clip):
    from restoration.ops.scratch import signed_scratches

    columns = torch.nonzero(signed_scratches(damaged_clip).abs().amax(dim=(0, 1, 2))).flatten()
    # 64 px tiles over 192 columns read 32..160 for the middle one: the line lies in a cross-fade band.
    assert len(columns) and bool(((columns >= 32) & (columns < 64)).any())
    spec = {"ops": [{"op": "scratch"}]}
    whole = run_pipeline(damaged_clip, spec, fps=24, tile=0).frames
    tiled = run_pipeline(damaged_clip, spec, fps=24, tile=64).frames
    assert (whole - damaged_clip).abs().max() > 0.1  # the line was repaired
    assert (tiled - whole).abs().max() <= SEAM_TOLERANCE
