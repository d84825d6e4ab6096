"""Frame interpolation: frames left out of a clip, made again from their neighbours, scored
against the real ones.

1. Synthetic, held out: each photograph of ``models.data.HELD_OUT`` under camera motion, with
   another held-out photograph cut out and moving across it on its own path (it covers and
   uncovers the background), at 240x320 (``models.data.interp_example``, fixed seeds, no grain).
   The clip's frames stand for a fast source: every other frame left out and made again half way
   between its neighbours is what 24 -> 48 fps asks of the real source; two of every three left
   out and made at 1/3 and 2/3 of the way is what 16 -> 24 fps asks (its output frames fall at
   those positions between two source frames).
2. Real footage (``../shared/data/footage``, skipped when absent): the first 24 frames of each
   silent clip; every odd frame is made from the two even frames around it. Film grain cannot
   be predicted, so no method gets near the synthetic figures; the ranking is what counts. (The
   a-bomb file is left out: it was telecined to 29.97 fps by repeating every fourth frame, so a
   left-out frame is often a copy of its neighbour and repeating a frame scores best.)

Methods: ``nearest`` (repeat the earlier frame: what a frame-rate change by duplication shows),
``blend`` (cross-fade), ``classical`` (``ops.interpolate``'s motion-compensated method) and
``learned`` (the same, refined by the interpolation net of ``restoration.models``).
Speed: milliseconds of CPU per made frame, at the clips' own sizes.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from restoration.bench.restore import FOOTAGE, _mean
from restoration.compare import psnr, ssim

METHODS = ("nearest", "blend", "classical", "learned")
# (protocol, frames from the first input to the second, frames from the first to the made one)
GAPS = (("1 of 2 frames out (as 24 -> 48 fps)", 2, 1), ("2 of 3 frames out (as 16 -> 24 fps)", 3, 1),
        ("2 of 3 frames out (as 16 -> 24 fps)", 3, 2))
FOOTAGE_CLIPS = (
    "a_trip_down_market_street_before_the_fire.mkv",
    "within_our_gates.mkv",
    "the_great_train_robbery.mkv",
    "san_francisco_earthquake_and_fire.mkv",
)


def _made(method: str, first: torch.Tensor, second: torch.Tensor, fraction: float) -> torch.Tensor:
    from restoration.op_registry import interpolation_refine
    from restoration.ops.interpolate import interpolate_frames

    if method == "nearest":
        return first.clone() if fraction < 1 else second.clone()
    if method == "blend":
        return (1 - fraction) * first + fraction * second
    return interpolate_frames(torch.cat([first, second]), [fraction], refine=interpolation_refine(method))


def _score(pairs: list[tuple[torch.Tensor, torch.Tensor, float, torch.Tensor]]) -> dict[str, dict[str, float]]:
    """pairs of (first, second, fraction, true frame) -> {method: {psnr, ssim, ms}}."""
    out = {}
    for method in METHODS:
        made, cpu = [], 0.0
        for first, second, fraction, _ in pairs:
            started = time.process_time()
            made.append(_made(method, first, second, fraction))
            cpu += time.process_time() - started
        truth = [pair[3] for pair in pairs]
        out[method] = {
            "psnr": _mean([psnr(m, t) for m, t in zip(made, truth, strict=True)]),
            "ssim": _mean([ssim(m, t) for m, t in zip(made, truth, strict=True)]),
            "ms": 1000 * cpu / max(1, len(pairs)),
        }
    return out


def cutout_clip(index: int, *, frames: int, size: tuple[int, int], seed: Any, motion: str = "mixed",
                cutouts: int = 1, speed: tuple[float, float] | None = None) -> torch.Tensor:
    """A clean clip of held-out photograph ``index`` under camera ``motion``, with ``cutouts``
    squares cut from the next held-out photographs moving across it on straight paths
    (``models.data.moving_cutout``; ``speed`` in px per frame); ``seed`` seeds the paths."""
    import numpy as np

    from restoration.degrade import synthetic_clip
    from restoration.models.data import HELD_OUT, moving_cutout, split_sources

    _, valid = split_sources(HELD_OUT)
    image = valid[index % len(valid)][1]
    rng = np.random.default_rng(seed)
    clip = synthetic_clip(image, frames=frames, size=size, seed=60_000 + index, motion=motion)
    side = min(size) // 3
    for k in range(cutouts):
        cutout = valid[(index + 1 + k) % len(valid)][1]
        clip = moving_cutout(clip, cutout[:, :side, :side].float(), rng, speed=speed)
    return clip


def _synthetic_pairs(quick: bool, span: int, offset: int) -> list[tuple[torch.Tensor, torch.Tensor, float, torch.Tensor]]:
    from restoration.models.data import HELD_OUT

    size = (48, 64) if quick else (240, 320)
    pairs = []
    for index in range(2 if quick else len(HELD_OUT)):
        clip = cutout_clip(index, frames=7 if quick else 25, size=size, seed=[60_000 + index, span])
        for start in range(0, clip.shape[0] - span, span):
            first, second = clip[start:start + 1], clip[start + span:start + span + 1]
            pairs.append((first, second, offset / span, clip[start + offset:start + offset + 1]))
    return pairs


def _footage_pairs(name: str, frames: int) -> list[tuple[torch.Tensor, torch.Tensor, float, torch.Tensor]]:
    from restoration import io

    clip = io.read_frames(FOOTAGE / name, 0, frames)
    return [(clip[i - 1:i], clip[i + 1:i + 2], 0.5, clip[i:i + 1]) for i in range(1, clip.shape[0] - 1, 2)]


def _row(label: str, scores: dict[str, dict[str, float]], frames: int) -> dict[str, Any]:
    row: dict[str, Any] = {"clip": label, "made frames": frames}
    for method in METHODS:
        row[f"PSNR {method}"] = scores[method]["psnr"]
    for method in METHODS:
        row[f"SSIM {method}"] = scores[method]["ssim"]
    row["ms/frame classical"] = scores["classical"]["ms"]
    row["ms/frame learned"] = scores["learned"]["ms"]
    return row


def _mean_row(label: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {"clip": label, "made frames": sum(r["made frames"] for r in rows)}
    for key in rows[0]:
        if key not in row:
            row[key] = _mean([r[key] for r in rows])
    return row


def run(quick: bool) -> dict[str, list[dict[str, Any]]]:
    synthetic = []
    for label, span, offset in GAPS:
        pairs = _synthetic_pairs(quick, span, offset)
        synthetic.append(_row(f"{label}, {offset}/{span} of the way", _score(pairs), len(pairs)))
    synthetic.append(_mean_row("mean", synthetic))
    tables = {"Engine: frame interpolation, held-out photographs with a moving cut-out (PSNR dB / SSIM vs the true frame)":
              synthetic}
    footage = []
    for name in FOOTAGE_CLIPS[: 1 if quick else None]:
        if not (FOOTAGE / name).is_file():
            continue
        pairs = _footage_pairs(name, 5 if quick else 24)
        footage.append(_row(name, _score(pairs), len(pairs)))
    if footage:
        footage.append(_mean_row("mean", footage))
        tables["Engine: frame interpolation on real footage, every odd frame made from the even ones (PSNR dB / SSIM)"] = footage
    return tables
