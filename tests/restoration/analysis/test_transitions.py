"""Typed, spanned shot boundaries: cuts, dissolves and fades on synthetic shots, and damage that
must not become one."""

import torch

from restoration.analysis.shot_reels import textured_whip_pan
from restoration.analysis.shots import Transition, detect_transitions


def _dissolve(a: torch.Tensor, b: torch.Tensor, length: int) -> torch.Tensor:
    alpha = torch.linspace(0, 1, length + 2)[1:-1].view(-1, 1, 1, 1)
    return torch.cat([a[:-length], (1 - alpha) * a[-length:] + alpha * b[:length], b[length:]])


def _fade_through_black(a: torch.Tensor, b: torch.Tensor, length: int) -> torch.Tensor:
    half = length // 2
    down = torch.linspace(1, 0, half).view(-1, 1, 1, 1)
    return torch.cat([a[:-half], a[-half:] * down, b[:half] * down.flip(0), b[half:]])


def test_a_cut_is_typed_with_a_one_frame_span(make_shot):
    reel = torch.cat([make_shot(1, 30), make_shot(2, 30)])
    assert detect_transitions(reel) == [Transition("cut", 30, 30, 30)]


def test_a_short_dissolve_is_one_boundary_at_its_middle(make_shot):
    reel = _dissolve(make_shot(1, 60), make_shot(2, 60), 4)  # blend frames 56-59
    (found,) = detect_transitions(reel)
    assert found.type == "dissolve"
    assert abs(found.frame - 58) <= 1
    assert found.start_frame <= 57 and found.end_frame >= 58


def test_a_long_dissolve_is_found_and_spans_most_of_its_frames(make_shot):
    reel = _dissolve(make_shot(1, 80), make_shot(2, 80), 36)  # blend frames 44-79, middle 62
    (found,) = detect_transitions(reel)
    assert found.type == "dissolve"
    assert abs(found.frame - 62) <= 3
    assert found.length >= 24
    assert found.start_frame >= 40 and found.end_frame <= 84


def test_a_fade_through_black_is_one_boundary_at_the_black_point(make_shot):
    reel = _fade_through_black(make_shot(1, 80), make_shot(2, 80), 16)  # black at 79-80
    (found,) = detect_transitions(reel)
    assert found.type == "fade"
    assert found.frame == 80
    assert found.start_frame < 78 and found.end_frame > 82


def test_a_fade_through_white_is_a_fade(make_shot):
    a, b = make_shot(3, 60), make_shot(4, 60)
    reel = 1 - _fade_through_black(1 - a, 1 - b, 12)
    assert [t.type for t in detect_transitions(reel)] == ["fade"]


def test_a_white_flash_is_not_a_fade(make_shot):
    shot = make_shot(5, 60)
    shot[30] = 1.0  # a white frame, abrupt
    assert detect_transitions(shot) == []


def _wipe(a: torch.Tensor, b: torch.Tensor, length: int, *, vertical: bool = False) -> torch.Tensor:
    """The incoming shot uncovered left to right (top to bottom) over ``length`` frames."""
    size = a.shape[-2] if vertical else a.shape[-1]
    frames = []
    for i in range(length):
        edge = round((i + 1) / (length + 1) * size)
        frame = a[-length + i].clone()
        if vertical:
            frame[..., :edge, :] = b[i, ..., :edge, :]
        else:
            frame[..., :edge] = b[i, ..., :edge]
        frames.append(frame)
    return torch.cat([a[:-length], torch.stack(frames), b[length:]])


def test_a_sixty_frame_dissolve_between_still_shots_is_found(make_shot):
    reel = _dissolve(make_shot(1, 100, pan=(0, 0)), make_shot(2, 100, pan=(0, 0)), 60)  # 40-99, middle 70
    (found,) = detect_transitions(reel)
    assert found.type == "dissolve" and abs(found.frame - 70) <= 3
    assert abs(found.start_frame - 40) <= 4 and abs(found.end_frame - 99) <= 4


def test_a_wipe_is_one_boundary_at_its_middle_with_its_span(make_shot):
    reel = _wipe(make_shot(1, 80), make_shot(2, 80), 10)  # wipe frames 70-79
    assert detect_transitions(reel) == [Transition("wipe", 75, 72, 79)]


def test_a_long_top_to_bottom_wipe_is_a_wipe(make_shot):
    reel = _wipe(make_shot(3, 100, pan=(0, 0)), make_shot(4, 100, pan=(0, 0)), 30, vertical=True)  # 70-99
    (found,) = detect_transitions(reel)
    assert found.type == "wipe" and abs(found.frame - 85) <= 3


def test_a_panning_shot_has_no_boundary(make_shot):
    assert detect_transitions(make_shot(6, 120, pan=(2, 1))) == []


def test_two_and_three_frame_flashes_are_not_boundaries(make_shot):
    shot = make_shot(5, 60)
    shot[20:22] = (shot[20:22] * 1.8 + 0.4).clamp(0, 1)  # an exposure flash, clipped
    shot[40:43] = 1.0  # three white frames
    assert detect_transitions(shot) == []


def test_a_two_frame_burn_over_half_the_picture_is_not_a_boundary(make_shot):
    shot = make_shot(5, 60)
    shot[30:32, :, 4:52, 8:80] = 0.95
    assert detect_transitions(shot) == []


def test_a_splice_bump_is_not_a_boundary(make_shot):
    shot = make_shot(7, 80, pan=(1, 0))
    bumped = torch.cat([shot[:30], shot[38:40], shot[32:]])  # two frames jumped ahead, then back
    assert detect_transitions(bumped) == []


def test_inserts_of_two_frames_have_both_boundaries(make_shot):
    main, insert, after = make_shot(5, 60), make_shot(9, 2), make_shot(11, 30)
    returning = torch.cat([main[:30], insert, main[32:]])  # a cutaway, then the shot goes on
    assert [t.frame for t in detect_transitions(returning)] == [30, 32]
    onwards = torch.cat([main[:30], insert, after])
    assert [(t.type, t.frame) for t in detect_transitions(onwards)] == [("cut", 30), ("cut", 32)]


def test_a_jump_cut_to_a_closer_framing_of_the_same_picture_is_a_cut(make_shot):
    big = make_shot(12, 60, pan=(0, 0), height=144, width=192)
    wide = torch.nn.functional.interpolate(big, size=(72, 96), mode="area")
    close = big[:, :, 36:108, 48:144]
    assert detect_transitions(torch.cat([wide[:30], close[30:]])) == [Transition("cut", 30, 30, 30)]


def test_a_whip_pan_is_not_a_boundary():
    assert detect_transitions(textured_whip_pan(3)) == []  # 30 held frames, 8 blurred, 30 held


def test_heavy_flicker_is_not_a_boundary(make_shot):
    generator = torch.Generator().manual_seed(4)
    shot = make_shot(5, 60) * (0.5 + torch.rand(60, 1, 1, 1, generator=generator))
    assert detect_transitions(shot.clamp(0, 1)) == []
