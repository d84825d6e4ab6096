import math

import pytest
import torch
import torch.nn.functional as F

from restoration.errors import SpecError
from restoration.ops._common import box_filter
from restoration.ops.flow import (
    BRIGHTNESS_CELL,
    EDGE_MARGIN_PX,
    EDGE_RAMP_PX,
    FlowEstimator,
    _lowpass,
    estimate_flow,
    inside,
    resize_flow,
    warp,
)
from tests.restoration.ops.textures import textured_image


def shifted(image: torch.Tensor, dx: float, dy: float) -> torch.Tensor:
    """Content of ``image`` at (x, y) moved to (x + dx, y + dy)."""
    flow = torch.zeros(1, 2, *image.shape[-2:])
    flow[:, 0] = -dx
    flow[:, 1] = -dy
    return warp(image, flow)


def end_point_error(flow: torch.Tensor, expected: torch.Tensor, border: int = 8) -> torch.Tensor:
    diff = (flow - expected)[..., border:-border, border:-border]
    return diff.pow(2).sum(1).sqrt()


def test_warp_with_zero_flow_is_identity():
    image = torch.rand(2, 3, 17, 23)
    # Exact up to float rounding of the normalised sampling grid.
    assert torch.allclose(warp(image, torch.zeros(2, 2, 17, 23)), image, atol=1e-5)


def test_warp_moves_content_by_whole_pixels():
    image = torch.rand(1, 1, 10, 12)
    flow = torch.zeros(1, 2, 10, 12)
    flow[:, 0] = 2  # sample two pixels to the right
    flow[:, 1] = -1  # and one up
    out = warp(image, flow)
    assert torch.allclose(out[..., 1:, :-2], image[..., :-1, 2:], atol=1e-6)


def test_recovers_subpixel_translation_under_noise_and_gain():
    torch.manual_seed(0)
    source = textured_image(96, 128)
    target = shifted(source, 1.4, -0.6)
    # Grain on both frames and a flicker-like gain/offset on the target.
    source_noisy = (source + 0.02 * torch.randn_like(source)).clamp(0, 1)
    target_noisy = (0.8 * target + 0.1 + 0.02 * torch.randn_like(target)).clamp(0, 1)
    flow = estimate_flow(source_noisy, target_noisy)
    expected = torch.tensor([1.4, -0.6]).view(1, 2, 1, 1)
    epe = end_point_error(flow, expected)
    assert epe.median() < 0.1
    assert epe.mean() < 0.2


def test_recovers_smooth_synthetic_flow():
    torch.manual_seed(1)
    h, w = 96, 128
    target = textured_image(h, w, seed=3)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    true_flow = torch.stack((2.0 * torch.sin(2 * math.pi * ys / h) + 1.0, 1.5 * torch.cos(2 * math.pi * xs / w)))[None]
    source = warp(target, true_flow)
    source = (source + 0.01 * torch.randn_like(source)).clamp(0, 1)
    flow = estimate_flow(source, target)
    epe = end_point_error(flow, true_flow)
    assert epe.median() < 0.2
    assert epe.mean() < 0.35
    # The warped target matches the source much better than the unwarped one.
    before = (target - source).abs().mean()
    after = (warp(target, flow) - source).abs().mean()
    assert after < 0.4 * before


def test_large_frames_use_the_downsampled_estimate_and_still_fit():
    source = textured_image(400, 420, seed=5)
    target = shifted(source, 3.0, 2.0)
    flow = estimate_flow(source, target)
    assert flow.shape == (1, 2, 400, 420)
    epe = end_point_error(flow, torch.tensor([3.0, 2.0]).view(1, 2, 1, 1), border=16)
    assert epe.median() < 0.15


def test_batch_rgb_dtype_and_module_match():
    source = textured_image(48, 64).expand(2, 3, 48, 64).to(torch.float64)
    target = shifted(textured_image(48, 64), 1.0, 0.0).expand(2, 3, 48, 64).to(torch.float64)
    flow = estimate_flow(source, target)
    assert flow.dtype == torch.float64 and flow.shape == (2, 2, 48, 64)
    assert torch.allclose(FlowEstimator()(source, target), flow)
    assert warp(target, flow).dtype == torch.float64


def test_bad_shapes_raise():
    with pytest.raises(SpecError):
        estimate_flow(torch.rand(1, 8, 8), torch.rand(1, 8, 8))
    with pytest.raises(SpecError):
        estimate_flow(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9))
    with pytest.raises(SpecError):
        warp(torch.rand(1, 1, 8, 8), torch.zeros(1, 3, 8, 8))


