"""The moving-objects bench's quick run, and its no-reference ghosting figure."""

import torch

from restoration.bench import moving


def test_quick_moving_bench_scores_the_film_preset_against_the_input_and_the_ffmpeg_chains():
    tables = moving.run(quick=True)
    damaged = next(rows for title, rows in tables.items() if "moving objects" in title)
    assert damaged[-1]["clip"] == "mean"
    for row in damaged[:-1]:
        assert "error" not in row
        assert 10 < row["input"] < 60 and 10 < row["film"] < 60
        assert abs(row["film - input"] - (row["film"] - row["input"])) < 1e-9
        assert row["film / nlmeans speed"] > 0
        assert abs(row["film / nlmeans speed"] - row["film fps (CPU)"] / row["nlmeans fps (CPU)"]) < 1e-6
    clean = next(rows for title, rows in tables.items() if "do no harm" in title)
    assert clean[-1]["clip"] == "min"
    assert clean[-1]["film PSNR vs input"] == min(row["film PSNR vs input"] for row in clean[:-1])


def test_ghosting_is_about_one_for_a_uniform_change_and_large_for_a_blend_of_moving_things():
    from tests.restoration.ops.test_ghosts import moving_square

    clip, _ = moving_square()
    uniform = moving.ghosting(clip, (clip + 0.01).clamp(0, 1))
    assert 0.5 < uniform["ghosting"] < 2.0
    assert 0 < uniform["moving share"] < 0.5
    blended = clip.clone()
    blended[1:-1] = (clip[:-2] + clip[1:-1] + clip[2:]) / 3  # a temporal average that ignores motion
    assert moving.ghosting(clip, blended)["ghosting"] > 3 * uniform["ghosting"]
    assert torch.equal(clip, moving_square()[0])  # the input is left as it was


def test_densest_region_finds_the_window_where_the_mask_is_densest():
    generator = torch.Generator().manual_seed(19)
    mask = torch.rand(60, 80, generator=generator) < 0.1  # sparse scattered motion everywhere
    mask[30:45, 50:70] = True  # one dense patch, away from the top left
    rows, columns = moving.densest_region(mask, (15, 20))
    assert (rows, columns) == (slice(30, 45), slice(50, 70))
    rows, columns = moving.densest_region(mask, (100, 20))  # taller than the mask: clipped to it
    assert (rows.start, rows.stop) == (0, 60) and columns.stop - columns.start == 20


def test_moving_regions_lead_the_crop_to_the_moving_square_and_leave_the_border_out():
    from tests.restoration.ops.test_ghosts import moving_square

    clip, square = moving_square()
    moving_mask = moving.moving_regions(clip)
    assert moving_mask.shape == square.shape and moving_mask.dtype == torch.bool
    assert not moving_mask[..., : moving.BORDER, :].any() and not moving_mask[..., -moving.BORDER :].any()
    middle = clip.shape[0] // 2
    rows, columns = moving.densest_region(moving_mask[middle, 0], (12, 12))
    # where the square was or is around the middle frame (covered, uncovered): a band of the picture
    swept = square[middle - 2 : middle + 3].amax(0)[0]
    assert swept[rows, columns].mean() > 0.5  # a window anywhere: 0.09 on average
    assert moving_mask[middle, 0, rows, columns].float().mean() > 3 * moving_mask[middle].float().mean()
    brighter = (clip + 0.01).clamp(0, 1)
    assert moving.ghosting(clip, brighter, moving_mask) == moving.ghosting(clip, brighter)
