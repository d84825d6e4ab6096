"""The 480p speed part of the engine benchmark runs both methods at both shapes."""

from restoration.bench import speed


def test_quick_speed_bench_times_both_methods_at_both_shapes():
    (rows,) = speed.run(quick=True).values()
    assert [(row["method"], row["size"]) for row in rows] == [
        ("learned_restore", "64x48 grey"), ("film preset", "64x48 grey"),
        ("learned_restore", "85x48 grey"), ("film preset", "85x48 grey"),
    ]
    assert all(row["fps (wall, median)"] > 0 and row["fps (CPU, median)"] > 0 for row in rows)
