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

Extra rows: the A-Bomb file decoded as is (fps includes decoding); the silent clips with the
project's heavy synthetic damage (``restoration.degrade``) on top of their own, where every
boundary is false; and the full ``analyse()`` (decode, shots, all metrics, recommendation)
of the silent clips at their native 480x368.

A second table (``restoration/bench/transitions.py``): typed boundaries on hard reels with
every kind of transition and trap, against PySceneDetect.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from restoration.luma import REC601_LUMA, luma

FOOTAGE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "footage"
A_BOMB = "a-bomb-blast-effects-1952.mp4"
A_BOMB_CUTS = (0, 44, 134, 299)
SILENT = (
    "the_great_train_robbery.mkv",
    "within_our_gates.mkv",
    "a_trip_down_market_street_before_the_fire.mkv",
    "san_francisco_earthquake_and_fire.mkv",
)
CUT_TOLERANCE = 1
DISSOLVE_TOLERANCE = 2
DISSOLVE_LENGTHS = (8, 12, 16, 24)  # frames; reel n with a dissolve uses one, in turn
CHUNK = 32


def _load_shots(size: tuple[int, int]) -> list[tuple[str, torch.Tensor, bool]]:
    """(name, frames as uint8 (T, 1, H, W), damaged?) for the eight shots, resized to ``size``."""
    from restoration.io import read_frames

    def prepared(frames: torch.Tensor) -> torch.Tensor:
        grey = luma(frames, weights=REC601_LUMA)  # Rec. 601, as the shot detector it measures
        out = [F.interpolate(part, size=size, mode="area") for part in grey.split(64)]
        return (torch.cat(out) * 255).round().to(torch.uint8)

    shots = []
    a_bomb = prepared(read_frames(FOOTAGE / A_BOMB))
    bounds = list(A_BOMB_CUTS) + [a_bomb.shape[0]]
    for number, (start, end) in enumerate(itertools.pairwise(bounds), 1):
        shots.append((f"a-bomb shot {number}", a_bomb[start:end], False))
    for name in SILENT:
        shots.append((name.split(".")[0], prepared(read_frames(FOOTAGE / name)), True))
    return shots


def _build_reel(shots, order: list[int], dissolve_after: int | None, dissolve_length: int = 12):
    """Concatenate shots in ``order``; optionally cross-dissolve out of the shot at that position.

    Returns (uint8 frames, true boundaries [(frame, kind)], damaged spans [(start, end)]).
    """
    parts: list[torch.Tensor] = []
    truths: list[tuple[int, str]] = []
    damaged: list[tuple[int, int]] = []
    position = 0
    carry: torch.Tensor | None = None  # incoming shot's remaining frames after a dissolve
    for index, shot_index in enumerate(order):
        _, frames, is_damaged = shots[shot_index]
        start = position
        after_dissolve = carry is not None
        if carry is not None:
            frames, carry = carry, None
        if index > 0 and not after_dissolve:
            truths.append((start, "cut"))
        if index == dissolve_after and index + 1 < len(order):
            incoming = shots[order[index + 1]][1]
            keep = frames[:-dissolve_length]
            alpha = torch.linspace(0, 1, dissolve_length + 2)[1:-1].view(-1, 1, 1, 1)
            blend = ((1 - alpha) * frames[-dissolve_length:].float() + alpha * incoming[:dissolve_length].float())
            parts += [keep, blend.round().to(torch.uint8)]
            position += keep.shape[0] + dissolve_length
            truths.append((start + keep.shape[0] + dissolve_length // 2, "dissolve"))
            carry = incoming[dissolve_length:]
            if is_damaged:
                damaged.append((start, start + keep.shape[0] - 1))
            continue
        parts.append(frames)
        position += frames.shape[0]
        if is_damaged:
            damaged.append((start, position - 1))
    return torch.cat(parts), truths, damaged


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
    precision = true_positive / len(boundaries) if boundaries else 1.0
    recall = true_positive / len(truths) if truths else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
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


def _as_filed_row() -> dict:
    """The A-Bomb file itself, decoded at its own size (432x320), against its known cuts."""
    from restoration.analysis import detect_shots
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


def _degraded_row(shots, quick: bool) -> dict:
    """The silent clips with ``restoration.degrade``'s heavy synthetic damage added on top of
    their own: every boundary found is false (each clip is one shot)."""
    from restoration.analysis import detect_shots
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
    return _no_cut_row(f"silent clips + heavy degrade, {len(seeds)} seed(s)", frames, false_cuts, seconds)


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
    return _no_cut_row(f"analyse(): {len(names)} silent clip(s), 480x368, decode + metrics", frames, false_cuts,
                       seconds)


def _no_cut_row(reel: str, frames: int, false_cuts: int, seconds: float) -> dict:
    """A row for clips that hold no cut: every boundary found is a false one."""
    return {
        "reel": reel,
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
    from restoration.analysis import detect_shots
    from restoration.analysis.shots import single_threaded

    if not FOOTAGE.is_dir():
        return [{"note": f"footage folder {FOOTAGE} is absent: shot benchmark skipped"}]
    size = (144, 192) if quick else (288, 384)
    shots = _load_shots(size)
    reels = 2 if quick else 16
    rng = random.Random(20)
    rows = []
    totals = {"true": 0, "found": 0, "tp": 0, "false in damaged": 0, "frames": 0, "seconds": 0.0}
    for number in range(reels):
        order = list(range(len(shots)))
        rng.shuffle(order)
        dissolve_after = rng.randrange(len(order) - 1) if number % 2 else None
        length = DISSOLVE_LENGTHS[(number // 2) % len(DISSOLVE_LENGTHS)]
        reel, truths, damaged = _build_reel(shots, order, dissolve_after, length)
        with single_threaded():
            started = time.perf_counter()
            detected = detect_shots(_chunks(reel))
            seconds = time.perf_counter() - started
        result = score(detected, truths, damaged)
        rows.append(
            {
                "reel": f"{number + 1}" + (f" (dissolve {length})" if dissolve_after is not None else ""),
                "frames": reel.shape[0],
                "cuts": len(truths),
                "found": result["found"],
                "precision": result["precision"],
                "recall": result["recall"],
                "F1": result["f1"],
                "false in damaged": result["false in damaged"],
                "missed": " ".join(map(str, result["missed"])) or "-",
                "false": " ".join(map(str, result["false"])) or "-",
                "fps": reel.shape[0] / seconds,
            }
        )
        for key in ("true", "found", "tp", "false in damaged"):
            totals[key] += result[key]
        totals["frames"] += reel.shape[0]
        totals["seconds"] += seconds
    precision = totals["tp"] / totals["found"] if totals["found"] else 1.0
    recall = totals["tp"] / totals["true"] if totals["true"] else 1.0
    rows.append(
        {
            "reel": f"all ({size[1]}x{size[0]})",
            "frames": totals["frames"],
            "cuts": totals["true"],
            "found": totals["found"],
            "precision": precision,
            "recall": recall,
            "F1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "false in damaged": totals["false in damaged"],
            "missed": "",
            "false": "",
            "fps": totals["frames"] / totals["seconds"],
        }
    )
    rows.append(_as_filed_row())
    rows.append(_degraded_row(shots, quick))
    rows.append(_analyse_row(quick))
    from restoration.bench import transitions

    return {"shots": rows, "Engine: shots, typed transitions on hard reels": transitions.run(quick, _load_shots)}


if __name__ == "__main__":  # python restoration/bench/shots.py [--quick]
    import sys

    for table in run("--quick" in sys.argv).values():
        for row in table:
            print(row)