def test_resize_flow_scales_the_vectors_of_each_axis_by_its_size_ratio():
    flow = torch.zeros(1, 2, 8, 10, dtype=torch.float64)
    flow[:, 0], flow[:, 1] = 1.0, 2.0  # 1 px right, 2 px down
    bigger = resize_flow(flow, (16, 30))
    assert bigger.shape == (1, 2, 16, 30)
    assert torch.all(bigger[:, 0] == 3.0) and torch.all(bigger[:, 1] == 4.0)
    smaller = resize_flow(flow, (4, 5))
    assert torch.all(smaller[:, 0] == 0.5) and torch.all(smaller[:, 1] == 1.0)
    assert resize_flow(flow, (8, 10)) is flow


def test_resize_flow_averages_every_vector_a_reduction_covers():
    flow = torch.zeros(1, 2, 8, 8)
    flow[:, 0, ::4, ::4] = 16.0  # one moving pixel in each 4x4 block: bilinear sampling would miss it
    smaller = resize_flow(flow, (2, 2))
    torch.testing.assert_close(smaller[:, 0], torch.full((1, 2, 2), 16.0 / 16 * 2 / 8))  # block mean x size ratio


# ---- chained and shared flows ----------------------------------------------------------------


def _panning_clip(frames: int = 7, seed: int = 5) -> torch.Tensor:
    """A grainy texture panning 1.5 px right and 0.5 px down per frame, (T, 1, 48, 64)."""
    from tests.restoration.ops.textures import grainy

    image = textured_image(48, 64, seed=seed)
    return grainy(torch.cat([shifted(image, 1.5 * t, 0.5 * t) for t in range(frames)]), sigma=0.01)


def _chained_step_by_step(flows, t: int, j: int) -> torch.Tensor:
    """The flow t -> j chained one step after the other (what ChainedFlows made before it kept
    the shorter chains)."""
    direction = 1 if j > t else -1
    flow = flows.forward[t] if direction > 0 else flows.backward[t]
    for s in range(t + direction, j, direction):
        flow = flow + warp(flows.forward[s] if direction > 0 else flows.backward[s], flow)
    return flow


def test_chained_flows_extend_the_shorter_chains_to_the_same_values_in_any_order():
    from restoration.ops.flow import ChainedFlows, consistency

    clip = _panning_clip()
    pairs = [(0, 5), (3, 1), (6, 0), (2, 3), (4, 4), (1, 3), (5, 2)]
    first, second = ChainedFlows(clip), ChainedFlows(clip)
    first.prepare(range(6))
    second.prepare(range(6))
    reference = torch.cat([torch.zeros(1, 2, 48, 64) if t == j else _chained_step_by_step(first, t, j) for t, j in pairs])
    assert torch.equal(first.between_pairs(pairs), reference)
    assert torch.equal(torch.cat([second.between(t, j) for t, j in reversed(pairs)]), reference.flip(0))
    checked = first.confidence_pairs(pairs[:4])
    assert torch.equal(checked, consistency(reference[:4], torch.cat([_chained_step_by_step(first, j, t) for t, j in pairs[:4]])))
    assert torch.equal(first.confidence(0, 0), torch.ones(1, 1, 48, 64))


def test_a_pairs_confidence_is_computed_once(monkeypatch):
    import restoration.ops.flow as flow

    clip = _panning_clip(frames=4)
    flows = flow.ChainedFlows(clip)
    flows.prepare(range(3))
    calls = []
    real = flow._round_trip
    monkeypatch.setattr(flow, "_round_trip", lambda *args: calls.append(args[0].shape[0]) or real(*args))
    first = flows.confidence_pairs([(1, 0), (1, 2)])
    again = flows.confidence_pairs([(1, 2), (2, 1), (1, 0)])
    assert calls == [2, 1]  # only (2, 1) was new
    assert torch.equal(again[2:], first[:1]) and torch.equal(again[:1], first[1:])


@pytest.mark.parametrize(("size", "checked"), [((48, 64), (48, 64)), ((368, 480), (368, 480)), ((480, 854), (240, 427)),
                                               ((1080, 1920), (270, 480)), ((1556, 2048), (389, 512)),
                                               ((3112, 4096), (389, 512))])
def test_the_check_runs_at_a_reduced_size_on_large_frames_only(size, checked):
    from restoration.ops.flow import check_size

    assert check_size(*size) == checked


