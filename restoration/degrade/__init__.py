"""Synthetic film damage: clean clips made from photographs, and a seeded model of old-film defects.

Used to make training data for the learned models, full-reference benchmarks and demo footage.

The damage model (``degrade``) applies, in the order the defects arise:

1. optical blur (printing/lens softness),
2. colour fading (colour input only: dyes fade toward a cast, saturation drops),
3. gate weave (small per-frame translation following a smooth random walk),
4. flicker (global gain and a slowly varying spatial brightness field per frame),
5. film grain (spatially correlated, strongest in the mid-tones),
6. dust and dirt (dark and bright blotches with gamma-distributed sizes, irregular soft shapes,
   one-frame lifetime) and hairs (thin curved dark lines),
7. line scratches: thin vertical scratches that persist over several frames and drift slowly,
   and "crop and merge" scratch textures (a scratch plate is cropped, resized, blurred, given
   local and global brightness and a transparency, then merged),
8. compression (JPEG per frame with Pillow, or H.264 through PyAV).

Per-clip parameters are sampled once from the seed within ranges set by ``strength`` and are
returned in ``Damage.params``; every per-frame random draw comes from ``(seed, frame number)``,
and lasting events (scratches) from ``(seed, block of frames)``. So a clip degraded chunk by
chunk (``first_frame``, ``params``) equals the clip degraded at once, as long as chunks start on
multiples of ``H264_SEGMENT`` frames (H.264 is encoded in independent segments of that length).
Random numbers are drawn on the CPU, so results are the same on every device.

The package's parts: ``sources`` (clean photographs and synthetic camera motion), ``randomness``
(keyed generators), ``parameters`` (``STRENGTHS``, ranges, ``sample_params``), ``defects`` (blur
to scratches), ``compression`` (JPEG, H.264), ``model`` (``degrade``, ``Damage``) and ``cli``.
Callers import from here.
"""

from restoration.degrade.cli import cli_degrade
from restoration.degrade.compression import H264_SEGMENT
from restoration.degrade.model import MASK_THRESHOLD, Damage, degrade
from restoration.degrade.parameters import COMPRESSION_CHOICES, PARAM_RANGES, STRENGTHS, sample_params
from restoration.degrade.sources import MOTIONS, clean_sources, synthetic_clip

__all__ = [
    "STRENGTHS",
    "MOTIONS",
    "H264_SEGMENT",
    "MASK_THRESHOLD",
    "PARAM_RANGES",
    "COMPRESSION_CHOICES",
    "Damage",
    "clean_sources",
    "synthetic_clip",
    "sample_params",
    "degrade",
    "cli_degrade",
]
