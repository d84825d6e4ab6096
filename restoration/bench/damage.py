"""Where the PSNR goes: each defect of the benchmark's damage alone, and what the film preset leaves.

1. The clean clips of the restore benchmark (``restore.case_recipes``: same photos, motions,
   seeds and per-clip damage parameters) damaged by one defect at a time, every other defect
   switched off: PSNR against the clean clip. A low figure is a defect that costs many dB. A
   clip the defect leaves unchanged (fading on grey film, no scratch drawn) is left out of the
   means (its PSNR is infinite).
2. The film preset run on the full damage with one defect switched off: how much PSNR the film
   preset would gain if that defect were gone, i.e. what it leaves of each defect.
3. The methods of the targets (best FFmpeg chain, the film preset with classical ops only, the
   film preset) on two variants of the same damage: without colour fading and gate weave (the
   defects a picture cannot tell from the photograph's own colours and the camera's own motion:
   how the methods compare on what can be identified), and with only those two and flicker (every
   local defect gone: roughly the best a perfect local repair could reach inside the film preset).
   These are diagnostics; the targets are measured on the full damage (part ``restore``).
"""

from __future__ import annotations

from typing import Any

from restoration.bench.restore import (
    FILM_CLASSICAL,
    FPS,
    FULL,
    QUICK,
    STRENGTHS,
    _mean,
    _run_film_classical,
    _run_spec,
    case_recipes,
)
from restoration.classical import run_filter_chain
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
# Defects whose effect on a frame looks like the scene itself (its colours, its camera path).
UNIDENTIFIABLE = ("colour fading", "gate weave")
# What no local repair can take out: those two and flicker (global and smooth per frame).
GLOBAL = (*UNIDENTIFIABLE, "flicker")
# Each diagnostic variant and the defects it keeps (every other one switched off).
VARIANTS = {
    "without colour fading and gate weave": tuple(d for d in DEFECTS if d not in UNIDENTIFIABLE),
    "only colour fading, gate weave and flicker: every local defect gone": GLOBAL,
}


def _only(params: dict[str, Any], defects) -> dict[str, Any]:
    """The clip's damage parameters with only ``defects`` left on."""
    return {**params, **ALL_OFF, **{key: params[key] for defect in defects for key in DEFECTS[defect]}}


def _row(values: dict[str, list[float]], **label: str) -> dict[str, Any]:
    row: dict[str, Any] = dict(label)
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
    variant_methods = _variant_methods()
    variants: dict[str, dict[str, dict[str, list[float]]]] = {
        v: {m: {s: [] for s in STRENGTHS} for m in variant_methods} for v in VARIANTS
    }
    for _, strength, clean, seed in recipes:
        params = sample_params(seed, strength)
        for label, damaged in _variant_damage(clean, seed, params).items():
            for method, run_method in variant_methods.items():
                restored = damaged if run_method is None else run_method(damaged)
                variants[label][method][strength].append(psnr(restored, clean))
        damaged = degrade(clean, seed=seed, params=params).damaged
        alone["all"][strength].append(psnr(damaged, clean))
        film["none"][strength].append(psnr(_run_spec(damaged, "film")[0], clean))
        for defect, switch in DEFECTS.items():
            only = _only(params, [defect])
            alone[defect][strength].append(psnr(degrade(clean, seed=seed, params=only).damaged, clean))
            without = degrade(clean, seed=seed, params={**params, **switch}).damaged
            film[defect][strength].append(psnr(_run_spec(without, "film")[0], clean))
    return {
        "Engine: PSNR of each defect alone (dB vs the clean clip; the restore benchmark's clips and damage)": [
            _row(alone[d], damage="all defects (the benchmark's input)" if d == "all" else d) for d in alone
        ],
        "Engine: the film preset's PSNR with one defect switched off (what it leaves of that defect)": [
            _row(film[d], damage="all defects (the benchmark)" if d == "none" else f"without {d}") for d in film
        ],
        **{
            f"Engine: the target methods on part of the damage ({label})": [
                _row(values, method=method) for method, values in variants[label].items()
            ]
            for label in VARIANTS
        },
    }


def _variant_methods() -> dict[str, Any]:
    """Method name -> restore function (None: the damaged input itself)."""
    return {
        "damaged input": None,
        "ffmpeg nlmeans": lambda clip: run_filter_chain(clip, "nlmeans", fps=FPS),
        FILM_CLASSICAL: lambda clip: _run_film_classical(clip)[0],
        "preset film": lambda clip: _run_spec(clip, "film")[0],
    }


def _variant_damage(clean, seed: int, params: dict[str, Any]) -> dict[str, Any]:
    """Each of ``VARIANTS``' damage of ``clean``: the clip's own parameters, some defects off."""
    from restoration.degrade import degrade

    return {label: degrade(clean, seed=seed, params=_only(params, kept)).damaged for label, kept in VARIANTS.items()}
