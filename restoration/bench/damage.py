"""Where the PSNR goes: each defect of the benchmark's damage alone, and what the film preset leaves.

1. The clean clips of the restore benchmark (``restore.case_recipes``: same photos, motions,
   seeds and per-clip damage parameters) damaged by one defect at a time, every other defect
   switched off: PSNR against the clean clip. A low figure is a defect that costs many dB. A
   clip the defect leaves unchanged (fading on grey film, no scratch drawn) is left out of the
   means (its PSNR is infinite).
2. The film preset run on the full damage with one defect switched off: how much PSNR the film
   preset would gain if that defect were gone, i.e. what it leaves of each defect.
"""

from __future__ import annotations

from typing import Any

from restoration.bench.restore import FULL, QUICK, STRENGTHS, _mean, _run_spec, case_recipes
from restoration.compare import psnr

# Each defect and the damage parameters that switch it off.
DEFECTS: dict[str, dict[str, Any]] = {
    "blur": {"blur_sigma": 0.0},
    "colour fading": {"fade_amount": 0.0, "fade_desaturation": 0.0},
    "gate weave": {"weave_px": 0.0},
    "flicker": {"flicker_global": 0.0, "flicker_spatial": 0.0},
    "grain": {"grain_std": 0.0},
    "dust and hairs": {"dust_per_frame": 0.0, "hair_probability": 0.0},
    "scratches": {"scratches_per_block": 0.0, "texture_scratches_per_block": 0.0},
    "compression": {"compression": "none"},
}
ALL_OFF = {key: value for switch in DEFECTS.values() for key, value in switch.items()}


def _row(label: str, values: dict[str, list[float]]) -> dict[str, Any]:
    row: dict[str, Any] = {"damage": label}
    for strength in STRENGTHS:
        row[f"PSNR {strength}"] = _mean(values[strength])
    row["PSNR mean"] = _mean([v for vs in values.values() for v in vs])
    return row


def run(quick: bool) -> dict[str, list[dict[str, Any]]]:
    from restoration.degrade import degrade, sample_params

    sizes = QUICK if quick else FULL
    recipes = case_recipes(sizes)
    alone: dict[str, dict[str, list[float]]] = {d: {s: [] for s in STRENGTHS} for d in ["all", *DEFECTS]}
    film: dict[str, dict[str, list[float]]] = {d: {s: [] for s in STRENGTHS} for d in ["none", *DEFECTS]}
    for _, strength, clean, seed in recipes:
        params = sample_params(seed, strength)
        damaged = degrade(clean, seed=seed, params=params).damaged
        alone["all"][strength].append(psnr(damaged, clean))
        film["none"][strength].append(psnr(_run_spec(damaged, "film")[0], clean))
        for defect, switch in DEFECTS.items():
            only = {**params, **ALL_OFF, **{key: params[key] for key in switch}}
            alone[defect][strength].append(psnr(degrade(clean, seed=seed, params=only).damaged, clean))
            without = degrade(clean, seed=seed, params={**params, **switch}).damaged
            film[defect][strength].append(psnr(_run_spec(without, "film")[0], clean))
    return {
        "Engine: PSNR of each defect alone (dB vs the clean clip; the restore benchmark's clips and damage)": [
            _row("all defects (the benchmark's input)" if d == "all" else d, alone[d]) for d in alone
        ],
        "Engine: the film preset's PSNR with one defect switched off (what it leaves of that defect)": [
            _row("all defects (the benchmark)" if d == "none" else f"without {d}", film[d]) for d in film
        ],
    }