def test_a_check_at_a_reduced_size_finds_what_the_full_size_check_finds():
    # A square crossing a panning texture: the round trip misses where the square uncovers the
    # background. Checked at 400 x 500 and enlarged, the confidence of an 800 x 1000 clip is the
    # full-size check's within a small share, the occlusion found at the same place.
    from restoration.ops.flow import ChainedFlows, check_size, consistency

    height, width = 800, 1000
    assert check_size(height, width) == (400, 500)
    background = textured_image(height + 40, width + 40, seed=3)
    frames = []
    for t in range(3):
        frame = background[..., 2 * t:2 * t + height, 2 * t:2 * t + width].clone()
        frame[..., 300:500, 300 + 12 * t:500 + 12 * t] = textured_image(200, 200, seed=4)
        frames.append(frame)
    clip = torch.cat(frames)
    flows = ChainedFlows(clip)
    flows.prepare(range(2))
    pairs = [(1, 0), (1, 2), (0, 2)]
    reduced = flows.confidence_pairs(pairs)
    full = consistency(flows.between_pairs(pairs), flows.between_pairs([(j, t) for t, j in pairs]))
    assert reduced.shape == full.shape == (3, 1, height, width)
    assert float((reduced - full).abs().mean()) < 0.01
    occluded, found = full < 0.5, reduced < 0.5
    assert int(occluded.sum()) > 1000  # the square's trailing edge
    assert float((occluded & found).sum() / (occluded | found).sum()) > 0.8


def test_shared_flows_serve_later_ops_from_the_first_estimate(monkeypatch):
    import restoration.ops.flow as flow

    clip = _panning_clip()
    estimates = []
    real = flow.coarse_flows_between
    monkeypatch.setattr(flow, "coarse_flows_between", lambda *args, **kw: estimates.append(len(args[1])) or real(*args, **kw))
    shared = flow.SharedFlows()
    own = flow.chained_flows(clip, shared)
    own.prepare(range(6))
    assert estimates == [12]  # 6 steps, both ways, one batch
    # A later op gets frames 2..6 of the window (context dropped), brighter (a deflicker in between):
    # the same flows, numbered from its first frame, and no new estimate.
    shared.origin = 2
    later = flow.chained_flows(clip[2:] * 0.8 + 0.1, shared)
    later.prepare(range(4))
    assert estimates == [12]
    assert torch.equal(later.between_pairs([(0, 3), (2, 1)]), own.between_pairs([(2, 5), (4, 3)]))
    assert torch.equal(later.confidence(1, 0), own.confidence(3, 2))
    later.forget_before(4)  # an op freeing its chained flows leaves the shared estimates in place
    assert 2 in own.forward and (3, 2) in own._confidence
    # Other options, or a moved picture, are estimated again.
    flow.chained_flows(clip[2:], shared, smooth=12).prepare(range(1))
    shared.forget()
    flow.chained_flows(clip[2:], shared).prepare(range(1))
    assert estimates == [12, 2, 2]
    # Without a SharedFlows an op estimates its own, as before.
    alone = flow.chained_flows(clip[2:])
    alone.prepare(range(4))
    alone.forget_before(2)
    assert sorted(alone.forward) == [2, 3]


def test_flows_between_frames_equal_estimate_flow_pair_by_pair():
    from restoration.ops.flow import flows_between

    clip = _panning_clip(frames=4)
    pairs = [(0, 1), (1, 0), (2, 3), (1, 2), (3, 2)]
    batch = flows_between(clip, pairs, boundaries=4, smooth=12)
    for k, (i, j) in enumerate(pairs):
        assert torch.equal(batch[k:k + 1], estimate_flow(clip[i:i + 1], clip[j:j + 1], boundaries=4, smooth=12))


def test_inside_judges_a_tile_at_the_frames_edge_as_the_whole_frame():
    # Samples within rounding of the right and bottom edges' margin: the tile's and the whole
    # frame's pixel positions differ, their decisions must not.
    generator = torch.Generator().manual_seed(0)
    steps = torch.randint(-4, 5, (1, 2, 96, 2048), generator=generator) * 3e-5
    flow = (EDGE_MARGIN_PX + steps).float()
    whole = inside(flow)
    top, left = 32, 2048 - 208  # a tile on the 16 px grid, reaching the frame's far edges
    # (the tile's first row and column sample past its own near edges: the overlap's business)
    assert torch.equal(inside(flow[..., top:, left:])[..., 1:, 1:], whole[..., top + 1:, left + 1:])
    assert (whole[..., -1] < 1).any() and (whole[..., -1] == 1).any()  # both sides of the margin were sampled


def test_inside_keeps_a_still_edge_inside_whatever_the_sign_of_its_rounding():
    still = torch.full((1, 2, 48, 64), 1e-9)
    still[..., ::2, :] = -1e-9  # a zero flow as two estimates may round it
    assert (inside(still) == 1).all()
    assert (inside(still + EDGE_MARGIN_PX + EDGE_RAMP_PX)[..., -1] == 0).all()  # past the margin and its ramp: outside


