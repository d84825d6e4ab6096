"""The learned shot detector: its cues, its decoding, the committed weights on synthetic shots,
and a few training steps (no real training: the tests load the committed weights)."""

import random

import numpy as np
import pytest
import torch

from restoration.analysis.shot_reels import (
    KINDS,
    build_cut_reel,
    build_hard_reel,
    build_synthetic_reel,
    load_shots,
    photograph_clips,
    textured_whip_pan,
)
from restoration.analysis.shot_training import (
    END_WINDOWS,
    WINDOW,
    frame_pairs,
    labels,
    shot_ids,
    train_frame_embedding,
    train_shot_net,
    window_start,
    with_contrast,
)
from restoration.analysis.shots import (
    FEATURE_NAMES,
    ShotDetector,
    Transition,
    detect_transitions,
    luma_thumbnails,
    shift_tolerant_distance,
)
from restoration.errors import ModelError
from restoration.models.shot_embedding import (
    EMBEDDING_THUMB_SIZE,
    FrameEmbedding,
    frame_embeddings,
    load_frame_embedding,
)
from restoration.models.shot_net import TYPES, ShotNet, decode, load_shot_net


def detect_transitions_learned(frames):
    return detect_transitions(frames, method="learned")


def _features(frames: torch.Tensor, chunk: int) -> np.ndarray:
    detector = ShotDetector()
    for part in frames.split(chunk):
        detector.feed(part)
    return detector.features()


def test_features_are_named_finite_and_the_same_in_any_chunking(make_shot):
    reel = torch.cat([make_shot(1, 40), make_shot(2, 40)])
    whole, chunked = _features(reel, 80), _features(reel, 7)
    assert whole.shape == (80, len(FEATURE_NAMES))
    assert np.isfinite(whole).all()
    np.testing.assert_allclose(whole, chunked, atol=1e-5)
    lag1 = whole[:, FEATURE_NAMES.index("distance_lag1")]
    assert int(lag1.argmax()) == 40  # the cut is where the picture changes most


def test_no_frames_give_no_features():
    assert ShotDetector().features().shape == (0, len(FEATURE_NAMES))


def _outputs(n: int, peaks: dict[int, tuple[float, str, tuple[int, int]]]):
    probability, types, span = np.zeros(n), np.zeros((n, len(TYPES))), np.zeros((n, 2))
    types[:, 0] = 1
    for frame, (p, kind, (before, after)) in peaks.items():
        probability[frame] = p
        types[frame - 1 : frame + 2] = np.eye(len(TYPES))[TYPES.index(kind)]
        span[frame] = before, after
    return probability, types, span


def _combined(make_shot, monkeypatch, rules: list[Transition], peaks: dict,
              weak: tuple[int, ...] = (), embedding_backs: tuple[int, ...] = (),
              frames: torch.Tensor | None = None) -> list[Transition]:
    """The combined detector's decision over given rules' boundaries and net outputs (100 frames,
    ``frames`` or one shot); the rules' cuts pass their cut test, but at ``weak`` frames (added by
    the review of short segments); the frame embedding's cut strength stands out at
    ``embedding_backs`` frames only."""
    detector = ShotDetector()
    detector.feed(make_shot(1, 100) if frames is None else frames)
    strength = np.ones(100)
    strength[list(weak)] = 0.05
    embedding_strength = np.full(100, 0.1)
    embedding_strength[list(embedding_backs)] = 0.6
    monkeypatch.setattr(detector, "classical_transitions", lambda: rules)
    monkeypatch.setattr(detector, "cut_strength", lambda: strength)
    monkeypatch.setattr(detector, "embedding_cut_strength", lambda: embedding_strength)
    monkeypatch.setattr(detector, "_net_outputs", lambda: _outputs(100, peaks))
    return detector.transitions("combined")


