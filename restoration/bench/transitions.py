"""Typed shot boundaries on hard reels: every kind of transition and every trap, heavily damaged.

The reels (built by ``restoration.analysis.shot_reels.build_hard_reel``, seeds 1-6, degradation
seeds 500-505: the learned detector's training reels use seeds from 1000) string together shots drawn from the shared archival footage (the A-Bomb shots and
the silent clips, with their own damage) and scikit-image photographs under synthetic camera
moves (``restoration.degrade.synthetic_clip``), joined by, in a seeded order: cuts, cuts
between two moves over the same photograph (similar brightness), a jump cut (the same
photograph reframed closer), a 2- to 4-frame insert, dissolves of 4 to 60 frames, wipes of 6
to 30 frames in the four directions, fades through black and through white. Inside shots, away
from their ends: 1- to 3-frame exposure flashes, 2-frame burns over 40 % of the picture, a
splice bump (two frames jumped 6 ahead, then back) and a whip pan (8 frames of fast, blurred
travel between two held views). The whole reel is then damaged by ``restoration.degrade``
(heavy: flicker, dust, blotches, scratches, grain, weave, compression).

Scores: a boundary found within +-1 frame of a cut, or within +-max(2, length / 4) of a gradual
transition's reported frame (its middle; a fade's black or white point), is a match; each true
boundary matches once. "typed" is the share of matches with the right type; "false at traps"
counts false boundaries within 4 frames of a trap. Our detectors are measured
(``detect_transitions(method="classical" | "learned" | "combined")``). PySceneDetect's content and adaptive
detectors (default settings, fed the same frames) are scored the same way (they give no types);
without PySceneDetect installed (the ``bench`` extra) their rows are skipped with a note on stderr.
fps: frames per second of ``detect_transitions`` alone, one thread. Run by ``bench --only shots``.
"""

from __future__ import annotations

import functools
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import torch

from restoration.analysis.shot_reels import Reel, build_hard_reel, photograph_clips
from restoration.bench import precision_recall_f1

CUT_TOLERANCE = 1
TRAP_REACH = 4


