"""Colour: grades learned from three graded stills, scored on the frames the fit never saw.

For each photograph under synthetic camera motion, the *target* is the clip with a known look
(``references.known_look``: an ASC CDL plus a non-CDL twist) and the *input* a faded scan of the
same frames (blacks lifted, contrast and saturation lost, a magenta cast). A colourist's stills
of three frames (first, middle, last) come from "another transfer": shifted 3 px, 3 % larger,
8-bit JPEG. Each method maps the input to the target from those three stills alone; the score is
CIEDE2000 against the target on every other frame (mean and 95th percentile over their pixels).

Methods: the CDL alone, CDL + residual LUT (``colour.fit.grade_fit``), and two classical
baselines fitted on the same registered stills: Reinhard et al.'s colour transfer (2001: match
each Lab channel's mean and standard deviation) and per-channel histogram matching.
Also: fit time (median over clips), and the CPU time to apply a CDL + 33-point LUT to one
1920x1080 frame (median of 3).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import torch

from restoration.colour.fit import delta_e_2000, grade_fit, register_still, srgb_to_lab
from restoration.colour.grade import Grade, grade_apply
from restoration.colour.lut import identity_lut
from restoration.colour.references import KNOWN_CDL, known_look, reference_still
from restoration.degrade import clean_sources, synthetic_clip
from restoration.luma import REC709_LUMA, luma

PHOTOGRAPHS = ("coffee", "astronaut", "chelsea", "rocket")


def faded(frames: torch.Tensor) -> torch.Tensor:
    """A faded print's scan: lifted blacks, flattened contrast, lost saturation, a magenta cast."""
    grey = luma(frames, weights=REC709_LUMA)
    washed = grey + 0.55 * (frames - grey)
    cast = frames.new_tensor([1.04, 0.93, 1.02]).view(1, 3, 1, 1)
    return (0.08 + 0.78 * washed.clamp(0, 1) ** 1.15 * cast).clamp(0, 1)


def _pixels(frames: torch.Tensor) -> torch.Tensor:
    return frames.permute(0, 2, 3, 1).reshape(-1, 3)


def _registered_pairs(inputs: list[torch.Tensor], stills: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3) input colours and the stills' colours at the same picture points, where a still covers."""
    sources, targets = [], []
    for frame, still in zip(inputs, stills, strict=True):
        registration = register_still(frame, still)
        mask = registration.mask[0].bool()
        sources.append(frame.permute(1, 2, 0)[mask].double())
        targets.append(registration.aligned.permute(1, 2, 0)[mask].double())
    return torch.cat(sources), torch.cat(targets)


def _lab_to_srgb(lab: torch.Tensor) -> torch.Tensor:
    """Inverse of ``srgb_to_lab`` (D65), by colour-science."""
    import colour

    xyz = colour.Lab_to_XYZ(lab.numpy())
    return torch.from_numpy(np.clip(colour.XYZ_to_sRGB(xyz), 0, 1))


def reinhard(frames: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Reinhard's transfer: each Lab channel shifted and scaled so its mean and spread match the stills'."""
    source_lab, target_lab = srgb_to_lab(source), srgb_to_lab(target)
    scale = target_lab.std(0) / source_lab.std(0).clamp_min(1e-6)
    lab = srgb_to_lab(_pixels(frames).double())
    mapped = (lab - source_lab.mean(0)) * scale + target_lab.mean(0)
    return _lab_to_srgb(mapped).reshape(frames.shape[0], frames.shape[2], frames.shape[3], 3).permute(0, 3, 1, 2)


def histogram_match(frames: torch.Tensor, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-channel histogram matching: each channel's values mapped through the two CDFs."""
    quantiles = np.linspace(0, 1, 1025)
    out = frames.double().clone()
    for channel in range(3):
        from_values = np.quantile(source[:, channel].numpy(), quantiles)
        to_values = np.quantile(target[:, channel].numpy(), quantiles)
        flat = out[:, channel].numpy()
        out[:, channel] = torch.from_numpy(np.interp(flat, from_values, to_values))
    return out


def _score(made: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
    errors = delta_e_2000(_pixels(made.clamp(0, 1)), _pixels(target))
    return float(errors.mean()), float(np.percentile(errors, 95))


def _clip(name: str, frames: int, size: tuple[int, int]) -> torch.Tensor:
    image = dict(clean_sources())[name]
    image = image.expand(3, -1, -1) if image.shape[0] == 1 else image[:3]
    return synthetic_clip(image, frames=frames, size=size, seed=7, motion="pan")


def _apply_speed() -> float:
    """Median milliseconds of CPU time to grade one 1920x1080 frame (CDL + 33-point LUT)."""
    lut = identity_lut(33)
    grade = Grade(cdl=KNOWN_CDL, lut=type(lut)(np.clip(lut.table ** 1.1, 0, 1)))
    frame = torch.rand(1, 3, 1080, 1920, generator=torch.Generator().manual_seed(0))
    grade_apply(frame, grade)  # warm-up
    times = []
    for _ in range(3):
        started = time.process_time()
        grade_apply(frame, grade)
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def run(quick: bool) -> dict[str, list[dict[str, Any]]]:
    frames, size = (6, (64, 96)) if quick else (16, (270, 360))
    photographs = PHOTOGRAPHS[:1] if quick else PHOTOGRAPHS
    scores: dict[str, list[tuple[float, float]]] = {}
    fit_seconds = []
    for name in photographs:
        clean = _clip(name, frames, size)
        target, scan = known_look(clean), faded(clean)
        references = (0, frames // 2, frames - 1)
        unseen = [i for i in range(frames) if i not in references]
        stills = [reference_still(target[i]) for i in references]
        inputs = [scan[i] for i in references]
        results: dict[str, torch.Tensor] = {"input (no grade)": scan[unseen]}
        for label, with_lut in (("CDL", False), ("CDL + LUT", True)):
            started = time.perf_counter()
            grade, _ = grade_fit(list(zip(inputs, stills, strict=True)), lut=with_lut)
            if with_lut:
                fit_seconds.append(time.perf_counter() - started)
            results[label] = grade_apply(scan[unseen], grade)
        source, reference = _registered_pairs(inputs, stills)
        results["Reinhard transfer"] = reinhard(scan[unseen], source, reference)
        results["histogram matching"] = histogram_match(scan[unseen], source, reference)
        for label, made in results.items():
            scores.setdefault(label, []).append(_score(made, target[unseen]))
    reinhard_mean = statistics.mean(mean for mean, _ in scores["Reinhard transfer"])
    rows = []
    for label, values in scores.items():
        mean = statistics.mean(m for m, _ in values)
        rows.append({
            "method": label,
            "CIEDE2000 mean (unseen frames)": mean,
            "CIEDE2000 p95": statistics.mean(p for _, p in values),
            "x Reinhard": mean / reinhard_mean,
        })
    timing = [{
        "clips": len(photographs), "frames a clip": frames, "size": f"{size[1]}x{size[0]}",
        "fit CDL + LUT from 3 stills, s (median)": statistics.median(fit_seconds),
        "apply CDL + LUT to a 1080p frame, CPU ms (median)": _apply_speed(),
        "torch threads": torch.get_num_threads(),
    }]
    return {"Colour: grades from 3 graded stills, scored on unseen frames": rows, "Colour: speed": timing}
