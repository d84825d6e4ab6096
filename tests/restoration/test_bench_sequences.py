"""The image-sequence part of the engine benchmark writes and reads every format at its depth."""

import pytest

from restoration.bench import sequences


def test_quick_sequences_bench_times_every_format():
    (rows,) = sequences.run(quick=True).values()
    assert [row["format"] for row in rows] == [case[0] for case in sequences.CASES]
    assert all(row["write ms/frame"] > 0 and row["read ms/frame"] > 0 and row["MB/frame"] > 0 for row in rows)
    # 64x48 RGB at 10 bits packs into 4 bytes a pixel after the 2048-byte header, 16 bits into 6.
    assert rows[0]["MB/frame"] * 1e6 == pytest.approx(2048 + 64 * 48 * 4)
    assert rows[2]["MB/frame"] * 1e6 == pytest.approx(2048 + 64 * 48 * 6)