def score(found: list[Any], reel: Reel) -> dict[str, Any]:
    """Matches of found boundaries (``Transition`` or plain frame numbers) against the reel's."""
    unmatched = list(reel.truths)
    matched = typed = 0
    false = []
    for item in found:
        frame = item if isinstance(item, int) else item.frame
        kind = None if isinstance(item, int) else item.type

        def reach(truth: dict[str, Any]) -> int:
            return CUT_TOLERANCE if truth["type"] == "cut" else max(2, truth["length"] // 4)

        candidates = [t for t in unmatched if abs(frame - t["frame"]) <= reach(t)]
        if not candidates:
            false.append(frame)
            continue
        truth = min(candidates, key=lambda t: abs(frame - t["frame"]))
        unmatched.remove(truth)
        matched += 1
        typed += kind == truth["type"]
    precision, recall, f1 = precision_recall_f1(matched, len(found), len(reel.truths))
    return {
        "true": len(reel.truths),
        "found": len(found),
        "matched": matched,
        "typed": typed,
        "precision": precision,
        "recall": recall,
        "F1": f1,
        "false at traps": sum(1 for f in false if any(abs(f - t) <= TRAP_REACH for t in reel.traps)),
        "missed": " ".join(f"{t['type']}@{t['frame']}" for t in unmatched) or "-",
        "false": " ".join(map(str, false)) or "-",
    }


def scenedetect_cuts(frames: torch.Tensor, detector: str) -> list[int] | None:
    """PySceneDetect's cuts on (T, 1, H, W) frames in [0, 1] (None when it is not installed)."""
    try:
        import numpy as np
        from scenedetect import FrameTimecode
        from scenedetect.detectors import AdaptiveDetector, ContentDetector
    except ImportError:
        return None
    instance = AdaptiveDetector() if detector == "adaptive" else ContentDetector()
    cuts: list[int] = []
    grey = (frames[:, 0] * 255).round().to(torch.uint8).numpy()
    last = None
    for number, picture in enumerate(grey):
        last = FrameTimecode(number, fps=24.0)
        cuts += [int(c.frame_num) for c in instance.process_frame(last, np.repeat(picture[..., None], 3, axis=2))]
    if last is not None:
        cuts += [int(c.frame_num) for c in instance.post_process(last)]
    return sorted(set(cuts))


def hard_reel_footage(shots: list[tuple[str, torch.Tensor, bool]]) -> list[torch.Tensor]:
    """The footage shots long enough for a hard reel's joins (``load_shots``' rows: their frames)."""
    return [frames for _, frames, _ in shots if frames.shape[0] >= 70]


def damaged_hard_reel(seed: int, size: tuple[int, int], footage: list[torch.Tensor], pictures: list,
                      *, damage_seed: int) -> tuple[Reel, torch.Tensor]:
    """``build_hard_reel``'s reel (its truths and traps) and its frames under heavy ``degrade``."""
    from restoration.degrade import degrade

    reel = build_hard_reel(seed, size, footage, pictures)
    damaged = degrade(torch.stack(reel.frames), seed=damage_seed, strength="heavy").damaged.clamp(0, 1)
    return reel, damaged


def run(quick: bool, load_footage: Callable[[tuple[int, int]], list[tuple[str, torch.Tensor, bool]]]
        ) -> list[dict[str, Any]]:
    """The table; ``load_footage(size)`` gives the shared footage's shots as ``bench.shots`` loads
    them (``(name, uint8 (T, 1, H, W), damaged?)``)."""
    from restoration.analysis.shots import METHODS, detect_transitions, single_threaded

    methods = {method: functools.partial(detect_transitions, method=method) for method in METHODS}
    if scenedetect_cuts(torch.zeros(1, 1, 8, 8), "content") is None:
        print("note: PySceneDetect is not installed (the `bench` extra: pip install -e '.[bench]'): "
              "its rows are skipped", file=sys.stderr)

    size = (96, 128) if quick else (144, 192)
    reels = 2 if quick else 6
    footage = hard_reel_footage(load_footage(size))
    pictures = photograph_clips(size, 12, random.Random(7))
    rows = []
    totals: dict[str, dict[str, float]] = {}
    for number in range(reels):
        with single_threaded():
            reel, damaged = damaged_hard_reel(number + 1, size, footage, pictures, damage_seed=500 + number)
        results, seconds = {}, {}
        for method, detect in methods.items():
            with single_threaded():
                started = time.perf_counter()
                found = detect(damaged.split(32))
                seconds[method] = time.perf_counter() - started
            results[method] = score(found, reel)
        for detector in ("adaptive", "content"):
            cuts = scenedetect_cuts(damaged, detector)
            if cuts is not None:
                results[f"PySceneDetect {detector}"] = score(cuts, reel)
        for method, result in results.items():
            row = {"reel": f"{number + 1}", "method": method, "frames": damaged.shape[0], **result}
            if method in methods:
                row["fps"] = damaged.shape[0] / seconds[method]
            else:
                row["typed"] = "-"
            rows.append(row)
            total = totals.setdefault(method, {"true": 0, "found": 0, "matched": 0, "typed": 0, "false at traps": 0,
                                               "frames": 0, "seconds": 0.0})
            for key in ("true", "found", "matched", "false at traps"):
                total[key] += result[key]
            total["typed"] += result["typed"] if method in methods else 0
            total["frames"] += damaged.shape[0]
            total["seconds"] += seconds.get(method, 0.0)
    for method, total in totals.items():
        precision, recall, f1 = precision_recall_f1(int(total["matched"]), int(total["found"]), int(total["true"]))
        rows.append({
            "reel": f"all ({size[1]}x{size[0]})", "method": method, "frames": int(total["frames"]),
            "true": int(total["true"]), "found": int(total["found"]), "matched": int(total["matched"]),
            "typed": f"{total['typed'] / total['matched']:.3f}" if method in methods and total["matched"] else "-",
            "precision": precision, "recall": recall, "F1": f1,
            "false at traps": int(total["false at traps"]), "missed": "", "false": "",
            **({"fps": total["frames"] / total["seconds"]} if method in methods else {}),
        })
    return rows

