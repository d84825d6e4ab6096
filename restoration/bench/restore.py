"""Restoration benchmark: full-reference scores on synthetic damage, no-reference figures on real footage.

1. Synthetic: clips of clean real photographs (``degrade.clean_sources`` + ``synthetic_clip``)
   damaged by ``degrade`` at light / medium / heavy with fixed seeds. Each method restores the
   damaged clip; PSNR and SSIM are measured against the clean clip, fps over the whole run.
   Methods: the damaged input itself, three classical FFmpeg chains, each of our ops alone, and
   the presets (``film`` includes its analysis in its time).
2. Real footage (``../shared/data/footage``, skipped when absent): analysis and film-preset
   fps, no-reference figures before and after, and before/after stills saved as PNGs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from restoration.classical import CHAINS, run_filter_chain
from restoration.compare import psnr, ssim
from restoration.errors import RestorationError
from restoration.op_registry import list_ops
from restoration.pipeline import run_pipeline

REPO_ROOT = Path(__file__).resolve().parents[2]
FOOTAGE = REPO_ROOT / ".." / "shared" / "data" / "footage"
STILLS_DIR = REPO_ROOT / "docs" / "img"
QUICK_STILLS_DIR = REPO_ROOT / "bench-out"  # a quick run must not overwrite the documented stills
STRENGTHS = ("light", "medium", "heavy")
FPS = 24.0
# Ops worth scoring alone on film damage (colour primitives and upscaling are not repairs).
SINGLE_OPS = ("denoise", "dust", "scratch", "deflicker", "stabilise", "deblock", "learned_restore")
PRESETS = ("clean", "film")
# The film preset's analysis-driven chain with classical ops only: the reference for what the
# learned ops add (the `clean` preset is a fixed chain and scores lower).
FILM_CLASSICAL = "preset film, classical ops only"
# No-reference figures from the analysis' per-shot metrics: (column, metric key).
# (flicker: relative brightness wobble; dust: spike-pixel fraction; scratch: line scratches per
# frame; noise: grain sigma; weave: jitter in pixels; see restoration/analysis/metrics.py.)
NO_REFERENCE = (("flicker", "flicker"), ("dust", "dust"), ("scratch", "scratch"), ("noise", "noise"), ("weave", "weave"))


@dataclass(frozen=True)
class Sizes:
    photos: int
    frames: int
    height: int
    width: int
    footage_clips: int  # how many of the real clips to restore (all are listed in FOOTAGE_ORDER)
    footage_frames: int


# Sized so a full run stays under ten minutes on 2 CPU cores: big enough for motion estimation
# and temporal windows to behave as on real shots. Raise these on a bigger machine.
FULL = Sizes(photos=3, frames=16, height=240, width=320, footage_clips=2, footage_frames=24)
QUICK = Sizes(photos=2, frames=4, height=48, width=64, footage_clips=1, footage_frames=3)
# Real clips in order of interest: strong flicker and scratches first, then the heavy blotch.
FOOTAGE_ORDER = (
    "a_trip_down_market_street_before_the_fire.mkv",
    "within_our_gates.mkv",
    "a-bomb-blast-effects-1952.mp4",
    "the_great_train_robbery.mkv",
    "san_francisco_earthquake_and_fire.mkv",
)


@dataclass
class Case:
    name: str
    strength: str
    clean: torch.Tensor
    damaged: torch.Tensor


@dataclass
class Score:
    psnr: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STRENGTHS})
    ssim: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STRENGTHS})
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    frames: int = 0
    ops_used: set[str] = field(default_factory=set)
    per_case: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    def add(self, case: Case, restored: torch.Tensor, timer: Timer) -> None:
        self.psnr[case.strength].append(psnr(restored, case.clean))
        self.ssim[case.strength].append(ssim(restored, case.clean))
        self.wall_seconds += timer.wall
        self.cpu_seconds += timer.cpu
        self.frames += case.damaged.shape[0]

    def mean_psnr(self) -> float:
        return _mean([v for values in self.psnr.values() for v in values])

    def mean_ssim(self) -> float:
        return _mean([v for values in self.ssim.values() for v in values])

    def fps(self) -> float:
        """Frames per CPU-second of this process (all its threads): steady on a shared machine."""
        return self.frames / self.cpu_seconds if self.cpu_seconds > 0 else math.inf

    def wall_fps(self) -> float:
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else math.inf


class Timer:
    """Wall and process CPU time of a block. CPU time counts every thread of this process (torch's,
    FFmpeg's), so frames per CPU-second compare methods fairly while other work shares the cores."""

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def case_recipes(sizes: Sizes) -> list[tuple[str, str, torch.Tensor, int]]:
    """(name, strength, clean clip, damage seed) of each case: each photo at each strength; seeds
    fixed so every run scores the same clips."""
    from restoration.degrade import clean_sources, synthetic_clip
    from restoration.models.data import HELD_OUT

    # Only photographs the learned models never saw in training, so every method is scored fairly.
    sources = _pick_sources([s for s in clean_sources() if s[0] in HELD_OUT], sizes.photos)
    motions = ("pan", "zoom", "shake", "mixed")
    recipes = []
    for index, (name, image) in enumerate(sources):
        clean = synthetic_clip(
            image, frames=sizes.frames, size=(sizes.height, sizes.width), seed=index, motion=motions[index % len(motions)]
        )
        for level, strength in enumerate(STRENGTHS):
            recipes.append((f"{name}-{strength}", strength, clean, 1000 + 10 * index + level))
    return recipes


def make_cases(sizes: Sizes) -> list[Case]:
    from restoration.degrade import degrade

    cases = []
    for name, strength, clean, seed in case_recipes(sizes):
        damage = degrade(clean, seed=seed, strength=strength)
        cases.append(Case(name, strength, damage.clean, damage.damaged))
    return cases


def _pick_sources(sources: list[tuple[str, torch.Tensor]], count: int) -> list[tuple[str, torch.Tensor]]:
    # Alternate grey and colour so both kinds of film are scored.
    grey = [s for s in sources if s[1].shape[0] == 1]
    colour = [s for s in sources if s[1].shape[0] == 3]
    picked = []
    while len(picked) < count and (grey or colour):
        for pool in (grey, colour):
            if pool and len(picked) < count:
                picked.append(pool.pop(0))
    return picked


def methods() -> list[tuple[str, Callable[[torch.Tensor], tuple[torch.Tensor, list[str]]]]]:
    registered = {op.name for op in list_ops()}
    found: list[tuple[str, Callable]] = [("damaged input", lambda clip: (clip, []))]
    for chain in CHAINS:
        found.append((f"ffmpeg {chain}", lambda clip, chain=chain: (run_filter_chain(clip, chain, fps=FPS), [])))
    for op in SINGLE_OPS:
        if op in registered:
            found.append((f"op {op}", lambda clip, op=op: _run_spec(clip, {"ops": [{"op": op}]})))
    for preset in PRESETS:
        found.append((f"preset {preset}", lambda clip, preset=preset: _run_spec(clip, preset)))
    found.append((FILM_CLASSICAL, _run_film_classical))
    return found


def _run_film_classical(clip: torch.Tensor) -> tuple[torch.Tensor, list[str]]:
    """The film preset's analysis and rules with the learned ops left out: our best classical chain."""
    from restoration.analysis import analyse, recommend_pipeline

    shots = analyse(clip, fps=FPS)["shots"]
    for shot in shots:
        shot["recommended_pipeline"] = recommend_pipeline(shot["metrics"], learned=False)
    return _run_spec(clip, "film", shots=shots)


def _run_spec(clip: torch.Tensor, spec: Any, **options: Any) -> tuple[torch.Tensor, list[str]]:
    result = run_pipeline(clip, spec, fps=FPS, window=32, **options)
    return result.frames, [step.op.name for shot in result.shots for step in shot.steps]


def synthetic_table(sizes: Sizes) -> tuple[list[dict[str, Any]], dict[str, Score]]:
    cases = make_cases(sizes)
    scores: dict[str, Score] = {}
    for name, method in methods():
        score = scores.setdefault(name, Score())
        for case in cases:
            try:
                with Timer() as timer:
                    restored, used = method(case.damaged)
            except RestorationError as exc:  # one method failing must not hide the others' figures
                score.error = str(exc)
                break
            score.add(case, restored, timer)
            score.ops_used |= set(used)
            score.per_case.append(
                {"clip": case.name, "damaged PSNR": psnr(case.damaged, case.clean), "PSNR": score.psnr[case.strength][-1],
                 "ops": "+".join(used) or "none"}
            )
    rows = []
    for name, score in scores.items():
        row: dict[str, Any] = {"method": name}
        for strength in STRENGTHS:
            row[f"PSNR {strength}"] = _mean(score.psnr[strength])
        row["PSNR mean"] = score.mean_psnr()
        for strength in STRENGTHS:
            row[f"SSIM {strength}"] = _mean(score.ssim[strength])
        row["SSIM mean"] = score.mean_ssim()
        row["fps (CPU)"] = math.nan if name == "damaged input" else score.fps()
        row["fps (wall)"] = math.nan if name == "damaged input" else score.wall_fps()
        if score.error:
            row["error"] = score.error
        rows.append(row)
    return rows, scores


def targets_table(scores: dict[str, Score]) -> list[dict[str, Any]]:
    """The film preset against the targets: +3 dB over the best FFmpeg chain, +1 dB over the best
    of our classical ops, nlmeans' speed."""
    classical = {name: s for name, s in scores.items() if name.startswith("ffmpeg ")}
    best_name, best = max(classical.items(), key=lambda item: item[1].mean_psnr())
    film, nlmeans = scores["preset film"], scores["ffmpeg nlmeans"]
    if film.error or not film.frames:
        return [{"figure": "film preset", "measured": "failed", "note": film.error}]
    singles = {name[3:]: s for name, s in scores.items() if name.startswith("op ")}
    used = sorted(film.ops_used & set(singles))
    slowest = min(used, key=lambda op: singles[op].fps()) if used else "–"
    return [
        {
            "figure": "film PSNR - best classical PSNR (dB)",
            "measured": film.mean_psnr() - best.mean_psnr(),
            "target": ">= 3",
            "note": f"best classical: {best_name}",
        },
        _ours_row(film, scores),
        {
            "figure": "film fps / nlmeans chain fps",
            "measured": film.fps() / nlmeans.fps(),
            "target": ">= 1",
            "note": f"per CPU-second: film {film.fps():.2f} fps, nlmeans chain {nlmeans.fps():.2f} fps;"
            f" slowest op in film's pipelines: {slowest}"
            + (f" ({singles[slowest].fps():.2f} fps alone)" if used else ""),
        },
    ]


def _ours_row(film: Score, scores: dict[str, Score]) -> dict[str, Any]:
    ours = {name: scores[name] for name in ("preset clean", FILM_CLASSICAL) if name in scores and scores[name].frames}
    if not ours:
        return {"figure": "film PSNR - best of our classical ops (dB)", "measured": "not run"}
    name, best = max(ours.items(), key=lambda item: item[1].mean_psnr())
    return {
        "figure": "film PSNR - best of our classical ops (dB)",
        "measured": film.mean_psnr() - best.mean_psnr(),
        "target": ">= 1",
        "note": f"best of ours: {name}",
    }


def film_choices_table(scores: dict[str, Score]) -> list[dict[str, Any]]:
    """What the analysis recommended for each synthetic clip, and what it scored: finds the op that hurts."""
    return scores["preset film"].per_case


def footage_table(sizes: Sizes, stills_dir: Path) -> list[dict[str, Any]]:
    from restoration.analysis import analyse
    from restoration.io import probe, read_frames

    if not FOOTAGE.is_dir():
        return [{"note": f"{FOOTAGE} is absent: skipped"}]
    rows = []
    stills_dir.mkdir(parents=True, exist_ok=True)
    paths = [FOOTAGE / name for name in FOOTAGE_ORDER if (FOOTAGE / name).is_file()]
    for path in paths[: sizes.footage_clips]:
        info = probe(path)
        frames = read_frames(path, 0, min(sizes.footage_frames, info.frame_count))
        try:
            with Timer() as analysis_time:
                before = analyse(frames, fps=info.fps)
            with Timer() as restore_time:
                result = run_pipeline(frames, "film", fps=info.fps, shots=before["shots"])
            after = analyse(result.frames, fps=info.fps)
        except RestorationError as exc:
            rows.append({"clip": path.name, "error": str(exc)})
            continue
        row: dict[str, Any] = {
            "clip": path.name,
            "frames": frames.shape[0],
            "shots": len(before["shots"]),
            "analysis fps (CPU)": frames.shape[0] / analysis_time.cpu,
            "film restore fps (CPU)": frames.shape[0] / restore_time.cpu,
            "film restore fps (wall)": frames.shape[0] / restore_time.wall,
        }
        for column, key in NO_REFERENCE:
            row[f"{column} before"] = _clip_metric(before, key)
            row[f"{column} after"] = _clip_metric(after, key)
        row["ops"] = " / ".join(
            "+".join(step.op.name for step in shot.steps) or "none" for shot in result.shots
        )
        rows.append(row)
        _save_still(frames, result.frames, stills_dir / f"restore-{path.stem}.png")
    return rows


def _clip_metric(report: dict[str, Any], key: str) -> float:
    """A per-shot metric over the clip, as the mean over shots weighted by their length."""
    values, weights = [], []
    for shot in report.get("shots", []):
        value = shot.get("metrics", {}).get(key)
        if isinstance(value, (int, float)):
            values.append(float(value))
            weights.append(shot["end_frame"] - shot["start_frame"] + 1)
    if not values:
        return math.nan
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


def _save_still(
    before: torch.Tensor,
    after: torch.Tensor,
    path: Path,
    max_width: int = 640,
    *,
    region: tuple[slice, slice] | None = None,
    zoom: int = 1,
    difference_gain: float = 0.0,
) -> None:
    """The middle frame, before | after, and |after - before| x ``difference_gain`` when that is
    given (a doubled outline there is a ghost); cropped to ``region`` (rows, columns), enlarged
    ``zoom`` times with nearest-neighbour (grain and outlines stay as they are), then scaled down
    to ``max_width`` if wider, to keep the PNG small."""
    middle = before.shape[0] // 2
    panels = [before[middle], after[middle]]
    if difference_gain:
        panels.append((after[middle] - before[middle]).abs() * difference_gain)
    if region is not None:
        panels = [panel[:, region[0], region[1]] for panel in panels]
    if zoom > 1:
        panels = [F.interpolate(panel[None], scale_factor=zoom, mode="nearest")[0] for panel in panels]
    gap = panels[0].new_zeros(*panels[0].shape[:-1], 4)
    strip = torch.cat([part for panel in panels for part in (gap, panel)][1:], dim=-1)
    if strip.shape[-1] > max_width:
        scale = max_width / strip.shape[-1]
        strip = F.interpolate(strip[None], scale_factor=scale, mode="area", recompute_scale_factor=False)[0]
    array = (strip.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    image.save(path, optimize=True)


def run(quick: bool) -> dict[str, list[dict[str, Any]]]:
    sizes = QUICK if quick else FULL
    synthetic_rows, scores = synthetic_table(sizes)
    title = (
        f"Engine: restoration on synthetic damage ({sizes.photos} photos x {len(STRENGTHS)} strengths,"
        f" {sizes.frames} frames at {sizes.width}x{sizes.height}; PSNR dB / SSIM vs the clean clip)"
    )
    return {
        title: synthetic_rows,
        "Engine: film preset against its targets": targets_table(scores),
        "Engine: film preset, per clip (the analysis' recommended ops and their PSNR)": film_choices_table(scores),
        f"Engine: real footage (first {sizes.footage_frames} frames of {sizes.footage_clips} clips, film preset;"
        " no-reference figures from analysis)": footage_table(
            sizes, QUICK_STILLS_DIR if quick else STILLS_DIR
        ),
    }


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan
