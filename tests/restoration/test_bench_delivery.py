"""The delivery part of the engine benchmark: its row for a tiny synthetic reel is consistent."""

import itertools

import pytest
import torch

from restoration.analysis.shot_reels import A_BOMB_CUTS, FOOTAGE, load_shots
from restoration.bench import delivery
from restoration.encode.adaptive import encode_single_crf, shot_qualities
from restoration.encode.codecs import DELIVERY_CODECS, TUNE_FOR_TARGET
from restoration.io import read_frames


def test_a_row_compares_the_adaptive_encode_with_a_single_crf_whose_worst_shot_reaches_the_target(tmp_path):
    source, spans = delivery.synthetic_reel(tmp_path, 4, (96, 128))
    row = delivery.compare_row("synthetic", source, spans, "h264", "ssim:0.95", "ultrafast", tmp_path)
    assert row["shots"] == 4 and len(row["adaptive CRFs"].split()) == 4
    assert row["worst shot adaptive"] >= 0.95 and row["worst shot single"] >= 0.95
    assert row["tuned"] == ("yes" if TUNE_FOR_TARGET else "no")
    # The baseline is the highest single CRF on the shots' grid, tuned as they are: a step up, the
    # worst shot misses.
    above = float(row["single CRF"]) + DELIVERY_CODECS["h264"].crf_step
    encode_single_crf(source, tmp_path / "above.mp4", codec="h264", crf=above, preset="ultrafast",
                      tune_for="ssim" if TUNE_FOR_TARGET else None)
    assert min(shot_qualities(source, tmp_path / "above.mp4", "ssim:0.95", spans)) < 0.95
    assert row["bytes saved %"] == 100.0 * (1 - row["adaptive bytes"] / row["single bytes"])
    assert 1 <= row["encodes a shot"] <= 10 and row["encode fps (wall)"] > 0
    assert row["shots capped at the top CRF"] == sum(float(crf) == 51 for crf in row["adaptive CRFs"].split())
    assert 0 < row["worst shot's bytes, % of single"] < 100


def test_shot_bytes_split_an_encodes_packets_among_its_shots(tmp_path):
    source, spans = delivery.synthetic_reel(tmp_path, 4, (96, 128))
    encoded = tmp_path / "single.mp4"
    size = encode_single_crf(source, encoded, codec="h264", crf=30, preset="ultrafast")
    shares = delivery.shot_bytes(encoded, spans)
    assert len(shares) == 4 and all(share > 0 for share in shares)
    assert sum(shares) < size  # the packets, without the container
    assert min(shares) == shares[0]  # the smooth gradient is the cheapest shot


@pytest.mark.skipif(not FOOTAGE.is_dir(), reason="the shared footage is absent")
def test_the_footage_reel_holds_every_shot_of_the_shared_footage_end_to_end(tmp_path):
    source, spans = delivery._footage_reel(tmp_path, None)
    shots = load_shots(delivery.FOOTAGE_SIZE)
    assert [end - start + 1 for start, end in spans] == [len(clip) for _, clip, _ in shots]
    assert spans[0][0] == 0 and all(later[0] == earlier[1] + 1 for earlier, later in itertools.pairwise(spans))
    # The A-Bomb file's shots come first, cut where its README says.
    assert [start for start, _ in spans[:4]] == list(A_BOMB_CUTS)
    reel = read_frames(source)
    assert reel.shape == (spans[-1][1] + 1, 1, *delivery.FOOTAGE_SIZE)
    first_silent = shots[4][1]
    assert torch.equal((reel[spans[4][0] : spans[4][1] + 1] * 255).round().to(torch.uint8), first_silent)
