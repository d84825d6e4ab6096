"""The shot detector's validation reels: where its choices (weights, combined rules) are made.

Never the benches' reels (seeds 1-6 and 20, degradation seeds 500-505) nor the training's (1000
onwards, textures 5000 onwards):

- 16 hard reels built like the typed-transitions bench's (``build_hard_reel`` on seeds 200-215,
  192x144), each with its own draw of 12 photographs (``random.Random(seed)``), ``degrade`` heavy
  on seeds 900-915;
- 8 cut reels of the eight footage shots (order, dissolve place and length 4-30 by
  ``random.Random(300 + i)``, 384x288).

Each reel is fed once to a ``ShotDetector``, which is pickled with the reel's truths under
``--cache`` (default ``/tmp/shot_validation``): the decisions (``transitions(method)``) then run in
a second. Scores as the benches' (``restoration.bench.transitions.score``,
``restoration.bench.shots.score``), plus false boundaries inside shots (hard reels: every false
one; cut reels: those inside a shot).

    OMP_NUM_THREADS=1 python -m restoration.bench.shots_validation [--methods combined,learned]
"""

from __future__ import annotations

import argparse
import pickle
import random
from pathlib import Path
from typing import Any

import torch

HARD_SEEDS = range(200, 216)
CUT_SEEDS = range(300, 308)
HARD_SIZE = (144, 192)
CUT_SIZE = (288, 384)
CUT_DISSOLVES = (4, 6, 8, 12, 16, 20, 24, 30)


def _fed(frames: torch.Tensor):
    from restoration.analysis.shots import ShotDetector, single_threaded

    detector = ShotDetector()
    with single_threaded():
        for chunk in frames.split(32):
            detector.feed(chunk.float())
    return detector


def validation_reels(cache: Path, log=print) -> list[dict[str, Any]]:
    """[{"name", "kind" ("hard" | "cut"), "detector", truths...}] for every validation reel,
    built and fed once, then read from ``cache``."""
    from restoration.analysis.shot_reels import Reel, build_cut_reel, load_shots, photograph_clips
    from restoration.bench.transitions import damaged_hard_reel, hard_reel_footage

    cache.mkdir(parents=True, exist_ok=True)
    sources: dict[tuple[int, int], list] = {}

    def shots(size):
        if size not in sources:
            sources[size] = load_shots(size)
        return sources[size]

    reels = []
    for seed in HARD_SEEDS:
        path = cache / f"hard_{seed}.pkl"
        if not path.exists():
            pictures = photograph_clips(HARD_SIZE, 12, random.Random(seed))
            reel, damaged = damaged_hard_reel(seed, HARD_SIZE, hard_reel_footage(shots(HARD_SIZE)), pictures,
                                              damage_seed=700 + seed)
            entry = {"name": f"hard {seed}", "kind": "hard", "detector": _fed(damaged),
                     "reel": Reel(truths=reel.truths, traps=reel.traps)}
            path.write_bytes(pickle.dumps(entry))
            log(f"built {entry['name']}: {damaged.shape[0]} frames")
        reels.append(pickle.loads(path.read_bytes()))
    for seed in CUT_SEEDS:
        path = cache / f"cut_{seed}.pkl"
        if not path.exists():
            footage = shots(CUT_SIZE)
            rng = random.Random(seed)
            order = list(range(len(footage)))
            rng.shuffle(order)
            dissolve_after, length = rng.randrange(len(order) - 1), rng.choice(CUT_DISSOLVES)
            frames, truths, damaged = build_cut_reel(footage, order, dissolve_after, length)
            entry = {"name": f"cut {seed} (dissolve {length})", "kind": "cut", "detector": _fed(frames.float() / 255),
                     "truths": truths, "damaged": damaged}
            path.write_bytes(pickle.dumps(entry))
            log(f"built {entry['name']}: {frames.shape[0]} frames")
        reels.append(pickle.loads(path.read_bytes()))
    return reels


def evaluate(reels: list[dict[str, Any]], method: str, decide=None) -> dict[str, Any]:
    """Totals per reel kind (precision, recall, F1, typed share, false boundaries) and per-reel
    errors; ``decide(detector)`` replaces ``detector.transitions(method)`` (trying a variant)."""
    from restoration.bench import precision_recall_f1, shots, transitions

    totals: dict[str, dict[str, Any]] = {}
    for entry in reels:
        detector = entry["detector"]
        found = decide(detector) if decide else detector.transitions(method)
        total = totals.setdefault(entry["kind"], {"true": 0, "found": 0, "matched": 0, "typed": 0, "false": 0,
                                                  "false at traps": 0, "errors": []})
        if entry["kind"] == "hard":
            result = transitions.score(found, entry["reel"])
            total["typed"] += result["typed"]
            total["false at traps"] += result["false at traps"]
            false = 0 if result["false"] == "-" else len(result["false"].split())
            mistyped = result["matched"] - result["typed"]
            if result["missed"] != "-" or false or mistyped:
                total["errors"].append(f"{entry['name']}: missed {result['missed']} false {result['false']}"
                                       + (f" mistyped {mistyped}" if mistyped else ""))
        else:
            result = shots.score([t.frame for t in found], entry["truths"], entry["damaged"])
            result["matched"] = result["tp"]
            false = len(result["false"])
            total["false at traps"] += result["false in damaged"]
            if result["missed"] or false:
                total["errors"].append(f"{entry['name']}: missed {result['missed']} false {result['false']}")
        total["false"] += false
        for key in ("true", "found", "matched"):
            total[key] += result[key]
    for total in totals.values():
        precision, recall, f1 = precision_recall_f1(total["matched"], total["found"], total["true"])
        total.update(precision=precision, recall=recall, F1=f1)
    return totals


def summary(totals: dict[str, Any]) -> str:
    lines = []
    for kind, t in totals.items():
        typed = f" typed {t['typed']}/{t['matched']}" if kind == "hard" else ""
        lines.append(f"{kind}: P {t['precision']:.3f} R {t['recall']:.3f} F1 {t['F1']:.3f} "
                     f"({t['matched']}/{t['true']} found {t['found']}){typed} false {t['false']} "
                     f"({'at traps' if kind == 'hard' else 'in damaged shots'} {t['false at traps']})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", default="classical,learned,combined")
    parser.add_argument("--cache", default="/tmp/shot_validation")
    parser.add_argument("--errors", action="store_true", help="list each reel's misses and false boundaries")
    args = parser.parse_args()
    reels = validation_reels(Path(args.cache))
    for method in args.methods.split(","):
        totals = evaluate(reels, method)
        print(f"== {method}\n{summary(totals)}")
        if args.errors:
            for t in totals.values():
                print("\n".join("  " + e for e in t["errors"]))


if __name__ == "__main__":
    main()
