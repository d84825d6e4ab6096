"""The scans part of the engine benchmark: FFV1 and 16-bit TIFF sequences in and out, peaks per phase,
tiles against whole frames."""

from restoration.bench import scans


def test_quick_scans_bench_runs_both_containers_and_measures_each_phase():
    rows, seams, phases, profile = scans.run(quick=True).values()
    # Tiles give each chain its whole frames' output within half a code value. Before the
    # brightness cells and edge samples were made offset-free (16a1c90): film 1.71 (112 values
    # over 0.5), classical 0.94 (1,148 values) at 264x200 in 96 px tiles. At this size, before the
    # flow's boundary choice and edge test were made gradual (a rounding flipped them), the film
    # chain still differed by 6.67 codes at 104 values (float32 networks), 3.74 at 21 (bfloat16).
    assert [row["chain"] for row in seams if row["networks"] == "float32"] == list(scans.CHAINS)
    for row in seams:
        assert row["values"] == scans.FRAMES * 3 * 256 * 340
        # above 0: the tiles ran (their seams round differently from whole frames)
        assert 0 < row["max difference (8-bit codes)"] < 0.5 and row["values over 0.5"] == 0
    assert not [row for row in rows if "error" in row]
    tiled = [(row["chain"], row["in and out"]) for row in rows if row["run"].startswith("tiles")]
    assert sorted(tiled) == sorted((chain, container) for chain in scans.CHAINS for container in scans.CONTAINERS)
    assert all(row["peak RSS GiB"] > 0.1 and row["s/frame (CPU)"] > 0 for row in rows)
    for chain, steps in scans.CHAINS.items():
        for container in scans.CONTAINERS:
            names = [row["phase"] for row in phases if row["chain"] == chain and row["in and out"] == container]
            # every op and the write, each with what lay before it, in the order they ran
            expected = [name for step in steps for name in (f"before {step['op']}", step["op"])]
            assert names == [*expected, "before write", "write", "after the last write"]
            run = next(row for row in rows if row["chain"] == chain and row["in and out"] == container
                       and row["run"].startswith("tiles"))
            assert run["peak RSS GiB"] == max(row["peak GiB"] for row in phases
                                              if row["chain"] == chain and row["in and out"] == container)
    assert profile