def test_combined_drops_a_rules_boundary_of_any_kind_the_net_does_not_support(make_shot, monkeypatch):
    # an insert's two cuts and a fade made of burnt frames, none of which the net sees, and a
    # cut and a dissolve it half sees (not sure of them, not sure there is none)
    rules = [Transition("cut", 20, 20, 20), Transition("cut", 40, 40, 40), Transition("cut", 42, 42, 42),
             Transition("fade", 55, 50, 60), Transition("cut", 66, 66, 66), Transition("dissolve", 80, 74, 86)]
    half = {65: (0.35, "cut", (0, 0)), 81: (0.4, "dissolve", (6, 6))}
    assert _combined(make_shot, monkeypatch, rules, half) == [rules[4], rules[5]]
    assert _combined(make_shot, monkeypatch, rules, {}) == []


def test_combined_lets_a_sure_net_boundary_replace_the_rules_ones_it_overlaps(make_shot, monkeypatch):
    rules = [Transition("dissolve", 48, 44, 50), Transition("cut", 53, 53, 53)]
    sure = {49: (0.95, "wipe", (7, 7)), 53: (0.4, "cut", (0, 0))}
    assert _combined(make_shot, monkeypatch, rules, sure) == [Transition("wipe", 49, 42, 56)]
    # not sure, and it supports the rules' frames nearly as much as its own: the rules' stay
    unsure = {49: (0.7, "wipe", (7, 7)), 53: (0.65, "cut", (0, 0))}
    assert _combined(make_shot, monkeypatch, rules, unsure) == rules


def test_combined_takes_the_nets_boundary_where_it_disputes_the_rules_placement(make_shot, monkeypatch):
    # both see one dissolve; the rules put it at 30, where the net gives half its peak or less: the
    # net's placement wins, sure or not
    rules = [Transition("dissolve", 30, 20, 44)]
    for peak in (0.95, 0.7):
        net = {31: (0.35, "dissolve", (1, 1)), 45: (peak, "dissolve", (6, 6))}
        assert _combined(make_shot, monkeypatch, rules, net) == [Transition("dissolve", 45, 39, 51)]
    # the same where the net's type differs: the rules' fade at 30, the net's unsure wipe at 45
    net = {31: (0.35, "wipe", (1, 1)), 45: (0.7, "wipe", (6, 6))}
    assert _combined(make_shot, monkeypatch, [Transition("fade", 30, 20, 44)], net) == [Transition("wipe", 45, 39, 51)]


def test_combined_adds_the_nets_boundaries_where_its_sure_ones_replaced_the_rules(make_shot, monkeypatch):
    # the rules saw one long fade over a cut and the dissolve after it: the net's sure cut replaces
    # it and frees the frames for the net's weaker dissolve
    rules = [Transition("fade", 40, 20, 62)]
    net = {20: (0.96, "cut", (0, 0)), 40: (0.35, "fade", (1, 1)), 64: (0.6, "dissolve", (4, 4))}
    assert _combined(make_shot, monkeypatch, rules, net) == [Transition("cut", 20, 20, 20),
                                                              Transition("dissolve", 64, 60, 68)]


def test_combined_adds_the_nets_gradual_boundaries_and_only_its_sure_cuts(make_shot, monkeypatch):
    net = {30: (0.6, "wipe", (5, 5)), 60: (0.8, "cut", (0, 0)), 80: (0.95, "cut", (0, 0))}
    assert _combined(make_shot, monkeypatch, [], net) == [Transition("wipe", 30, 25, 35), Transition("cut", 80, 80, 80)]


def test_combined_adds_an_unsure_net_cut_where_the_frame_embedding_backs_it(make_shot, monkeypatch):
    # a cut between low-contrast pictures under heavy damage: the net is unsure, the rules see
    # nothing, the embedding's distances stand out there (6 times their local median)
    net = {60: (0.6, "cut", (0, 0)), 80: (0.6, "cut", (0, 0))}
    assert _combined(make_shot, monkeypatch, [], net, embedding_backs=(60,)) == [Transition("cut", 60, 60, 60)]


