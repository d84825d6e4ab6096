import pytest
import torch
import torch.nn.functional as F

from restoration.analysis import detect_shots
from restoration.analysis.shots import ShotDetector

SILENT_CLIPS = [
    "the_great_train_robbery.mkv",
    "within_our_gates.mkv",
    "a_trip_down_market_street_before_the_fire.mkv",
    "san_francisco_earthquake_and_fire.mkv",
]


def test_reel_of_synthetic_shots_has_exact_cuts(make_shot):
    lengths = [20, 9, 31, 15]
    shots = [make_shot(seed, n, pan=(seed % 3, 1)) for seed, n in enumerate(lengths)]
    reel = torch.cat(shots)
    expected = [0, 20, 29, 60]
    assert detect_shots(reel) == expected


def test_chunked_detection_equals_whole(make_shot):
    reel = torch.cat([make_shot(1, 25), make_shot(2, 30), make_shot(3, 12)])
    whole = detect_shots(reel)
    assert whole == [0, 25, 55]
    assert detect_shots(reel.split(7)) == whole
    assert detect_shots(iter(reel)) == whole  # single (C, H, W) frames
    assert detect_shots((i, chunk) for i, chunk in enumerate(reel.split(5))) == whole


def test_flicker_flash_and_blotch_frames_are_not_cuts(make_shot):
    shot = make_shot(5, 40)
    generator = torch.Generator().manual_seed(0)
    gains = 0.6 + 0.8 * torch.rand(40, generator=generator)  # strong flicker
    offsets = 0.15 * (torch.rand(40, generator=generator) - 0.5)
    damaged = (shot * gains.view(-1, 1, 1, 1) + offsets.view(-1, 1, 1, 1)).clamp(0, 1)
    damaged[12] = (damaged[12] + 0.6).clamp(0, 1)  # one-frame flash
    yy, xx = torch.meshgrid(torch.arange(72), torch.arange(96), indexing="ij")
    blotch = ((yy - 30) / 28) ** 2 + ((xx - 50) / 36) ** 2 < 1  # a burn over much of the frame
    damaged[25, 0][blotch] = 0.02
    damaged[33] = 1.0  # a white frame
    assert detect_shots(damaged) == [0]


def test_damaged_first_and_last_frames_are_not_shots(make_shot):
    shot = make_shot(6, 20)
    shot[0] = 1.0 - shot[0]  # a negative-looking first frame
    shot[-1] = (shot[-1] * 0.2).clamp(0, 1)
    shot[-1, :, 10:60, 20:80] = 0.9
    assert detect_shots(shot) == [0]


def test_a_few_frames_at_either_end_of_a_clip_are_no_shot_of_their_own(make_shot):
    # three frames of another picture at the end (or the start) could be damage as well as a shot:
    # with no frame beyond them nothing tells which; four frames are a shot
    for method in ("classical", "learned", "combined"):
        assert detect_shots(torch.cat([make_shot(1, 40), make_shot(2, 3)]), method) == [0]
        assert detect_shots(torch.cat([make_shot(2, 3), make_shot(1, 40)]), method) == [0]
        assert detect_shots(torch.cat([make_shot(1, 40), make_shot(2, 4)]), method) == [0, 40]


def test_cut_next_to_a_damaged_frame_is_still_found(make_shot):
    reel = torch.cat([make_shot(7, 20), make_shot(8, 20)])
    reel[22] = (reel[22] + 0.5).clamp(0, 1)  # flash two frames into the new shot
    assert detect_shots(reel) == [0, 20]


def test_cross_dissolve_is_one_boundary_at_its_middle(make_shot):
    a = make_shot(11, 50, pan=(0, 0))
    b = make_shot(12, 50, pan=(0, 0))
    length = 12  # frames 30..41 blend a into b
    alpha = torch.linspace(0, 1, length + 2)[1:-1].view(-1, 1, 1, 1)
    reel = torch.cat([a[:30], (1 - alpha) * a[30 : 30 + length] + alpha * b[:length], b[length:]])
    starts = detect_shots(reel)
    middle = 30 + (length - 1) / 2
    assert len(starts) == 2 and starts[0] == 0
    assert abs(starts[1] - middle) <= 2


def test_no_frames_gives_no_shots():
    assert detect_shots(torch.zeros(0, 1, 32, 32)) == []
    assert detect_shots(torch.rand(1, 3, 32, 32)) == [0]


def test_bad_frame_shape_is_rejected():
    with pytest.raises(ValueError, match="C 1 or 3"):
        ShotDetector().feed(torch.rand(4, 2, 32, 32))


@pytest.mark.footage
def test_a_bomb_cuts_found_exactly(footage):
    from restoration.io import iter_chunks

    assert detect_shots(iter_chunks(footage / "a-bomb-blast-effects-1952.mp4", 32)) == [0, 44, 134, 299]


@pytest.mark.footage
@pytest.mark.parametrize("name", SILENT_CLIPS)
def test_no_cut_inside_damaged_silent_clip(footage, name):
    from restoration.io import iter_chunks

    assert detect_shots(iter_chunks(footage / name, 16)) == [0]


@pytest.mark.footage
def test_reel_of_real_clips_has_exact_cuts(footage):
    from restoration.io import read_frames

    parts = []
    for name in ["within_our_gates.mkv", "a_trip_down_market_street_before_the_fire.mkv", "the_great_train_robbery.mkv"]:
        frames = read_frames(footage / name)
        parts.append(F.interpolate(frames, size=(184, 240), mode="area"))
    reel = torch.cat(parts)
    assert detect_shots(reel) == [0, 48, 108]
