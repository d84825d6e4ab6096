"""Moving objects and clean material: does the film preset follow things that move inside the
picture (no ghosts), and does it leave clean material alone?

1. Moving objects: each held-out photograph under a camera move with two squares cut from the other
   held-out photographs crossing it at 2-9 px per frame (``bench.interp.cutout_clip``), damaged by
   ``degrade`` without fading (fixed seeds). PSNR against the clean clip for the damaged input, the FFmpeg chains of
   the restore bench and the film preset.
2. Do no harm: clean clips (no damage at all), photographs under camera motion with and without
   moving cut-outs: the film preset's PSNR against its own input (target >= 45 dB) and the ops the
   analysis recommended.
3. Real footage (``../shared/data/footage``, skipped when absent): a no-reference ghosting figure,
   defined in :func:`ghosting`, and a still of the walkers (:func:`footage_table`).
"""

from __future__ import annotations

from typing import Any

import torch

from restoration.bench.interp import cutout_clip
from restoration.bench.restore import (
    FOOTAGE,
    FPS,
    QUICK_STILLS_DIR,
    STILLS_DIR,
    Timer,
    _mean,
    _run_spec,
    _save_still,
)
from restoration.classical import CHAINS, run_filter_chain
from restoration.compare import psnr
from restoration.errors import RestorationError

SPEED = (2.0, 9.0)  # px per frame of the moving cut-outs
# (photograph index, camera motion, damage strength): grey and colour, every strength once or more.
MOVING_CASES = ((0, "pan", "medium"), (1, "mixed", "medium"), (2, "zoom", "heavy"), (0, "shake", "heavy"),
                (1, "pan", "light"))
# (photograph index, camera motion, moving cut-outs)
CLEAN_CASES = ((0, "pan", 0), (1, "zoom", 0), (2, "shake", 0), (0, "mixed", 2), (2, "pan", 2))
GHOST_FOOTAGE = ("a_trip_down_market_street_before_the_fire.mkv",)


def unfaded_params(seed: int, strength: str) -> dict[str, Any]:
    """``degrade``'s damage parameters for ``seed`` without fading: the picture cannot tell faded
    colour from a muted photograph (the grade is the colourist's), so it is no repair's to score."""
    from restoration.degrade.model import sample_params

    return {**sample_params(seed, strength), "fade_amount": 0.0, "fade_desaturation": 0.0}


def _size(quick: bool) -> tuple[int, int, int]:
    return (8, 60, 80) if quick else (16, 240, 320)


def _film(clip: torch.Tensor) -> tuple[torch.Tensor, list[str]]:
    return _run_spec(clip, "film")


def moving_table(quick: bool) -> list[dict[str, Any]]:
    from restoration.degrade import degrade

    frames, height, width = _size(quick)
    rows = []
    for number, (index, motion, strength) in enumerate(MOVING_CASES[: 2 if quick else None]):
        clean = cutout_clip(index, frames=frames, size=(height, width), seed=[70_000 + number], motion=motion,
                            cutouts=2, speed=SPEED)
        damaged = degrade(clean, seed=7_000 + number, params=unfaded_params(7_000 + number, strength)).damaged
        row: dict[str, Any] = {"clip": f"{'grey' if clean.shape[1] == 1 else 'colour'} {index} {motion} {strength}",
                               "input": psnr(damaged, clean)}
        chain_seconds = {}
        for chain in CHAINS:
            with Timer() as chain_timer:
                filtered = run_filter_chain(damaged, chain, fps=FPS)
            chain_seconds[chain] = chain_timer.cpu
            row[f"ffmpeg {chain}"] = psnr(filtered, clean)
        try:
            with Timer() as timer:
                restored, used = _film(damaged)
        except RestorationError as exc:
            rows.append({**row, "error": str(exc)})
            continue
        row["film"] = psnr(restored, clean)
        best = max(row[f"ffmpeg {chain}"] for chain in CHAINS)
        row["film - best ffmpeg"] = row["film"] - best
        row["film - input"] = row["film"] - row["input"]
        row["film fps (CPU)"] = frames / timer.cpu
        # the speed target (issue #19): the film preset against the nlmeans chain, same clip, same process
        row["nlmeans fps (CPU)"] = frames / max(chain_seconds["nlmeans"], 1e-9)
        row["film / nlmeans speed"] = chain_seconds["nlmeans"] / max(timer.cpu, 1e-9)
        row["ops"] = "+".join(used) or "none"
        rows.append(row)
    rows.append(_mean_row(rows))
    return rows


def clean_table(quick: bool) -> list[dict[str, Any]]:
    frames, height, width = _size(quick)
    rows = []
    for number, (index, motion, cutouts) in enumerate(CLEAN_CASES[: 2 if quick else None]):
        clean = cutout_clip(index, frames=frames, size=(height, width), seed=[71_000 + number], motion=motion,
                            cutouts=cutouts, speed=SPEED)
        restored, used = _film(clean)
        rows.append({"clip": f"{'grey' if clean.shape[1] == 1 else 'colour'} {index} {motion}, {cutouts} cut-outs",
                     "film PSNR vs input": psnr(restored, clean), "ops": "+".join(used) or "none"})
    rows.append({"clip": "min", "film PSNR vs input": min(r["film PSNR vs input"] for r in rows), "ops": ""})
    return rows


BORDER = 4  # px: the warp's border padding fails the flow's check on every frame whatever moves
STILL_CROP = (120, 160)  # (height, width) of the walkers' still, before the 2x enlargement


