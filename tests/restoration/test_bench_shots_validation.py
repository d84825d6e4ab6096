"""The shot detector's validation scorer, on stand-in detectors (the reels themselves take minutes)."""

import pytest

from restoration.analysis.shot_reels import Reel
from restoration.analysis.shots import Transition
from restoration.bench.shots_validation import evaluate, summary


class _Found:
    def __init__(self, found):
        self.found = found

    def transitions(self, method):
        return self.found


def test_validation_scores_hard_and_cut_reels_apart_with_types_and_false_boundaries():
    hard = Reel(truths=[{"type": "cut", "frame": 10, "length": 1, "start": 10},
                        {"type": "dissolve", "frame": 50, "length": 16, "start": 42}], traps=[80])
    reels = [
        {"name": "hard 1", "kind": "hard", "reel": hard,
         "detector": _Found([Transition("cut", 10, 10, 10), Transition("wipe", 52, 46, 58),
                             Transition("cut", 81, 81, 81)])},
        {"name": "cut 1", "kind": "cut", "truths": [(30, "cut"), (70, "dissolve")], "damaged": [(0, 29)],
         "detector": _Found([Transition("cut", 20, 20, 20), Transition("cut", 30, 30, 30)])},
    ]
    totals = evaluate(reels, "combined")
    assert totals["hard"]["matched"] == 2 and totals["hard"]["typed"] == 1
    assert totals["hard"]["false"] == 1 and totals["hard"]["false at traps"] == 1
    assert totals["hard"]["precision"] == pytest.approx(2 / 3) and totals["hard"]["recall"] == 1.0
    assert totals["cut"]["matched"] == 1 and totals["cut"]["false"] == 1 and totals["cut"]["false at traps"] == 1
    assert totals["cut"]["F1"] == pytest.approx(0.5)
    assert "typed 1/2" in summary(totals)
    # a variant's decision replaces the method's
    assert evaluate(reels, "combined", lambda detector: [])["hard"]["recall"] == 0.0