def test_combined_leaves_out_a_backed_unsure_net_cut_at_the_end_of_a_burn(make_shot, monkeypatch):
    # a two-frame burn over most of the picture: the net half sees its end as a cut, the embedding
    # changes there too; the rules' review finds its start and the same picture either side
    shot = make_shot(1, 100)
    shot[40:42, :, 8:64, 8:88] = 1.0
    net = {42: (0.6, "cut", (0, 0))}
    assert _combined(make_shot, monkeypatch, [], net, embedding_backs=(42,), frames=shot) == []
    assert _combined(make_shot, monkeypatch, [], net, embedding_backs=(42,)) == [Transition("cut", 42, 42, 42)]


def test_combined_keeps_a_cut_both_found_right_after_a_sure_gradual_transition(make_shot, monkeypatch):
    # a dissolve, then a few frames later a cut to a whip pan: the net is sure of both, the rules
    # found the cut; the dissolve's span reaching the cut must not swallow it
    rules = [Transition("cut", 60, 60, 60)]
    sure = {52: (0.95, "dissolve", (6, 7)), 60: (0.99, "cut", (0, 0))}
    assert _combined(make_shot, monkeypatch, rules, sure) == [Transition("dissolve", 52, 46, 59), rules[0]]
    # an unsure dissolve next to such a cut is not added beside it
    unsure = {52: (0.6, "dissolve", (6, 7)), 60: (0.99, "cut", (0, 0))}
    assert _combined(make_shot, monkeypatch, rules, unsure) == rules


def test_combined_keeps_the_rules_frame_and_span_where_both_found_the_same_boundary(make_shot, monkeypatch):
    rules = [Transition("wipe", 75, 72, 79), Transition("dissolve", 40, 30, 50)]
    net = {75: (0.95, "wipe", (5, 5)), 41: (0.95, "wipe", (8, 8))}  # the same wipe; a wipe, not a dissolve
    assert _combined(make_shot, monkeypatch, rules, net) == [Transition("wipe", 41, 33, 49), rules[0]]


def test_combined_drops_a_short_segments_weak_end_where_the_net_vetoed_the_other(make_shot, monkeypatch):
    # the rules' review kept a two-frame flash at 40-41 as a short segment: 42 passed the cut test,
    # 40 only came back as its other end; the net vetoes 42 and half sees 40: no boundary is left.
    # A weak end whose other end stays is kept (an insert coming back to its shot: 60, 62).
    rules = [Transition("cut", 40, 40, 40), Transition("cut", 42, 42, 42),
             Transition("cut", 60, 60, 60), Transition("cut", 62, 62, 62)]
    net = {40: (0.45, "cut", (0, 0)), 60: (0.45, "cut", (0, 0)), 62: (0.45, "cut", (0, 0))}
    assert _combined(make_shot, monkeypatch, rules, net, weak=(40, 60)) == rules[2:]


def test_combined_does_not_split_an_insert_into_two_shots(make_shot, monkeypatch):
    rules = [Transition("cut", 40, 40, 40), Transition("cut", 42, 42, 42), Transition("cut", 44, 44, 44),
             Transition("cut", 70, 70, 70), Transition("cut", 73, 73, 73)]
    near = {frame: (0.5, "cut", (0, 0)) for frame in (40, 42, 44, 70, 73)}
    # 42 would make 40-41 and 42-43 two shots of two frames: a change inside a 4-frame insert
    assert [t.frame for t in _combined(make_shot, monkeypatch, rules, near)] == [40, 44, 70, 73]


def test_a_net_fade_must_pass_through_black_or_white(make_shot, monkeypatch):
    # the net says "fade" at 50 in a shot of mid-grey pictures: no fade, in either method
    shot = make_shot(1, 100)
    for method in ("learned", "combined"):
        detector = ShotDetector()
        detector.feed(shot)
        monkeypatch.setattr(detector, "classical_transitions", lambda: [])
        monkeypatch.setattr(detector, "_net_outputs", lambda: _outputs(100, {50: (0.95, "fade", (6, 6))}))
        assert detector.transitions(method) == []
    faded = shot.clone()
    faded[49:52] = 0.02  # black frames at its point
    detector = ShotDetector()
    detector.feed(faded)
    monkeypatch.setattr(detector, "_net_outputs", lambda: _outputs(100, {50: (0.95, "fade", (6, 6))}))
    assert detector.transitions("learned") == [Transition("fade", 50, 44, 56)]


