"""The interpolation benchmark's quick run: every method scored, motion compensation ahead."""

from restoration.bench import interp


def test_quick_interpolation_bench_ranks_motion_compensation_above_repeat_and_blend():
    tables = interp.run(quick=True)
    synthetic = next(rows for title, rows in tables.items() if "held-out photographs" in title)
    mean = synthetic[-1]
    assert mean["clip"] == "mean"
    assert mean["made frames"] == sum(row["made frames"] for row in synthetic[:-1]) > 0
    for method in interp.METHODS:
        assert 10 < mean[f"PSNR {method}"] < 60
        assert 0 < mean[f"SSIM {method}"] <= 1
    # a moving cut-out over camera motion: repeating a frame is worst, a cross-fade next
    assert mean["PSNR nearest"] < mean["PSNR blend"] < mean["PSNR classical"]
    assert mean["ms/frame classical"] > 0
