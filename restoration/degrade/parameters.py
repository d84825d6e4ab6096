"""Per-clip damage parameters: their ranges for each strength, and ``sample_params``."""

from __future__ import annotations

import math

import numpy as np

from restoration.degrade.randomness import STREAM_TAGS, keyed_generator, uniform
from restoration.errors import RestorationError

STRENGTHS = ("light", "medium", "heavy")
# Sizes below are for a 360-line frame; they scale with min(H, W) / REFERENCE_SIZE.
REFERENCE_SIZE = 360.0

# Per-clip parameter ranges (uniform between the two numbers) for each strength.
PARAM_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "light": {
        "blur_sigma": (0.0, 0.5),
        "fade_amount": (0.0, 0.15),
        "fade_desaturation": (0.0, 0.15),
        "weave_px": (0.1, 0.4),
        "flicker_global": (0.01, 0.03),
        "flicker_spatial": (0.01, 0.03),
        "grain_std": (0.01, 0.025),
        "grain_size_px": (0.5, 0.9),
        "dust_per_frame": (1.0, 3.0),
        "dust_size_px": (1.0, 2.0),
        "bright_dust_fraction": (0.1, 0.3),
        "hair_probability": (0.0, 0.08),
        "scratches_per_block": (0.1, 0.4),
        "texture_scratches_per_block": (0.0, 0.2),
        "scratch_opacity": (0.2, 0.5),
        "jpeg_quality": (85.0, 95.0),
        "h264_crf": (18.0, 23.0),
    },
    "medium": {
        "blur_sigma": (0.3, 1.0),
        "fade_amount": (0.1, 0.35),
        "fade_desaturation": (0.1, 0.35),
        "weave_px": (0.4, 1.0),
        "flicker_global": (0.03, 0.06),
        "flicker_spatial": (0.02, 0.05),
        "grain_std": (0.025, 0.045),
        "grain_size_px": (0.7, 1.2),
        "dust_per_frame": (5.0, 12.0),
        "dust_size_px": (2.0, 3.5),
        "bright_dust_fraction": (0.15, 0.4),
        "hair_probability": (0.08, 0.2),
        "scratches_per_block": (0.5, 1.2),
        "texture_scratches_per_block": (0.2, 0.6),
        "scratch_opacity": (0.35, 0.7),
        "jpeg_quality": (55.0, 80.0),
        "h264_crf": (23.0, 29.0),
    },
    "heavy": {
        "blur_sigma": (0.8, 1.8),
        "fade_amount": (0.3, 0.6),
        "fade_desaturation": (0.3, 0.6),
        "weave_px": (1.0, 2.5),
        "flicker_global": (0.06, 0.12),
        "flicker_spatial": (0.04, 0.09),
        "grain_std": (0.045, 0.08),
        "grain_size_px": (0.9, 1.6),
        "dust_per_frame": (16.0, 32.0),
        "dust_size_px": (3.5, 6.0),
        "bright_dust_fraction": (0.2, 0.45),
        "hair_probability": (0.25, 0.5),
        "scratches_per_block": (1.5, 3.0),
        "texture_scratches_per_block": (0.6, 1.5),
        "scratch_opacity": (0.5, 0.9),
        "jpeg_quality": (25.0, 50.0),
        "h264_crf": (28.0, 35.0),
    },
}
# Probability of each compression kind per clip.
COMPRESSION_CHOICES: dict[str, dict[str, float]] = {
    "light": {"none": 0.5, "jpeg": 0.25, "h264": 0.25},
    "medium": {"none": 0.2, "jpeg": 0.4, "h264": 0.4},
    "heavy": {"none": 0.0, "jpeg": 0.4, "h264": 0.4, "jpeg+h264": 0.2},
}


def sample_params(seed: int, strength: str = "medium") -> dict:
    """The per-clip damage parameters for ``seed`` and ``strength`` (plain numbers and strings)."""
    if strength not in STRENGTHS:
        raise RestorationError(f"strength must be one of {', '.join(STRENGTHS)}, got {strength!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise RestorationError(f"seed must be an integer, got {seed!r}")
    gen = keyed_generator(seed, STREAM_TAGS["clip"])
    params: dict = {"seed": int(seed), "strength": strength}
    for name, (low, high) in PARAM_RANGES[strength].items():
        params[name] = round(uniform(gen, low, high), 4)
    params["jpeg_quality"] = int(round(params["jpeg_quality"]))
    params["h264_crf"] = int(round(params["h264_crf"]))
    # Faded dyes leave a cast: usually toward red/magenta (cyan and yellow dyes fade first).
    hue = uniform(gen, -0.6, 0.9)
    params["fade_cast"] = [1.0, round(0.82 + 0.1 * math.cos(hue), 4), round(0.78 + 0.15 * math.sin(hue), 4)]
    params["grain_colour_correlation"] = round(uniform(gen, 0.75, 0.95), 4)
    draw, total = uniform(gen), 0.0
    params["compression"] = "none"
    for kind, probability in COMPRESSION_CHOICES[strength].items():
        total += probability
        if draw < total:
            params["compression"] = kind
            break
    return params
