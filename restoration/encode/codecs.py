"""The delivery codecs: their encoders in PyAV's FFmpeg, CRF ranges and options, and presets.

Every shot of a delivery is encoded on its own and the shots' packets are joined into one
stream, so each codec is set up to write the same stream headers whatever the CRF (x264's
``stitchable``, x265 without its settings SEI): a decoder then reads the joined stream with
the first shot's headers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from restoration.errors import SpecError
from restoration.x264 import x264_options

# x264 / x265 preset names, fastest first; SVT-AV1 takes numbers (13 fastest), mapped below.
PRESET_NAMES = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
SVT_AV1_PRESETS = {"ultrafast": 13, "superfast": 12, "veryfast": 11, "faster": 10, "fast": 9, "medium": 8,
                   "slow": 6, "slower": 4, "veryslow": 2}
SVT_AV1_PRESET_RANGE = (0, 13)
# Each encoder's tuning for the metric a target measures: x264's and x265's ``tune``, SVT-AV1's
# ``tune`` (1: PSNR, its default; 2: SSIM). XPSNR weighs errors by what the eye sees, as the
# encoders' default (psycho-visual) tuning does: none. TUNE_FOR_TARGET: whether a delivery is
# tuned by default (docs/BENCHMARKS.md "Delivery" measures both).
TUNES = {"h264": {"ssim": "ssim", "psnr": "psnr"}, "hevc": {"ssim": "ssim", "psnr": "psnr"},
         "av1": {"ssim": "2", "psnr": "1"}}
TUNE_FOR_TARGET = True


@dataclass(frozen=True)
class DeliveryCodec:
    """One delivery codec. ``crf_min .. crf_max`` is the encoder's whole CRF range; ``crf_step``
    the search's finest resolution (an eighth CRF for x264 and x265, which take any fraction; a
    quarter for SVT-AV1, its finest); ``crf_settle`` the bracket width at which a search whose
    best encode is within the target's tolerance stops (narrower only when it is not); ``crf_start`` the first guess for a reel's first shot;
    ``slope`` the prior for how fast quality falls with CRF (quality score per CRF unit, see
    ``targets.QualityTarget.score``) until two encodes measure it."""

    name: str
    encoder: str
    crf_min: float
    crf_max: float
    crf_step: float
    crf_settle: float
    crf_start: float
    slope: float

    def options(self, crf: float, preset: str, tune_for: str | None = None) -> dict[str, str]:
        """Encoder options for one shot at ``crf`` with a checked ``preset``, tuned for the metric
        ``tune_for`` (a target's metric; None or one without a tuning: the encoder's default)."""
        tune = TUNES[self.name].get(tune_for) if tune_for is not None else None
        if self.name == "h264":
            # stitchable: headers that do not depend on the CRF, so the shots' streams join.
            options = {"crf": f"{crf:g}", "preset": preset, **x264_options("stitchable=1")}
        elif self.name == "hevc":
            # info=0: no settings SEI in the headers (it names the CRF and would differ per shot).
            options = {"crf": f"{crf:g}", "preset": preset, "x265-params": "log-level=error:info=0"}
        else:
            # Through svtav1-params: FFmpeg's own crf option takes whole numbers up to 63 only,
            # SVT-AV1 (3.0 and later) takes quarter steps up to 70.
            params = f"crf={crf:g}" if tune is None else f"crf={crf:g}:tune={tune}"
            return {"svtav1-params": params, "preset": str(SVT_AV1_PRESETS.get(preset, preset))}
        return options if tune is None else {**options, "tune": tune}


DELIVERY_CODECS: dict[str, DeliveryCodec] = {
    codec.name: codec
    for codec in (
        DeliveryCodec("h264", "libx264", crf_min=0.0, crf_max=51.0, crf_step=0.125, crf_settle=0.5, crf_start=23.0,
                      slope=0.45),
        DeliveryCodec("hevc", "libx265", crf_min=0.0, crf_max=51.0, crf_step=0.125, crf_settle=0.5, crf_start=28.0,
                      slope=0.45),
        DeliveryCodec("av1", "libsvtav1", crf_min=2.0, crf_max=70.0, crf_step=0.25, crf_settle=1.0, crf_start=35.0,
                      slope=0.25),
    )
}


def delivery_codec(name: object) -> DeliveryCodec:
    """The codec called ``name``; ``SpecError`` naming the field otherwise."""
    if not isinstance(name, str) or name.strip().lower() not in DELIVERY_CODECS:
        raise SpecError(f"codec: unknown codec {name!r}; use {', '.join(DELIVERY_CODECS)}")
    return DELIVERY_CODECS[name.strip().lower()]


def check_preset(codec: DeliveryCodec, preset: object) -> str:
    """The preset as the codec's options take it: a name of ``PRESET_NAMES`` (any codec) or, for
    AV1, an SVT-AV1 number 0..13 as text. ``SpecError`` naming the field otherwise."""
    if isinstance(preset, str) and preset.strip().lower() in PRESET_NAMES:
        return preset.strip().lower()
    low, high = SVT_AV1_PRESET_RANGE
    if codec.name == "av1" and not isinstance(preset, bool):
        text = str(preset).strip()
        if text.isdigit() and low <= int(text) <= high:
            return str(int(text))
        if isinstance(preset, float) and math.isfinite(preset) and preset.is_integer() and low <= preset <= high:
            return str(int(preset))
    numbers = f", or an SVT-AV1 number {low}..{high}" if codec.name == "av1" else ""
    raise SpecError(f"preset: unknown preset {preset!r} for {codec.name}; use one of {', '.join(PRESET_NAMES)}{numbers}")