def test_decode_keeps_both_cuts_of_a_two_frame_insert():
    found = decode(*_outputs(60, {20: (0.9, "cut", (0, 0)), 22: (0.8, "cut", (0, 0))}))
    assert found == [("cut", 20, 20, 20), ("cut", 22, 22, 22)]


def test_decode_drops_peaks_inside_a_stronger_gradual_transitions_span():
    found = decode(*_outputs(100, {50: (0.95, "dissolve", (10, 9)), 44: (0.6, "cut", (0, 0)),
                                   70: (0.7, "wipe", (3, 3)), 90: (0.3, "cut", (0, 0))}))
    assert found == [("dissolve", 50, 40, 59), ("wipe", 70, 67, 73)]


def test_decode_keeps_a_cut_at_the_edge_of_a_gradual_transition_and_a_transition_ending_at_a_cut():
    # a fade estimated over 42-58 and a cut at 57 (the shot after it cut away), a dissolve whose
    # estimated span 76-84 runs over the stronger cut at 84 that follows it
    found = decode(*_outputs(100, {50: (0.95, "fade", (8, 8)), 57: (0.9, "cut", (0, 0)),
                                   84: (0.97, "cut", (0, 0)), 80: (0.8, "dissolve", (4, 4))}))
    assert found == [("fade", 50, 42, 58), ("cut", 57, 57, 57), ("dissolve", 80, 76, 83), ("cut", 84, 84, 84)]


def test_decode_reports_nothing_at_the_clips_first_frames_or_last():
    assert decode(*_outputs(30, {1: (0.9, "cut", (0, 0)), 29: (0.9, "cut", (0, 0))})) == []


def test_committed_weights_find_a_cut_exactly(make_shot):
    reel = torch.cat([make_shot(1, 50), make_shot(2, 50)])
    assert [(t.type, t.frame) for t in detect_transitions_learned(reel)] == [("cut", 50)]


def test_committed_weights_find_the_cuts_and_the_dissolve_of_a_reel_of_real_shots(footage):
    shots = load_shots((72, 96))
    reel, truths, _ = build_cut_reel(shots, [3, 0, 6, 1, 7, 2, 5, 4], dissolve_after=2, dissolve_length=12)
    found = detect_transitions_learned(reel.float() / 255)
    assert len(found) == len(truths)
    for transition, (frame, kind) in zip(found, truths, strict=True):
        assert transition.type == kind
        assert abs(transition.frame - frame) <= (1 if kind == "cut" else 2)


def test_committed_weights_see_no_boundary_at_a_flash_or_in_flicker(make_shot):
    shot = make_shot(5, 80)
    shot[30:32] = (shot[30:32] * 1.8 + 0.35).clamp(0, 1)
    gain = 1 + 0.25 * torch.sin(torch.arange(80) * 1.7).view(-1, 1, 1, 1)
    assert detect_transitions_learned((shot * gain).clamp(0, 1)) == []


def test_training_windows_reach_the_reels_ends_often():
    # the net must see a clip's last frames (the far endpoints' cues missing, the sequence ending)
    rng = np.random.default_rng(0)
    starts = np.array([window_start(1000, rng) for _ in range(4000)])
    assert starts.min() == 0 and starts.max() == 1000 - WINDOW
    assert abs((starts == 0).mean() - END_WINDOWS / 2) < 0.03
    assert abs((starts == 1000 - WINDOW).mean() - END_WINDOWS / 2) < 0.03
    assert window_start(100, rng) == 0  # a reel shorter than a window is padded


