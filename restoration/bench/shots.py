"""Shot-detection benchmark on reels cut together from the shared archival footage.

The shots: the four shots of *A-Bomb Blast Effects* (cut at its known boundaries 0, 44, 134,
299) and the four one-shot silent clips, whose real damage (flicker, burns, blotches, dust,
scratches, weave) must not be taken for cuts. Each reel puts the eight shots in a seeded
order, resized to a common size; every other reel joins one pair of shots with a linear
cross-dissolve (8, 12, 16 or 24 frames) instead of a cut. Reels are streamed to the detector in chunks.

Scores: a detected boundary within +-1 frame of a true cut counts (+-2 of a dissolve's
middle frame, which is where the detector reports dissolves); each true boundary is matched
at most once. "false in damaged" counts false boundaries strictly inside a silent-era shot.
fps is frames per second of ``detect_shots`` alone (reels prepared beforehand), one thread.
Each reel is measured with each detector (``method``: classical rules, learned net, the two
combined: the default); the
reels are built by ``restoration.analysis.shot_reels`` (order seed 20; the learned detector's
training reels use other seeds).

Extra rows: the A-Bomb file decoded as is (fps includes decoding); the silent clips with the
project's heavy synthetic damage (``restoration.degrade``) on top of their own, where every
boundary is false; and the full ``analyse()`` (decode, shots, all metrics, recommendation)
of the silent clips at their native 480x368.

A second table (``restoration/bench/transitions.py``): typed boundaries on hard reels with
every kind of transition and trap, against PySceneDetect.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch

from restoration.analysis.shot_reels import A_BOMB, A_BOMB_CUTS, FOOTAGE, SILENT, build_cut_reel, load_shots
from restoration.bench import precision_recall_f1

__all__ = ["FOOTAGE", "SILENT", "A_BOMB", "run", "score"]

CUT_TOLERANCE = 1
DISSOLVE_TOLERANCE = 2
DISSOLVE_LENGTHS = (8, 12, 16, 24)  # frames; reel n with a dissolve uses one, in turn
CHUNK = 32


def _chunks(reel: torch.Tensor) -> Iterator[torch.Tensor]:
    for part in reel.split(CHUNK):
        yield part.float() / 255


def score(detected: list[int], truths: list[tuple[int, str]], damaged: list[tuple[int, int]]) -> dict[str, Any]:
    """Precision, recall, F1 of boundaries (frame 0 is not a boundary) and false ones in damaged shots."""
    boundaries = [b for b in detected if b != 0]
    unmatched = list(truths)
    true_positive = 0
    false_boundaries = []
    for b in boundaries:
        match = next(
            (t for t in unmatched if abs(b - t[0]) <= (DISSOLVE_TOLERANCE if t[1] == "dissolve" else CUT_TOLERANCE)),
            None,
        )
        if match is None:
            false_boundaries.append(b)
        else:
            unmatched.remove(match)
            true_positive += 1
    precision, recall, f1 = precision_recall_f1(true_positive, len(boundaries), len(truths))
    inside_damaged = sum(
        1 for b in false_boundaries if any(start + CUT_TOLERANCE < b <= end - CUT_TOLERANCE for start, end in damaged)
    )
    return {
        "true": len(truths),
        "found": len(boundaries),
        "tp": true_positive,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false in damaged": inside_damaged,
        "missed": [t[0] for t in unmatched],
        "false": false_boundaries,
    }


def detectors() -> dict[str, Callable[[Any], list[int]]]:
    """The shot detectors measured, by name: each takes frames as ``detect_shots`` does and gives
    the first frame of each shot."""
    from restoration.analysis.shots import METHODS, detect_shots

    return {method: functools.partial(detect_shots, method=method) for method in METHODS}


def _as_filed_row(method: str, detect_shots: Callable[[Any], list[int]]) -> dict:
    """The A-Bomb file itself, decoded at its own size (432x320), against its known cuts."""
    from restoration.analysis.shots import single_threaded
    from restoration.io import iter_chunks, probe

    frame_count = probe(FOOTAGE / A_BOMB).frame_count
    with single_threaded():
        started = time.perf_counter()
        detected = detect_shots(iter_chunks(FOOTAGE / A_BOMB, CHUNK))
        seconds = time.perf_counter() - started
    truths = [(cut, "cut") for cut in A_BOMB_CUTS[1:]]
    result = score(detected, truths, [])
    return {
        "reel": "a-bomb file as is (decode included)",
        "method": method,
        "frames": frame_count,
        "cuts": len(truths),
        "found": result["found"],
        "precision": result["precision"],
        "recall": result["recall"],
        "F1": result["f1"],
        "false in damaged": 0,
        "missed": " ".join(map(str, result["missed"])) or "-",
        "false": " ".join(map(str, result["false"])) or "-",
        "fps": frame_count / seconds,
    }


def _degraded_row(shots, quick: bool, method: str, detect_shots: Callable[[Any], list[int]]) -> dict:
    """The silent clips with ``restoration.degrade``'s heavy synthetic damage added on top of
    their own: every boundary found is false (each clip is one shot)."""
    from restoration.analysis.shots import single_threaded
    from restoration.degrade import degrade

    seeds = range(1) if quick else range(3)
    frames = false_cuts = 0
    seconds = 0.0
    for _, clip, is_damaged in shots:
        if not is_damaged:
            continue
        for seed in seeds:
            with single_threaded():
                damaged = degrade(clip.float() / 255, seed=seed, strength="heavy").damaged
                started = time.perf_counter()
                false_cuts += len(detect_shots(damaged.split(CHUNK))) - 1
                seconds += time.perf_counter() - started
            frames += clip.shape[0]
    return {**_no_cut_row(f"silent clips + heavy degrade, {len(seeds)} seed(s)", frames, false_cuts, seconds),
            "method": method}


def _analyse_row(quick: bool) -> dict:
    """Full ``analyse()`` (shots + all metrics + recommendation) of the silent clips at 480x368."""
    from restoration.analysis import analyse

    names = SILENT[:1] if quick else SILENT
    frames = 0
    false_cuts = 0
    started = time.perf_counter()
    for name in names:
        report = analyse(FOOTAGE / name)
        frames += report["frame_count"]
        false_cuts += len(report["shots"]) - 1
    seconds = time.perf_counter() - started
    return {**_no_cut_row(f"analyse(): {len(names)} silent clip(s), 480x368, decode + metrics", frames, false_cuts,
                          seconds), "method": "analyse() default"}


def _no_cut_row(reel: str, frames: int, false_cuts: int, seconds: float) -> dict:
    """A row for clips that hold no cut: every boundary found is a false one."""
    return {
        "reel": reel,
        "method": "",
        "frames": frames,
        "cuts": 0,
        "found": false_cuts,
        "precision": float("nan"),
        "recall": float("nan"),
        "F1": float("nan"),
        "false in damaged": false_cuts,
        "missed": "-",
        "false": "-",
        "fps": frames / seconds,
    }


def run(quick: bool) -> dict[str, list[dict]]:
    from restoration.analysis.shots import single_threaded

    if not FOOTAGE.is_dir():
        return {"shots": [{"note": f"footage folder {FOOTAGE} is absent: shot benchmark skipped"}]}
    size = (144, 192) if quick else (288, 384)
    shots = load_shots(size)
    reels = 2 if quick else 16
    rng = random.Random(20)
    built = []
    for number in range(reels):
        order = list(range(len(shots)))
        rng.shuffle(order)
        dissolve_after = rng.randrange(len(order) - 1) if number % 2 else None
        length = DISSOLVE_LENGTHS[(number // 2) % len(DISSOLVE_LENGTHS)]
        name = f"{number + 1}" + (f" (dissolve {length})" if dissolve_after is not None else "")
        built.append((name, *build_cut_reel(shots, order, dissolve_after, length)))
    rows, summaries, extra = [], [], []
    for method, detect_shots in detectors().items():
        totals = {"true": 0, "found": 0, "tp": 0, "false in damaged": 0, "frames": 0, "seconds": 0.0}
        for name, reel, truths, damaged in built:
            with single_threaded():
                started = time.perf_counter()
                detected = detect_shots(_chunks(reel))
                seconds = time.perf_counter() - started
            result = score(detected, truths, damaged)
            rows.append({
                "reel": name, "method": method, "frames": reel.shape[0], "cuts": len(truths), "found": result["found"],
                "precision": result["precision"], "recall": result["recall"], "F1": result["f1"],
                "false in damaged": result["false in damaged"],
                "missed": " ".join(map(str, result["missed"])) or "-",
                "false": " ".join(map(str, result["false"])) or "-",
                "fps": reel.shape[0] / seconds,
            })
            for key in ("true", "found", "tp", "false in damaged"):
                totals[key] += result[key]
            totals["frames"] += reel.shape[0]
            totals["seconds"] += seconds
        precision, recall, f1 = precision_recall_f1(totals["tp"], totals["found"], totals["true"])
        summaries.append({
            "reel": f"all ({size[1]}x{size[0]})", "method": method, "frames": totals["frames"], "cuts": totals["true"],
            "found": totals["found"], "precision": precision, "recall": recall, "F1": f1,
            "false in damaged": totals["false in damaged"], "missed": "", "false": "",
            "fps": totals["frames"] / totals["seconds"],
        })
        extra += [_as_filed_row(method, detect_shots), _degraded_row(shots, quick, method, detect_shots)]
    rows += summaries + extra
    rows.append(_analyse_row(quick))
    from restoration.bench import transitions

    return {"shots": rows, "Engine: shots, typed transitions on hard reels": transitions.run(quick, load_shots)}


if __name__ == "__main__":  # python restoration/bench/shots.py [--quick]
    import sys

    for table in run("--quick" in sys.argv).values():
        for row in table:
            print(row)
