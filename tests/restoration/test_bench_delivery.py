"""The delivery part of the engine benchmark: its row for a tiny synthetic reel is consistent."""

from restoration.bench import delivery


def test_a_row_compares_the_adaptive_encode_with_a_single_crf_whose_worst_shot_reaches_the_target(tmp_path):
    source, spans = delivery.synthetic_reel(tmp_path, 4, (96, 128))
    row = delivery.compare_row("synthetic", source, spans, "h264", "ssim:0.95", "ultrafast", tmp_path)
    assert row["shots"] == 4 and len(row["adaptive CRFs"].split()) == 4
    assert row["worst shot adaptive"] >= 0.95 and row["worst shot single"] >= 0.95
    assert float(row["single CRF"]) <= min(float(crf) for crf in row["adaptive CRFs"].split())
    assert row["bytes saved %"] == 100.0 * (1 - row["adaptive bytes"] / row["single bytes"])
    assert 1 <= row["encodes a shot"] <= 7 and row["encode fps (wall)"] > 0