def test_a_few_training_steps_write_weights_that_load(tmp_path):
    rng = np.random.default_rng(0)
    cues = rng.normal(size=(300, len(FEATURE_NAMES))).astype(np.float32)
    cues[100, 0] = 8.0  # a "cut"
    target = labels([("cut", 100, 100, 100), ("dissolve", 200, 190, 209)], 300)
    assert target["heat"][100] == 1.0 and target["type"][200] == TYPES.index("dissolve")
    assert target["type"][50] == -1
    np.testing.assert_allclose(np.expm1(target["span"][200]), [10, 9])
    out = tmp_path / "shots.pt"
    record = train_shot_net(steps=3, reels=1, out=out, log=lambda *_: None, data=[(cues, target)])
    assert record["steps"] == 3 and out.with_suffix(".json").exists() and out.with_suffix(".csv").exists()
    net = load_shot_net(out, FEATURE_NAMES)
    assert isinstance(net, ShotNet)
    assert net(torch.from_numpy(cues).T[None]).shape == (1, 1 + len(TYPES) + 2, 300)


def test_a_texture_reel_holds_every_join_kind_with_inserts_going_on_and_coming_back():
    reel = build_synthetic_reel(5000, (72, 96))
    frames = torch.stack(reel.frames)
    assert frames.shape == (len(reel.frames), 1, 72, 96) and frames.min() >= 0 and frames.max() <= 1
    assert {t["type"] for t in reel.truths} == {"cut", "dissolve", "wipe", "fade"}
    cuts = [t["frame"] for t in reel.truths if t["type"] == "cut"]
    inserts = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if 2 <= b - a <= 4]
    assert len(inserts) == 3  # two going on to a new shot, one back to the shot it left
    assert all(0 < t["start"] <= t["frame"] < len(reel.frames) for t in reel.truths)
    assert len(reel.traps) == 6 and not any(t["start"] <= trap < t["start"] + t["length"]
                                            for trap in reel.traps for t in reel.truths)


def test_a_textured_whip_pan_holds_travels_and_holds():
    clip = textured_whip_pan(3, hold=24)
    assert clip.shape == (56, 1, 72, 96)
    steps = (clip[1:] - clip[:-1]).abs().mean(dim=(1, 2, 3))
    assert steps[:23].max() < steps[24:31].min() and steps[33:].max() < steps[24:31].min()


def test_training_rejects_a_negative_count_of_texture_or_low_contrast_reels(tmp_path):
    with pytest.raises(ModelError, match="texture and low-contrast reels"):
        train_shot_net(steps=1, reels=1, texture_reels_count=-1, out=tmp_path / "shots.pt")
    with pytest.raises(ModelError, match="texture and low-contrast reels"):
        train_shot_net(steps=1, reels=1, low_contrast_reels_count=-1, out=tmp_path / "shots.pt")


def test_a_low_contrast_reels_photograph_keeps_its_mean_and_a_share_of_its_spread():
    _, picture = photograph_clips((72, 96), 1, random.Random(3))[0]
    flat = with_contrast(picture, 0.2)
    assert abs(float(flat.mean() - picture.mean())) < 1e-5
    assert abs(float(flat.std() / picture.std()) - 0.2) < 1e-4
    assert flat.min() >= 0 and flat.max() <= 1


def test_an_unknown_method_is_rejected(make_shot):
    with pytest.raises(ValueError, match="classical, learned, combined"):
        detect_transitions(make_shot(1, 10), method="neural")


def test_an_unfit_weights_file_is_a_model_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError):
        load_shot_net(bad, FEATURE_NAMES)


def test_training_the_shot_detector_takes_steps_not_minutes(capsys):
    from restoration.cli import main

    assert main(["train", "--task", "shots", "--minutes", "1"]) == 2
    assert "--steps" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [(), ("insert", "insert-return")])
