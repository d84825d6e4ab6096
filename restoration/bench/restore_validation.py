"""The restoration net's and the film preset's validation clips: where their choices are made.

Never the benches' clips: the three held-out photographs (``models.data.HELD_OUT``, never used in
training) under other camera moves, paths and damage seeds than the restore and moving-object
benches', 16 frames at 320x240, ``degrade`` without fading (a grade is the colourist's):

- 9 clips with two cut-outs crossing at 2-9 px per frame (``bench.interp.cutout_clip`` on seeds
  80000-80008, damage seeds 8000-8008), light, medium and heavy three each;
- 9 still photographs under camera motion (``synthetic_clip`` seeds 500-508, damage 9000-9008).

Each clip is restored by the film preset (the analysis' recommended ops per shot) and scored by
PSNR against the clean clip; for the moving clips also over the moving things only (where the
clean clip's own neighbours cannot stand in, ``bench.moving.moving_regions``).

    OMP_NUM_THREADS=1 python -m restoration.bench.restore_validation [--weights FILE] [--set NAME=VALUE]

``--weights``: a restore net's file instead of the committed one; ``--set``: a module constant of
``analysis.recommend`` for this run (e.g. ``AFTER_NET_DENOISE=1.0``).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

STRENGTHS = ("light", "medium", "heavy")
MOTIONS = ("pan", "zoom", "shake", "mixed")
SIZE = (240, 320)
FRAMES = 16


@dataclass
class Clip:
    name: str
    kind: str  # "moving" | "still"
    strength: str
    clean: torch.Tensor
    damaged: torch.Tensor


def validation_clips(size: tuple[int, int] = SIZE, frames: int = FRAMES) -> list[Clip]:
    """The 18 clips, built from their seeds (a few seconds each)."""
    from restoration.bench.interp import cutout_clip
    from restoration.bench.moving import SPEED, unfaded_params
    from restoration.degrade import degrade, synthetic_clip
    from restoration.models.data import HELD_OUT, split_sources

    _, held_out = split_sources(HELD_OUT)
    clips = []
    for number in range(9):
        index, strength = number % 3, STRENGTHS[number // 3]
        motion = MOTIONS[(number + number // 3) % len(MOTIONS)]
        moving = cutout_clip(index, frames=frames, size=size, seed=[80_000 + number], motion=motion, cutouts=2,
                             speed=SPEED)
        still = synthetic_clip(held_out[index][1], frames=frames, size=size, seed=500 + number, motion=motion)
        for kind, clean, seed in (("moving", moving, 8_000 + number), ("still", still, 9_000 + number)):
            damaged = degrade(clean, seed=seed, params=unfaded_params(seed, strength)).damaged
            clips.append(Clip(f"{kind} {index} {motion} {strength}", kind, strength, clean, damaged))
    return clips


def _psnr_where(a: torch.Tensor, b: torch.Tensor, where: torch.Tensor) -> float:
    error = float(((a - b)[where.expand_as(a)] ** 2).mean()) if bool(where.any()) else 0.0
    return 10 * math.log10(1 / max(error, 1e-12))


def evaluate(clips: list[Clip], restore: Callable[[torch.Tensor], torch.Tensor]) -> dict:
    """``{"rows": [per clip], "means": {group: mean PSNR}}``; groups: each kind, each kind and
    strength, and ``moving things`` (the moving clips' PSNR over their moving regions)."""
    from restoration.bench.moving import moving_regions
    from restoration.compare import psnr

    rows, groups = [], {}
    for clip in clips:
        restored = restore(clip.damaged)
        row = {"clip": clip.name, "input": psnr(clip.damaged, clip.clean), "film": psnr(restored, clip.clean)}
        if clip.kind == "moving":
            moving = moving_regions(clip.clean)
            row["moving things: input"] = _psnr_where(clip.damaged, clip.clean, moving)
            row["moving things: film"] = _psnr_where(restored, clip.clean, moving)
            groups.setdefault("moving things", []).append(row["moving things: film"])
        rows.append(row)
        groups.setdefault(clip.kind, []).append(row["film"])
        groups.setdefault(f"{clip.kind} {clip.strength}", []).append(row["film"])
    return {"rows": rows, "means": {group: sum(values) / len(values) for group, values in groups.items()}}


def film_preset(clip: torch.Tensor) -> torch.Tensor:
    from restoration.bench.restore import _run_spec

    return _run_spec(clip, "film")[0]


def main(argv: list[str] | None = None) -> int:
    from restoration.analysis import recommend
    from restoration.models import learned_ops

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", default=None, help="a restore net's weights file instead of the committed one")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="an analysis.recommend constant for this run (numbers only)")
    args = parser.parse_args(argv)
    if args.weights:
        path = Path(args.weights)
        if not path.is_file():
            parser.error(f"--weights: no such file: {path}")
        learned_ops.WEIGHTS["restore"] = path
    for item in args.set:
        name, _, value = item.partition("=")
        if not name.isupper() or not isinstance(getattr(recommend, name, None), (int, float)):
            parser.error(f"--set: {name!r} is not a numeric constant of analysis.recommend")
        try:
            setattr(recommend, name, float(value))
        except ValueError:
            parser.error(f"--set {name}: expected a number, got {value!r}")
    result = evaluate(validation_clips(), film_preset)
    for row in result["rows"]:
        print("  ".join(f"{k} {v:.2f}" if isinstance(v, float) else str(v) for k, v in row.items()), flush=True)
    for group, value in sorted(result["means"].items()):
        print(f"mean {group}: {value:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
