"""The film preset's validation clips and scorer, at a tiny size with stand-in restorations."""

import pytest
import torch

from restoration.bench.restore_validation import evaluate, main, validation_clips


@pytest.fixture(scope="module")
def clips():
    return validation_clips(size=(48, 64), frames=6)


def test_the_validation_clips_are_nine_moving_and_nine_still_at_every_strength(clips):
    assert len(clips) == 18
    for kind in ("moving", "still"):
        mine = [c for c in clips if c.kind == kind]
        assert sorted(c.strength for c in mine) == sorted(["light", "medium", "heavy"] * 3)
    for clip in clips:
        assert clip.clean.shape == clip.damaged.shape and clip.clean.shape[0] == 6
        assert not torch.equal(clip.clean, clip.damaged)
    again = validation_clips(size=(48, 64), frames=6)  # the same clips from the same seeds
    assert all(torch.equal(a.damaged, b.damaged) for a, b in zip(clips, again, strict=True))


def test_scores_group_by_kind_and_strength_and_the_moving_things(clips):
    unchanged = evaluate(clips, lambda frames: frames)
    rows = unchanged["rows"]
    assert all(row["film"] == row["input"] for row in rows)
    moving = [row for row in rows if row["clip"].startswith("moving")]
    assert all(row["moving things: film"] == row["moving things: input"] for row in moving)
    assert unchanged["means"]["moving"] == pytest.approx(sum(row["input"] for row in moving) / 9)
    assert {"moving", "still", "moving light", "still heavy", "moving things"} <= set(unchanged["means"])
    # the clean clip itself back: far better than the input everywhere
    clean = {id(c.damaged): c.clean for c in clips}
    perfect = evaluate(clips, lambda frames: clean[id(frames)])
    assert perfect["means"]["still"] > unchanged["means"]["still"] + 20


@pytest.mark.parametrize("argv", [["--set", "NOT_THERE=1"], ["--set", "AFTER_NET_DENOISE=much"],
                                  ["--weights", "/nonexistent/restore.pt"]])
def test_bad_options_are_one_clear_error(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert "error:" in capsys.readouterr().err