def test_every_change_of_picture_in_a_hard_reel_is_a_true_boundary_or_a_trap(extra):
    # seed 3 puts the whip pan (a shot of its own) right after a fade: it replaces what was left of
    # the incoming shot, a cut the reel must record
    size = (72, 96)
    reel = build_hard_reel(3, size, [], photograph_clips(size, 12, random.Random(7)), (*KINDS, *extra))
    thumbs = luma_thumbnails(torch.stack(reel.frames))
    change = shift_tolerant_distance(thumbs[:-1], thumbs[1:]).numpy()
    explained = {frame for t in reel.truths for frame in range(t["start"], t["start"] + t["length"])}
    unexplained = [f + 1 for f in np.flatnonzero(change > 0.5).tolist()
                   if f + 1 not in explained and not any(abs(f + 1 - trap) <= 12 for trap in reel.traps)]
    assert unexplained == []
    cuts = sorted(t["frame"] for t in reel.truths if t["type"] == "cut")
    inserts = sum(1 for a, b in zip(cuts, cuts[1:], strict=False) if 2 <= b - a <= 4)
    assert inserts == 1 + len(extra)


def test_shot_ids_part_the_frames_by_boundary_and_leave_out_gradual_spans():
    ids = shot_ids([("cut", 3, 3, 3), ("dissolve", 8, 6, 9), ("cut", 12, 12, 12)], 14)
    assert ids.tolist() == [0, 0, 0, 1, 1, 1, -1, -1, -1, -1, 3, 3, 4, 4]
    same, across = frame_pairs(ids)
    near = [(a, b) for a in range(14) for b in range(a + 1, min(a + 5, 14)) if ids[a] >= 0 and ids[b] >= 0]
    assert sorted(map(tuple, same.tolist())) == [(a, b) for a, b in near if ids[a] == ids[b]]
    assert sorted(map(tuple, across.tolist())) == [(a, b) for a, b in near if ids[b] == ids[a] + 1]


def test_a_few_frame_embedding_training_steps_write_weights_that_load(tmp_path):
    thumbs = torch.rand(40, *EMBEDDING_THUMB_SIZE).half()
    ids = np.repeat([0, 1], 20)
    out = tmp_path / "shot_embedding.pt"
    record = train_frame_embedding(steps=2, reels=1, out=out, log=lambda *_: None, data=[(thumbs, ids)])
    assert record["pairs"]["across_a_boundary"] == 1 + 2 + 3 + 4
    assert out.with_suffix(".json").exists() and out.with_suffix(".csv").exists()
    embedded = frame_embeddings(thumbs[:3], out)
    assert embedded.shape == (3, FrameEmbedding().config.dim)
    torch.testing.assert_close(embedded.norm(dim=1), torch.ones(3))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="frame embedding"):
        load_frame_embedding(bad)


@pytest.mark.parametrize(("picture", "move_seed"), [("camera", 3), ("page", 4)])
def test_the_frame_embedding_sees_a_jump_cut_in_a_low_contrast_picture_under_heavy_damage(picture, move_seed):
    # one photograph at a fifth of its contrast, panned, then a jump to a closer framing of it: under
    # heavy damage the thumbnails change as much inside the shot as at the cut; the embedding does not
    from restoration.degrade import degrade
    from restoration.degrade.sources import synthetic_clip

    size = (144, 192)
    photograph = dict(photograph_clips(size, 12, random.Random(11)))[picture]
    clip = synthetic_clip(with_contrast(photograph, 0.2), frames=48, size=size, seed=move_seed, motion="pan",
                          mode="bilinear").clamp(0, 1)
    h, w = size
    closer = torch.nn.functional.interpolate(clip[24:, :, h // 5 : h - h // 5, w // 5 : w - w // 5], size=size,
                                             mode="bilinear", align_corners=False)
    frames = torch.cat([clip[:24], closer]).clamp(0, 1)
    inside = np.r_[2:21, 27:46]  # frames whose cut strength spans no frame of the other shot
    for damage_seed in (1, 2):
        detector = ShotDetector()
        for part in degrade(frames, seed=damage_seed, strength="heavy").damaged.clamp(0, 1).split(16):
            detector.feed(part)
        embedding, thumbnails = detector.embedding_cut_strength(), detector.cut_strength()
        assert embedding[24] > 1.5 * embedding[inside].max()
        assert thumbnails[24] < 1.5 * thumbnails[inside].max()  # the same bar, not met
