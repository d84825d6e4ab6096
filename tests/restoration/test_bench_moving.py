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