def moving_regions(frames: torch.Tensor) -> torch.Tensor:
    """Where the neighbours cannot stand in for the frame, (T, 1, H, W) bool for ``frames``
    (T, C, H, W): the previous or the next frame, aligned by ``ops.flow``, fails the flow's
    forward-backward check or differs from the frame by more than its grain explains
    (``ops.flow.alike``: occlusions, things moving against the camera, a flow that does not follow
    them). The ``BORDER`` is left out (not moving)."""
    from restoration.ops.denoise import estimate_noise
    from restoration.ops.flow import ChainedFlows, align_neighbours, alike

    flows = ChainedFlows(frames)
    t = frames.shape[0]
    flows.prepare(range(t - 1))
    centres = list(range(t))
    neighbours = [i - 1 if i > 0 else i + 1 for i in centres] + [i + 1 if i < t - 1 else i - 1 for i in centres]
    aligned, confidence = align_neighbours(frames, flows, centres * 2, neighbours)
    tolerance = 3.0 * estimate_noise(frames).repeat(2) + 0.01
    usable = (confidence * alike(aligned, frames.repeat(2, 1, 1, 1), tolerance, radius=1)).view(2, t, 1, *frames.shape[-2:])
    moving = usable.amin(0) < 0.5
    inside = torch.zeros_like(moving)
    inside[..., BORDER:-BORDER, BORDER:-BORDER] = True
    return moving & inside


def ghosting(before: torch.Tensor, after: torch.Tensor, moving: torch.Tensor | None = None) -> dict[str, float]:
    """No-reference ghosting of a restoration ``after`` of ``before`` (both (T, C, H, W)).

    Moving regions are :func:`moving_regions` of ``before`` (or ``moving``, when already computed).
    A restoration that blends neighbours there changes the picture much more than the grain it
    removes elsewhere; one that falls back to the frame itself changes it about as much. Returns
    the mean absolute change |after - before| (8-bit code values, luma) in those regions
    (``moving``) and elsewhere (``still``), their ratio (``ghosting``: ~1 no ghosts, >> 1 moving
    things blended with other frames) and the share of the picture that moves."""
    from restoration.luma import REC601_LUMA, luma

    if moving is None:
        moving = moving_regions(before)
    change = (luma(after, weights=REC601_LUMA) - luma(before, weights=REC601_LUMA)).abs() * 255.0
    # The border is neither moving nor still: not counted.
    change, moving = (x[..., BORDER:-BORDER, BORDER:-BORDER] for x in (change, moving))
    moving_change = float(change[moving].mean()) if bool(moving.any()) else float("nan")
    still_change = float(change[~moving].mean())
    return {"moving": moving_change, "still": still_change, "ghosting": moving_change / max(still_change, 1e-6),
            "moving share": float(moving.float().mean())}


def densest_region(mask: torch.Tensor, size: tuple[int, int]) -> tuple[slice, slice]:
    """The (rows, columns) of the ``size`` window of ``mask`` (H, W) holding the most of it (the
    first such window when several tie); the whole mask's extent where it is smaller."""
    height, width = min(size[0], mask.shape[-2]), min(size[1], mask.shape[-1])
    counts = torch.nn.functional.avg_pool2d(mask.float()[None, None], (height, width), stride=1)[0, 0]
    top, left = divmod(int(counts.flatten().argmax()), counts.shape[-1])
    return slice(top, top + height), slice(left, left + width)


def footage_table(quick: bool) -> list[dict[str, Any]]:
    """The ghosting figure on real footage, and a still of the middle frame where it moves most
    (the scan | the film preset | |difference| x4, at 2x) into the restore bench's stills folder."""
    from restoration.io import read_frames

    stills_dir = QUICK_STILLS_DIR if quick else STILLS_DIR
    rows = []
    for name in GHOST_FOOTAGE:
        path = FOOTAGE / name
        if not path.is_file():
            rows.append({"clip": name, "note": "absent: skipped"})
            continue
        frames = read_frames(path, 0, 6 if quick else 24)
        restored, used = _film(frames)
        moving = moving_regions(frames)
        figures = ghosting(frames, restored, moving)
        rows.append({"clip": name, "frames": frames.shape[0], "moving share": figures["moving share"],
                     "change in moving regions": figures["moving"], "change elsewhere": figures["still"],
                     "ghosting ratio": figures["ghosting"], "ops": "+".join(used) or "none"})
        stills_dir.mkdir(parents=True, exist_ok=True)
        region = densest_region(moving[frames.shape[0] // 2, 0], STILL_CROP)
        _save_still(frames, restored, stills_dir / f"moving-{path.stem}.png", max_width=1000, region=region,
                    zoom=2, difference_gain=4.0)
    return rows


def _mean_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    numeric = [r for r in rows if "error" not in r]
    row: dict[str, Any] = {"clip": "mean"}
    for key in rows[0]:
        if key not in ("clip", "ops") and numeric and all(isinstance(r.get(key), float) for r in numeric):
            row[key] = _mean([r[key] for r in numeric])
    if numeric and "film - input" in numeric[0]:
        row["worst film - input"] = min(r["film - input"] for r in numeric)
    return row


def run(quick: bool) -> dict[str, list[dict[str, Any]]]:
    frames, height, width = _size(quick)
    return {
        f"Engine: moving objects (2 cut-outs crossing at {SPEED[0]:.0f}-{SPEED[1]:.0f} px/frame under a camera move,"
        f" damaged; {frames} frames at {width}x{height}; PSNR dB vs the clean clip)": moving_table(quick),
        f"Engine: do no harm, clean clips ({frames} frames at {width}x{height}; film preset's PSNR dB vs its input)":
            clean_table(quick),
        "Engine: ghosting on real footage (film preset; mean |output - input| in 8-bit luma codes where the flow is"
        " inconsistent and elsewhere)": footage_table(quick),
    }