def test_inside_falls_off_the_edge_gradually():
    # A rounding that moves the flow across the margin moves the share by as little: a hard edge
    # test turned a neighbour's confidence from 1 to 0 where tiled and whole frames were 1e-6 apart.
    flow = torch.zeros(1, 2, 8, 8)
    shares = [float(inside(flow + EDGE_MARGIN_PX + past)[0, 0, 0, -1]) for past in (0.0, 1e-4, EDGE_RAMP_PX / 2)]
    assert shares[0] == 1.0
    assert 1.0 - 1e-3 < shares[1] < 1.0
    assert shares[2] == pytest.approx(0.5)


def test_brightness_cells_of_a_tile_on_the_cell_grid_are_the_whole_frames():
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(2, 3, 200, 264, generator=generator)
    top, left, height, width = 32, 48, 133, 170  # on the 16 px grid; neither side a multiple of 16
    tile = _lowpass(images[..., top:top + height, left:left + width], BRIGHTNESS_CELL)
    whole = _lowpass(images, BRIGHTNESS_CELL)[..., top:top + height, left:left + width]
    # away from the tile's edges (its border cells are smoothed with padding, its last is partial)
    margin = 3 * BRIGHTNESS_CELL
    interior = (..., slice(margin, height - margin), slice(margin, width - margin))
    torch.testing.assert_close(tile[interior], whole[interior], rtol=0, atol=1e-6)


@pytest.mark.parametrize(("height", "width"), [(200, 264), (133, 170), (32, 48)])
def test_brightness_cells_enlarge_as_bilinear_interpolation_does(height, width):
    # The cells' enlargement as matrix products gives F.interpolate's bilinear values (centres at
    # cell * i + (cell - 1) / 2, edges clamped); added in place, the same as adding the map.
    from restoration.ops.flow import _add_lowpass

    generator = torch.Generator().manual_seed(3)
    images = torch.rand(2, 3, height, width, generator=generator)
    pooled = box_filter(F.avg_pool2d(images, BRIGHTNESS_CELL, ceil_mode=True), 1)
    expected = torch.ops.aten.upsample_bilinear2d(pooled, [height, width], False, float(BRIGHTNESS_CELL),
                                                  float(BRIGHTNESS_CELL))
    torch.testing.assert_close(_lowpass(images, BRIGHTNESS_CELL), expected, rtol=0, atol=1e-6)
    target = torch.rand(2, 3, height, width, generator=generator)
    added = target.clone()
    _add_lowpass(added, images, BRIGHTNESS_CELL)
    torch.testing.assert_close(added, target + expected, rtol=0, atol=2e-6)


@pytest.mark.parametrize(("centres", "broadcast"), [
    ([1, 2, 3, 1, 2, 3], True), ([2, 2], True), ([0, 1, 2, 3], True), ([3, 1, 3, 1], False), ([1, 2, 1], False),
])
def test_brightness_matched_against_repeated_centres_as_against_their_copies(centres, broadcast):
    # A run of centres repeated (dust's and denoise's batches) is a view broadcast over the
    # repeats, not copied per neighbour: the same offsets.
    from restoration.ops.flow import _centre_frames, _clipped_differences

    generator = torch.Generator().manual_seed(6)
    frames = torch.rand(5, 3, 40, 56, generator=generator)
    aligned = torch.rand(len(centres), 3, 40, 56, generator=generator)
    limit = torch.linspace(0.02, 0.1, len(centres))
    copies = frames[torch.tensor(centres)]
    centre = _centre_frames(frames, centres)
    assert (centre.untyped_storage().data_ptr() == frames.untyped_storage().data_ptr()) == broadcast
    assert torch.equal(centre.repeat(len(centres) // len(centre), 1, 1, 1), copies)
    assert torch.equal(_clipped_differences(centre, aligned, limit), _clipped_differences(copies, aligned, limit))


def test_a_table_checked_at_a_reduced_size_frees_its_frames_without_the_garbage_collector():
    # The check's table must not point back at the table that owns it: the cycle kept a 4K
    # window's frames (600 MB) alive from one op to the next, until the collector ran.
    import gc
    import weakref

    from restoration.ops.flow import ChainedFlows

    frames = torch.zeros(2, 1, 800, 1000)
    alive = weakref.ref(frames)
    gc.disable()
    try:
        table = ChainedFlows(frames)
        assert table._check is not None
        del frames, table
        assert alive() is None
    finally:
        gc.enable()
