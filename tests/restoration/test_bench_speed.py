"""The 480p speed part of the engine benchmark runs every method at both shapes, the nlmeans chain
as the yardstick."""

from restoration.bench import speed


def test_quick_speed_bench_times_every_method_at_both_shapes_against_nlmeans():
    (rows,) = speed.run(quick=True).values()
    assert [(row["method"], row["size"]) for row in rows] == [
        ("learned_restore", "64x48 grey"), ("film preset", "64x48 grey"), ("ffmpeg nlmeans chain", "64x48 grey"),
        ("learned_restore", "85x48 grey"), ("film preset", "85x48 grey"), ("ffmpeg nlmeans chain", "85x48 grey"),
    ]
    assert all(row["fps (wall, median)"] > 0 and row["fps (CPU, median)"] > 0 for row in rows)
    nlmeans = [row for row in rows if row["method"] == "ffmpeg nlmeans chain"]
    assert [row["CPU speed / nlmeans chain"] for row in nlmeans] == [1.0, 1.0]
    for row in rows:
        yardstick = next(n for n in nlmeans if n["size"] == row["size"])
        assert row["CPU speed / nlmeans chain"] == row["fps (CPU, median)"] / yardstick["fps (CPU, median)"]
