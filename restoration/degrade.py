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
"""

from __future__ import annotations

import io as _bytes_io
import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import av
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from restoration.errors import MediaError, RestorationError

__all__ = [
    "STRENGTHS",
    "MOTIONS",
    "H264_SEGMENT",
    "Damage",
    "clean_sources",
    "synthetic_clip",
    "sample_params",
    "degrade",
    "cli_degrade",
]

STRENGTHS = ("light", "medium", "heavy")
# Synthetic camera speed limits: pan (fraction of the output width) and zoom (scale) per frame.
MAX_PAN_PER_FRAME = 0.012
MAX_ZOOM_PER_FRAME = 0.004
MOTIONS = ("pan", "zoom", "shake", "mixed")
# H.264 damage is encoded in closed segments of this many frames, aligned to frame numbers.
H264_SEGMENT = 16
# Lasting events (scratches) are drawn per block of this many frames; they live at most
# SCRATCH_MAX_BLOCKS blocks, so a frame only looks back that far.
SCRATCH_BLOCK = 16
# Whole-frame effects (weave, flicker, grain) are computed for this many frames at once.
FRAME_GROUP = 16
SCRATCH_MAX_BLOCKS = 3
# Sizes below are for a 360-line frame; they scale with min(H, W) / REFERENCE_SIZE.
REFERENCE_SIZE = 360.0
# A defect that moves a pixel's value by more than this puts the pixel in a mask (a dark speck
# on a black coat changes nothing visible and is not masked).
MASK_THRESHOLD = 0.08

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

# Tags that keep the random streams of different components apart.
_TAG = {
    "clip": 1, "blur": 2, "weave": 3, "flicker": 4, "grain": 5, "dust": 6, "hair": 7,
    "scratch": 8, "texture": 9, "jpeg": 10, "fade": 11, "motion": 12,
}

_SKIMAGE_PHOTOGRAPHS = (
    "astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "gravel", "moon", "page",
    "text", "coins", "hubble_deep_field", "immunohistochemistry", "clock",
)


@dataclass
class Damage:
    """``clean`` and ``damaged`` are (T, C, H, W); masks are (T, 1, H, W) in {0, 1}, aligned with
    ``damaged`` (defects are drawn after gate weave): a pixel is masked where a defect changed it
    by more than ``MASK_THRESHOLD`` (before compression). ``params`` are the per-clip parameters."""

    clean: torch.Tensor
    damaged: torch.Tensor
    masks: dict[str, torch.Tensor]
    params: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Randomness: every draw comes from a generator keyed by (seed, component, frame or block, ...).


def _generator(seed: int, *keys: int) -> torch.Generator:
    entropy = [int(seed) % 2**63] + [int(k) % 2**63 for k in keys]
    state = np.random.SeedSequence(entropy).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 31 ^ int(state[1]))


def _uniform(gen: torch.Generator, low: float = 0.0, high: float = 1.0) -> float:
    return low + (high - low) * float(torch.rand((), generator=gen))


def _normal(gen: torch.Generator) -> float:
    return float(torch.randn((), generator=gen))


def _poisson(gen: torch.Generator, rate: float) -> int:
    return int(torch.poisson(torch.tensor(float(rate)), generator=gen)) if rate > 0 else 0


def _gamma(gen: torch.Generator, shape: float, scale: float) -> float:
    # torch's gamma sampler takes no generator: Marsaglia-Tsang from our own normals/uniforms.
    boost = 1.0
    if shape < 1:
        boost = _uniform(gen) ** (1 / shape)
        shape += 1
    d = shape - 1 / 3
    c = 1 / math.sqrt(9 * d)
    while True:
        x = _normal(gen)
        v = (1 + c * x) ** 3
        if v > 0 and math.log(max(_uniform(gen), 1e-12)) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * scale * boost


def _smooth_signal(seed: int, tag: int, channel: int, frame: int, knot_spacing: float) -> float:
    """Smooth random function of the frame number (Catmull-Rom through N(0,1) knots), unit scale,
    computable for any frame on its own (so chunks agree)."""
    position = frame / knot_spacing
    k = math.floor(position)
    t = position - k
    p0, p1, p2, p3 = (_normal(_generator(seed, tag, channel, k + i)) for i in (-1, 0, 1, 2))
    return 0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)


# ---------------------------------------------------------------------------------------------
# Small image helpers


def _gaussian_blur(images: torch.Tensor, sigma) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W), edges replicated; ``sigma`` is one number or one
    per image. A weighted sum of shifted views: for these small kernels much faster on CPU than
    conv2d with one channel, and it takes a different kernel per image in one pass."""
    sigmas = [float(sigma)] * images.shape[0] if isinstance(sigma, (int, float)) else [float(s) for s in sigma]
    if max(sigmas) <= 0.05:
        return images
    radius = max(1, math.ceil(3 * max(sigmas)))
    taps = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernels = torch.stack([torch.exp(-0.5 * (taps / max(s, 1e-3)) ** 2) for s in sigmas])
    kernels = (kernels / kernels.sum(dim=1, keepdim=True)).to(device=images.device, dtype=images.dtype)
    weight = kernels.view(-1, 1, 1, 1, 2 * radius + 1)  # (N, 1, 1, 1, taps), broadcast per image
    h, w = images.shape[-2:]
    padded = F.pad(images, (radius, radius, 0, 0), mode="replicate")
    rows = sum(padded[..., i:i + w] * weight[..., i] for i in range(2 * radius + 1))
    padded = F.pad(rows, (0, 0, radius, radius), mode="replicate")
    return sum(padded[..., i:i + h, :] * weight[..., i] for i in range(2 * radius + 1))


def _luma(frames: torch.Tensor) -> torch.Tensor:
    if frames.shape[-3] == 1:
        return frames
    weights = torch.tensor([0.299, 0.587, 0.114], device=frames.device, dtype=frames.dtype).view(3, 1, 1)
    return (frames * weights).sum(dim=-3, keepdim=True)


def _smooth_noise(gen: torch.Generator, height: int, width: int, cells: int, device) -> torch.Tensor:
    """(height, width) smooth noise in about [-1, 1]: a coarse random grid upsampled bicubically."""
    coarse = torch.rand(1, 1, cells + 1, cells + 1, generator=gen) * 2 - 1
    return F.interpolate(coarse.to(device), size=(height, width), mode="bicubic", align_corners=True)[0, 0].clamp(-1, 1)


# ---------------------------------------------------------------------------------------------
# Clean sources and synthetic camera motion


@lru_cache(maxsize=1)
def _load_clean_sources() -> tuple[tuple[str, torch.Tensor], ...]:
    import skimage.data

    sources = []
    for name in _SKIMAGE_PHOTOGRAPHS:
        try:
            array = np.asarray(getattr(skimage.data, name)())
        except Exception:  # noqa: BLE001 - an image that needs a download (or is missing) is left out
            continue
        if array.dtype == np.uint8:
            image = torch.from_numpy(array.astype(np.float32) / 255.0)
        else:
            image = torch.from_numpy(array.astype(np.float32)).clamp(0, 1)
        image = image[None] if image.dim() == 2 else image[..., :3].permute(2, 0, 1)
        sources.append((name, image.contiguous()))
    return tuple(sources)


def clean_sources() -> list[tuple[str, torch.Tensor]]:
    """scikit-image's bundled photographs that load without network, as ``(name, (C, H, W))``
    float32 in [0, 1] (C is 1 for grey photographs, 3 for colour)."""
    return [(name, image.clone()) for name, image in _load_clean_sources()]


def _check_frames(frames: torch.Tensor, what: str = "clean") -> None:
    if not isinstance(frames, torch.Tensor):
        raise RestorationError(f"{what} must be a torch.Tensor, got {type(frames).__name__}")
    if frames.dim() != 4 or frames.shape[1] not in (1, 3) or frames.shape[0] < 1:
        raise RestorationError(f"{what} must be (T, C, H, W) with T >= 1 and C 1 or 3, got shape {tuple(frames.shape)}")
    if not frames.is_floating_point():
        raise RestorationError(f"{what} must be a float tensor in [0, 1], got {frames.dtype}")
    if frames.shape[2] < 8 or frames.shape[3] < 8:
        raise RestorationError(f"{what} frames must be at least 8x8, got {frames.shape[3]}x{frames.shape[2]}")


def synthetic_clip(image: torch.Tensor, *, frames: int, size: tuple[int, int] = (360, 480), seed: int,
                   motion: str = "pan", mode: str = "bicubic") -> torch.Tensor:
    """A clean clip (frames, C, size[0], size[1]) of ``image`` (C, H, W) under smooth synthetic
    camera motion: ``pan`` (steady travel), ``zoom`` (slow zoom in or out), ``shake`` (handheld:
    smooth random translation and a slight roll) or ``mixed`` (all three). Frames are resampled
    with sub-pixel accuracy (``grid_sample``, bicubic or bilinear); the window always stays
    inside the image, so no border shows. Runs on the image's device."""
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] not in (1, 3):
        raise RestorationError(f"image must be a (C, H, W) tensor with C 1 or 3, got {getattr(image, 'shape', type(image))}")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise RestorationError(f"frames must be a positive integer, got {frames!r}")
    if motion not in MOTIONS:
        raise RestorationError(f"motion must be one of {', '.join(MOTIONS)}, got {motion!r}")
    if mode not in ("bicubic", "bilinear"):
        raise RestorationError(f"mode must be bicubic or bilinear, got {mode!r}")
    out_h, out_w = (int(s) for s in size)
    if out_h < 8 or out_w < 8 or out_h > 8192 or out_w > 8192:
        raise RestorationError(f"size must be between 8 and 8192 pixels a side, got {size!r}")
    image = image.float()
    if image.shape[1] < 8 or image.shape[2] < 8:
        raise RestorationError(f"image is too small ({image.shape[2]}x{image.shape[1]})")

    gen = _generator(seed, _TAG["motion"])
    # Resample the photo once (antialiased) so that the window, at scale 1, covers 75 % of the
    # largest window that fits: motion then needs only small scale changes and never aliases.
    fit = min(image.shape[1] / out_h, image.shape[2] / out_w)
    factor = 1 / (0.75 * fit)
    work_h, work_w = max(out_h + 8, round(image.shape[1] * factor)), max(out_w + 8, round(image.shape[2] * factor))
    work = F.interpolate(image[None], size=(work_h, work_w), mode="bicubic", antialias=factor < 1, align_corners=False)
    work = work.clamp(0, 1)

    t = torch.linspace(0, 1, frames, dtype=torch.float64)
    ease = 0.5 - 0.5 * torch.cos(math.pi * t)  # starts and stops gently
    scale = torch.ones(frames, dtype=torch.float64)  # window size in work pixels per output pixel
    angle = torch.zeros(frames, dtype=torch.float64)
    if motion in ("zoom", "mixed"):
        change = min(_uniform(gen, 0.1, 0.2), MAX_ZOOM_PER_FRAME * (frames - 1) / (math.pi / 2))
        start, end = (1.0, 1.0 - change) if _uniform(gen) < 0.5 else (1.0 - change, 1.0)
        scale = start + (end - start) * ease
    max_angle = 0.0
    shake = torch.zeros(frames, 2, dtype=torch.float64)
    if motion in ("shake", "mixed"):
        max_angle = math.radians(0.6)
        amplitude = _uniform(gen, 1.0, 3.0) * min(out_h, out_w) / REFERENCE_SIZE
        for axis in range(2):
            shake[:, axis] = torch.tensor([amplitude * _smooth_signal(seed, _TAG["motion"], axis, n, 5.0) for n in range(frames)])
        angle = torch.tensor([0.4 * max_angle * _smooth_signal(seed, _TAG["motion"], 2, n, 8.0) for n in range(frames)])
        angle = angle.clamp(-max_angle, max_angle)

    # Half extents of the window (work pixels), including what a rotation can add.
    cos_a, sin_a = math.cos(max_angle), math.sin(max_angle)
    half_w = 0.5 * scale * (out_w * cos_a + out_h * sin_a)
    half_h = 0.5 * scale * (out_w * sin_a + out_h * cos_a)
    # Keep every bicubic tap inside the photo: two work pixels of margin.
    low_x, high_x = half_w + 2, work_w - half_w - 2
    low_y, high_y = half_h + 2, work_h - half_h - 2
    room_x = float((high_x - low_x).min())
    room_y = float((high_y - low_y).min())
    centre_x = torch.full((frames,), work_w / 2, dtype=torch.float64)
    centre_y = torch.full((frames,), work_h / 2, dtype=torch.float64)
    if motion in ("pan", "mixed"):
        heading = _uniform(gen, 0, 2 * math.pi)
        travel = _uniform(gen, 0.4, 0.9)
        dx, dy = travel * room_x * math.cos(heading), travel * room_y * math.sin(heading)
        # A camera pans at a few pixels per frame at most, however short the clip.
        longest = MAX_PAN_PER_FRAME * out_w * (frames - 1) / (math.pi / 2)  # the ease peaks at pi/2 x the mean
        shrink = min(1.0, longest / max(math.hypot(dx, dy), 1e-9))
        dx, dy = dx * shrink, dy * shrink
        centre_x = centre_x - dx / 2 + dx * ease
        centre_y = centre_y - dy / 2 + dy * ease
    centre_x = torch.minimum(torch.maximum(centre_x + shake[:, 0], low_x), high_x)
    centre_y = torch.minimum(torch.maximum(centre_y + shake[:, 1], low_y), high_y)

    # Affine map from output normalised coordinates to work normalised coordinates
    # (align_corners=False: -1 and 1 are the outer pixel edges).
    theta = torch.zeros(frames, 2, 3, dtype=torch.float64)
    cos_t, sin_t = torch.cos(angle), torch.sin(angle)
    sx, sy = scale * out_w / work_w, scale * out_h / work_h
    theta[:, 0, 0] = sx * cos_t
    theta[:, 0, 1] = -sin_t * scale * out_h / work_w
    theta[:, 1, 0] = sin_t * scale * out_w / work_h
    theta[:, 1, 1] = sy * cos_t
    theta[:, 0, 2] = 2 * centre_x / work_w - 1
    theta[:, 1, 2] = 2 * centre_y / work_h - 1
    theta = theta.to(device=image.device, dtype=torch.float32)
    clip = torch.empty(frames, image.shape[0], out_h, out_w, device=image.device)
    for first in range(0, frames, 16):  # bounded memory for long clips
        chunk = theta[first:first + 16]
        grid = F.affine_grid(chunk, [len(chunk), image.shape[0], out_h, out_w], align_corners=False)
        clip[first:first + 16] = F.grid_sample(
            work.expand(len(chunk), -1, -1, -1), grid, mode=mode, padding_mode="border", align_corners=False
        )
    return clip.clamp_(0, 1)


# ---------------------------------------------------------------------------------------------
# Parameters


def sample_params(seed: int, strength: str = "medium") -> dict:
    """The per-clip damage parameters for ``seed`` and ``strength`` (plain numbers and strings)."""
    if strength not in STRENGTHS:
        raise RestorationError(f"strength must be one of {', '.join(STRENGTHS)}, got {strength!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise RestorationError(f"seed must be an integer, got {seed!r}")
    gen = _generator(seed, _TAG["clip"])
    params: dict = {"seed": int(seed), "strength": strength}
    for name, (low, high) in PARAM_RANGES[strength].items():
        params[name] = round(_uniform(gen, low, high), 4)
    params["jpeg_quality"] = int(round(params["jpeg_quality"]))
    params["h264_crf"] = int(round(params["h264_crf"]))
    # Faded dyes leave a cast: usually toward red/magenta (cyan and yellow dyes fade first).
    hue = _uniform(gen, -0.6, 0.9)
    params["fade_cast"] = [1.0, round(0.82 + 0.1 * math.cos(hue), 4), round(0.78 + 0.15 * math.sin(hue), 4)]
    params["grain_colour_correlation"] = round(_uniform(gen, 0.75, 0.95), 4)
    draw, total = _uniform(gen), 0.0
    params["compression"] = "none"
    for kind, probability in COMPRESSION_CHOICES[strength].items():
        total += probability
        if draw < total:
            params["compression"] = kind
            break
    return params


# ---------------------------------------------------------------------------------------------
# Individual defects. Each works on one frame (C, H, W) in place or on a whole chunk, and takes
# the frame's absolute number for its randomness.


def _fade_colour(frame: torch.Tensor, params: dict) -> torch.Tensor:
    amount, desaturation = params["fade_amount"], params["fade_desaturation"]
    luma = _luma(frame)
    frame = luma + (frame - luma) * (1 - desaturation)
    cast = torch.tensor(params["fade_cast"], device=frame.device, dtype=frame.dtype).view(3, 1, 1)  # (.., 3, H, W)
    # Dyes lose density: contrast drops toward a lifted, tinted black, and the cast tints everything.
    faded = frame * cast * (1 - 0.3 * amount) + 0.12 * amount * cast
    return frame + amount * (faded - frame)


def _weave_shift(params: dict, n: int, resolution: float) -> tuple[float, float]:
    """Gate weave of frame n in pixels (x, y): a smooth random walk plus a little per-frame jitter."""
    seed = params["seed"]
    amplitude = params["weave_px"] * resolution
    jitter = _generator(seed, _TAG["weave"], n)
    dx = amplitude * (0.8 * _smooth_signal(seed, _TAG["weave"], 0, n, 6.0) + 0.35 * _normal(jitter))
    dy = amplitude * (0.8 * _smooth_signal(seed, _TAG["weave"], 1, n, 6.0) + 0.35 * _normal(jitter))
    return dx, dy


def _translate(frames: torch.Tensor, shifts: list[tuple[float, float]]) -> torch.Tensor:
    """Move each picture of (N, C, H, W) by its (dx, dy) pixels, sub-pixel (bicubic), edges replicated."""
    n, _, h, w = frames.shape
    if all(dx == 0 and dy == 0 for dx, dy in shifts):
        return frames
    shift = torch.tensor(shifts, device=frames.device, dtype=frames.dtype)
    theta = torch.zeros(n, 2, 3, device=frames.device, dtype=frames.dtype)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    theta[:, 0, 2] = -2 * shift[:, 0] / w
    theta[:, 1, 2] = -2 * shift[:, 1] / h
    grid = F.affine_grid(theta, list(frames.shape), align_corners=False)
    return F.grid_sample(frames, grid, mode="bicubic", padding_mode="border", align_corners=False)


def _flicker(frames: torch.Tensor, params: dict, numbers: list[int]) -> torch.Tensor:
    """Exposure flicker: a global gain and offset per frame (part slow drift, part frame to frame)
    times a smooth spatial field (tilts and a vignette that change from frame to frame)."""
    if params["flicker_global"] == 0 and params["flicker_spatial"] == 0:
        return frames
    seed = params["seed"]
    _, _, h, w = frames.shape
    y = torch.linspace(-1, 1, h, device=frames.device, dtype=frames.dtype).view(1, 1, h, 1)
    x = torch.linspace(-1, 1, w, device=frames.device, dtype=frames.dtype).view(1, 1, 1, w)
    radial = x * x + y * y - 2 / 3  # zero-mean over the frame
    gains, offsets, tilts = [], [], []
    for n in numbers:
        gen = _generator(seed, _TAG["flicker"], n)
        gains.append(math.exp(params["flicker_global"] * (0.6 * _smooth_signal(seed, _TAG["flicker"], 0, n, 8.0) + 0.8 * _normal(gen))))
        offsets.append(0.3 * params["flicker_global"] * _normal(gen))
        tilts.append([params["flicker_spatial"] * _smooth_signal(seed, _TAG["flicker"], k, n, 3.0) for k in (1, 2, 3)])
    as_tensor = lambda values: torch.tensor(values, device=frames.device, dtype=frames.dtype)  # noqa: E731
    gain, offset, tilt = as_tensor(gains).view(-1, 1, 1, 1), as_tensor(offsets).view(-1, 1, 1, 1), as_tensor(tilts)
    spatial = 1 + tilt[:, 0].view(-1, 1, 1, 1) * x + tilt[:, 1].view(-1, 1, 1, 1) * y + 1.5 * tilt[:, 2].view(-1, 1, 1, 1) * radial
    return frames * (gain * spatial) + offset


@lru_cache(maxsize=16)
def _grain_spectrum(h: int, w: int, size: float) -> torch.Tensor:
    """rfft2-domain filter (h, w//2+1) turning unit white noise into unit-variance grain: fine
    grains (Gaussian of ``size`` px) plus coarser clumps (2.5x), as in real emulsions."""
    fy = torch.fft.fftfreq(h, dtype=torch.float64).view(-1, 1)

    def response(fx):
        f2 = fy**2 + fx**2
        return 0.85 * torch.exp(-2 * math.pi**2 * size**2 * f2) + 0.53 * torch.exp(-2 * math.pi**2 * (2.5 * size) ** 2 * f2)

    variance = float((response(torch.fft.fftfreq(w, dtype=torch.float64).view(1, -1)) ** 2).mean())  # for unit white noise
    return (response(torch.fft.rfftfreq(w, dtype=torch.float64).view(1, -1)) / math.sqrt(variance)).float()


def _grain_amplitude(luma: torch.Tensor) -> torch.Tensor:
    """Relative grain strength by brightness: greatest in the mid-tones, a third of it in deep
    shadows and highlights (where the emulsion's response curve is flat)."""
    return 0.3 + 0.7 * (4 * luma.clamp(0, 1) * (1 - luma.clamp(0, 1)))


def _add_grain(frames: torch.Tensor, params: dict, numbers: list[int], resolution: float) -> torch.Tensor:
    """Film grain on (N, C, H, W): unit-variance noise, spatially correlated (filtered in the
    Fourier domain), scaled by brightness; colour channels share part of it (the dye layers
    are exposed together). Frame n's noise comes from (seed, n) alone."""
    if params["grain_std"] == 0:
        return frames
    _, channels, h, w = frames.shape
    layers = 1 + (channels if channels == 3 else 0)  # one shared field, plus one per colour channel
    whites, jitters = [], []
    for n in numbers:
        gen = _generator(params["seed"], _TAG["grain"], n)
        jitters.append(1 + 0.1 * _normal(gen))
        whites.append(torch.randn(layers, h, w, generator=gen))
    white = torch.stack(whites).to(frames.device)
    size = round(max(0.4, params["grain_size_px"] * resolution), 2)
    grain = torch.fft.irfft2(torch.fft.rfft2(white) * _grain_spectrum(h, w, size).to(frames.device), s=(h, w))
    if channels == 3:
        rho = params["grain_colour_correlation"]
        grain = math.sqrt(rho) * grain[:, :1] + math.sqrt(1 - rho) * grain[:, 1:]
    strength = params["grain_std"] * torch.tensor(jitters, device=frames.device, dtype=frames.dtype).view(-1, 1, 1, 1)
    return frames + strength * _grain_amplitude(_luma(frames)) * grain


def _stamp(frame: torch.Tensor, change: torch.Tensor, alpha: torch.Tensor, value, top: int, left: int) -> None:
    """Blend ``value`` into ``frame`` (C, H, W) with ``alpha`` (h, w) at (top, left), clipped to the
    frame, and record in ``change`` (H, W) how much each pixel moved (the largest over channels)."""
    h, w = alpha.shape
    frame_h, frame_w = frame.shape[-2:]
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, frame_h), min(left + w, frame_w)
    if y1 <= y0 or x1 <= x0:
        return
    a = alpha[y0 - top:y1 - top, x0 - left:x1 - left]
    region = frame[:, y0:y1, x0:x1]
    v = value[..., y0 - top:y1 - top, x0 - left:x1 - left] if isinstance(value, torch.Tensor) else value
    delta = a * (v - region)
    region.add_(delta)
    change[y0:y1, x0:x1] = torch.maximum(change[y0:y1, x0:x1], delta.abs().amax(dim=0))


def _blotch_alpha(gen: torch.Generator, radius: float, device) -> torch.Tensor:
    """Irregular soft blob: an ellipse whose boundary is pushed around by smooth noise."""
    half = math.ceil(2.2 * radius) + 2
    size = 2 * half + 1
    coords = torch.arange(size, device=device, dtype=torch.float32) - half
    yy, xx = coords.view(-1, 1), coords.view(1, -1)
    angle = _uniform(gen, 0, math.pi)
    aspect = _uniform(gen, 1.0, 2.2)
    u = xx * math.cos(angle) + yy * math.sin(angle)
    v = -xx * math.sin(angle) + yy * math.cos(angle)
    distance = torch.sqrt((u / math.sqrt(aspect)) ** 2 + (v * math.sqrt(aspect)) ** 2) / max(radius, 0.3)  # same area
    wobble = _smooth_noise(gen, size, size, 4, device)
    distance = distance * (1 + 0.45 * wobble)
    softness = _uniform(gen, 0.15, 0.5)
    return ((1 - distance) / softness + 0.5).clamp(0, 1)


def _add_dust(frame: torch.Tensor, change: torch.Tensor, params: dict, n: int, resolution: float) -> None:
    gen = _generator(params["seed"], _TAG["dust"], n)
    count = _poisson(gen, params["dust_per_frame"] * (0.6 + 0.8 * _uniform(gen)))
    _, h, w = frame.shape
    for _ in range(count):
        # Many small specks and a few large blotches: radius ~ Gamma(shape 1.3).
        radius = min(_gamma(gen, 1.3, params["dust_size_px"] * resolution / 1.3), 0.08 * min(h, w))
        radius = max(radius, 0.6)
        alpha = _blotch_alpha(gen, radius, frame.device) * _uniform(gen, 0.75, 1.0)
        bright = _uniform(gen) < params["bright_dust_fraction"]
        base = _uniform(gen, 0.85, 1.0) if bright else _uniform(gen, 0.0, 0.15)
        texture = 0.05 * _smooth_noise(gen, *alpha.shape, 3, frame.device)
        top = int(_uniform(gen, -alpha.shape[0] / 2, h - alpha.shape[0] / 2))
        left = int(_uniform(gen, -alpha.shape[1] / 2, w - alpha.shape[1] / 2))
        _stamp(frame, change, alpha, (base + texture).clamp(0, 1), top, left)


def _add_hairs(frame: torch.Tensor, change: torch.Tensor, params: dict, n: int, resolution: float) -> None:
    gen = _generator(params["seed"], _TAG["hair"], n)
    count = int(_uniform(gen) < params["hair_probability"]) + int(_uniform(gen) < params["hair_probability"] / 4)
    _, h, w = frame.shape
    for _ in range(count):
        length = _uniform(gen, 25, 140) * resolution
        steps = max(8, int(length / 0.7))
        heading = _uniform(gen, 0, 2 * math.pi)
        curl = _uniform(gen, 0.5, 3.0) / length  # radians per pixel, drifting: curves and S shapes
        turn = torch.cumsum(torch.randn(steps, generator=gen) * 0.08 + curl * _normal(gen) * 0.7, 0)
        angles = heading + turn
        step = length / steps
        points = torch.stack([torch.cumsum(torch.cos(angles) * step, 0), torch.cumsum(torch.sin(angles) * step, 0)], 1)
        width = _uniform(gen, 0.6, 1.6) * max(resolution, 0.5)
        margin = math.ceil(width) + 2
        low = points.min(0).values - margin
        high = points.max(0).values + margin
        box_w, box_h = int(high[0] - low[0]) + 1, int(high[1] - low[1]) + 1
        ys, xs = torch.meshgrid(torch.arange(box_h, dtype=torch.float32), torch.arange(box_w, dtype=torch.float32), indexing="ij")
        pixels = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1) + low
        distance = torch.cdist(pixels, points).min(1).values.view(box_h, box_w)
        alpha = ((width / 2 + 0.6 - distance) / 1.2).clamp(0, 1) * _uniform(gen, 0.7, 1.0)
        value = _uniform(gen, 0.0, 0.2) if _uniform(gen) < 0.85 else _uniform(gen, 0.85, 1.0)
        top = int(_uniform(gen, 0, h)) - box_h // 2
        left = int(_uniform(gen, 0, w)) - box_w // 2
        _stamp(frame, change, alpha.to(frame.device), value, top, left)


@dataclass(frozen=True)
class _ScratchEvent:
    """A lasting scratch: a thin vertical line or a crop-and-merge texture, drifting slowly."""

    key: tuple[int, int, int]  # (tag, block, index): seeds its own shape
    kind: str  # "line" or "texture"
    start: int
    lifetime: int
    x: float  # fraction of the width at the start
    drift_px: float  # pixels per frame (at the reference size)
    bright: bool
    opacity: float
    width_px: float
    y0: float  # vertical extent, fractions of the height
    y1: float
    slope: float  # horizontal pixels per row (nearly vertical)


def _scratch_events(params: dict, block: int) -> list[_ScratchEvent]:
    events = []
    for kind, rate_name, tag in (("line", "scratches_per_block", _TAG["scratch"]), ("texture", "texture_scratches_per_block", _TAG["texture"])):
        gen = _generator(params["seed"], tag, block)
        for index in range(_poisson(gen, params[rate_name])):
            long_lived = kind == "line"
            lifetime = int(_uniform(gen, 4, SCRATCH_BLOCK * (SCRATCH_MAX_BLOCKS - 1))) if long_lived else int(_uniform(gen, 2, 8))
            full_height = _uniform(gen) < (0.6 if long_lived else 0.2)
            y0 = 0.0 if full_height else _uniform(gen, 0.0, 0.6)
            y1 = 1.0 if full_height else min(1.0, y0 + _uniform(gen, 0.25, 0.7))
            events.append(_ScratchEvent(
                key=(tag, block, index),
                kind=kind,
                start=block * SCRATCH_BLOCK + int(_uniform(gen, 0, SCRATCH_BLOCK)),
                lifetime=lifetime,
                x=_uniform(gen, 0.02, 0.98),
                drift_px=_normal(gen) * 0.35,
                bright=_uniform(gen) < 0.7,
                opacity=params["scratch_opacity"] * _uniform(gen, 0.7, 1.3),
                width_px=_uniform(gen, 0.6, 2.2) if long_lived else _uniform(gen, 0.25, 0.6),
                y0=y0,
                y1=y1,
                slope=_normal(gen) * 0.01,
            ))
    return events


def _active_events(params: dict, n: int) -> list[_ScratchEvent]:
    block = n // SCRATCH_BLOCK
    events = []
    for b in range(block - SCRATCH_MAX_BLOCKS + 1, block + 1):
        events.extend(e for e in _scratch_events(params, b) if e.start <= n < e.start + e.lifetime)
    return events


def _vertical_extent(event: _ScratchEvent, gen: torch.Generator, h: int, device) -> torch.Tensor:
    """(h,) how strongly the scratch shows along its length: soft ends, uneven depth, small breaks."""
    y = torch.linspace(0, 1, h, device=device)
    ramp = 0.02
    extent = ((y - event.y0) / ramp).clamp(0, 1) * ((event.y1 - y) / ramp).clamp(0, 1)
    depth = 0.75 + 0.25 * _smooth_noise(gen, 1, h, 6, device)[0]
    breaks = (_smooth_noise(gen, 1, h, 12, device)[0] > -0.8).float()
    return extent * depth * breaks


def _line_scratch(frame, change, event: _ScratchEvent, params: dict, n: int, resolution: float) -> None:
    _, h, w = frame.shape
    shape_gen = _generator(params["seed"], *event.key)  # same shape in every frame of its life
    frame_gen = _generator(params["seed"], event.key[0], event.key[1], event.key[2], n)
    along = _vertical_extent(event, shape_gen, h, frame.device)
    wiggle = 0.6 * resolution * _smooth_noise(shape_gen, 1, h, 5, frame.device)[0]
    rows = torch.arange(h, device=frame.device, dtype=torch.float32)
    centre = event.x * w + event.drift_px * resolution * (n - event.start) + 0.3 * _normal(frame_gen) * resolution
    centre_by_row = centre + event.slope * (rows - h / 2) + wiggle
    width = max(event.width_px * resolution, 0.5)
    reach = abs(event.slope) * h / 2 + 0.6 * resolution + 3 * width + 2  # bounds the line's sway
    left, right = int(math.floor(centre - reach)), int(math.ceil(centre + reach))
    if right < 0 or left >= w:
        return
    columns = torch.arange(left, right + 1, device=frame.device, dtype=torch.float32)
    profile = torch.exp(-0.5 * ((columns.view(1, -1) - centre_by_row.view(-1, 1)) / width) ** 2)
    opacity = min(1.0, event.opacity * (1 + 0.15 * _normal(frame_gen)))
    alpha = (profile * along.view(-1, 1) * opacity).clamp(0, 1)
    value = _uniform(shape_gen, 0.85, 1.0) if event.bright else _uniform(shape_gen, 0.0, 0.2)
    _stamp(frame, change, alpha, value, 0, left)


@lru_cache(maxsize=64)
def _scratch_plate(seed: int, key: tuple[int, int, int]) -> torch.Tensor:
    """A procedural scan of scratched film stock (256 x 128): a bundle of thin, nearly vertical,
    broken lines of different depth, plus a few specks. Values in [0, 1]."""
    gen = _generator(seed, *key, 99)
    plate_h, plate_w = 256, 128
    y = torch.arange(plate_h, dtype=torch.float32).view(-1, 1)
    x = torch.arange(plate_w, dtype=torch.float32).view(1, -1)
    plate = torch.zeros(plate_h, plate_w)
    for _ in range(int(_uniform(gen, 3, 12))):
        x0 = _uniform(gen, 0, plate_w)
        slant = math.tan(math.radians(_normal(gen) * 6))
        width = _uniform(gen, 0.4, 1.8)
        depth = _uniform(gen, 0.3, 1.0)
        breaks = (_smooth_noise(gen, plate_h, 1, 10, "cpu") > _uniform(gen, -1.0, 0.2)).float()
        line = torch.exp(-0.5 * ((x - (x0 + slant * (y - plate_h / 2))) / width) ** 2) * depth * breaks
        plate = torch.maximum(plate, line)
    specks = (torch.rand(plate_h, plate_w, generator=gen) > 0.998).float()
    plate = torch.maximum(plate, _gaussian_blur(specks[None, None], 0.7)[0, 0] * 4)
    return plate.clamp(0, 1)


def _texture_scratch(frame, change, event: _ScratchEvent, params: dict, n: int, resolution: float) -> None:
    """Crop and merge: crop the plate, resize it to a random size, blur it, give it local and
    global brightness and a transparency, then blend it in at a slowly drifting position."""
    _, h, w = frame.shape
    shape_gen = _generator(params["seed"], *event.key)
    frame_gen = _generator(params["seed"], event.key[0], event.key[1], event.key[2], n)
    plate = _scratch_plate(params["seed"], event.key)
    crop_h, crop_w = int(_uniform(shape_gen, 64, 256)), int(_uniform(shape_gen, 24, 128))
    top, left = int(_uniform(shape_gen, 0, 256 - crop_h)), int(_uniform(shape_gen, 0, 128 - crop_w))
    crop = plate[top:top + crop_h, left:left + crop_w]
    out_h = max(8, int(h * (event.y1 - event.y0)))
    out_w = max(4, int(min(w, crop_w * out_h / crop_h * _uniform(shape_gen, 0.4, 1.2))))
    texture = F.interpolate(crop[None, None], size=(out_h, out_w), mode="bilinear", align_corners=False)
    texture = _gaussian_blur(texture, _uniform(shape_gen, 0.0, 1.2) * resolution)[0, 0].to(frame.device)
    local = 0.7 + 0.3 * _smooth_noise(shape_gen, out_h, out_w, 3, frame.device)
    global_brightness = _uniform(shape_gen, 0.6, 1.0) * (1 + 0.1 * _normal(frame_gen))
    transparency = min(1.0, event.opacity * _uniform(shape_gen, 0.8, 1.4))
    alpha = (texture * local * global_brightness * transparency).clamp(0, 1)
    value = 1.0 if event.bright else 0.03
    x = event.x * w + event.drift_px * resolution * (n - event.start) - out_w / 2
    _stamp(frame, change, alpha, value, int(event.y0 * h), int(round(x)))


def _jpeg(frame: torch.Tensor, quality: int) -> torch.Tensor:
    array = (frame.clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    image = Image.fromarray(array[0].numpy(), "L") if frame.shape[0] == 1 else Image.fromarray(array.permute(1, 2, 0).numpy(), "RGB")
    buffer = _bytes_io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    decoded = np.asarray(Image.open(buffer).convert("L" if frame.shape[0] == 1 else "RGB"))
    decoded = decoded[None] if decoded.ndim == 2 else decoded.transpose(2, 0, 1)
    return torch.from_numpy(decoded.astype(np.float32) / 255.0).to(frame.device)


def _h264_segment(frames: torch.Tensor, crf: int) -> torch.Tensor:
    """Encode and decode (T, C, H, W) with libx264 (yuv420p) as one closed segment."""
    t, channels, h, w = frames.shape
    pad_h, pad_w = h % 2, w % 2
    padded = F.pad(frames, (0, pad_w, 0, pad_h), mode="replicate") if (pad_h or pad_w) else frames
    array = (padded.clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    array = array.expand(-1, 3, -1, -1) if channels == 1 else array
    array = array.permute(0, 2, 3, 1).contiguous().numpy()
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height = w + pad_w, h + pad_h
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = Fraction(1, 24)
    encoder.framerate = Fraction(24, 1)
    encoder.options = {"crf": str(int(crf)), "preset": "veryfast", "threads": "1", "g": str(H264_SEGMENT),
                       "x264-params": "mbtree=0"}  # with mbtree, x264 varied from run to run
    packets = []
    for i, picture in enumerate(array):
        # Convert to yuv420p ourselves and hand x264 a fresh frame: left to the encoder's own
        # conversion, x264's output varied from run to run, which would break seeding.
        yuv = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p").to_ndarray()
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = i
        # Copy each packet's bytes at once: a kept encoder packet's buffer can be reused by
        # later encodes, which made decoding vary from run to run.
        packets.extend(bytes(packet) for packet in encoder.encode(frame))
    packets.extend(bytes(packet) for packet in encoder.encode(None))
    decoder = av.CodecContext.create("h264", "r")
    decoded = []
    for data in packets:
        decoded.extend(decoder.decode(av.Packet(data)))
    decoded.extend(decoder.decode(None))
    if len(decoded) != t:
        raise RestorationError(f"H.264 damage returned {len(decoded)} frames for {t}")
    pictures = np.stack([d.to_ndarray(format="rgb24") for d in decoded])[:, :h, :w]
    result = torch.from_numpy(pictures.astype(np.float32) / 255.0).permute(0, 3, 1, 2).to(frames.device)
    return _luma(result) if channels == 1 else result


def _compress(frames: torch.Tensor, params: dict, first_frame: int) -> torch.Tensor:
    kind = params["compression"]
    if "jpeg" in kind:
        out = torch.empty_like(frames)
        for i, n in enumerate(range(first_frame, first_frame + len(frames))):
            gen = _generator(params["seed"], _TAG["jpeg"], n)
            quality = int(min(98, max(5, params["jpeg_quality"] + round(4 * _normal(gen)))))
            out[i] = _jpeg(frames[i], quality)
        frames = out
    if "h264" in kind:
        out = torch.empty_like(frames)
        start = 0
        while start < len(frames):
            # segments end on multiples of H264_SEGMENT in absolute frame numbers
            end = min(len(frames), start + H264_SEGMENT - (first_frame + start) % H264_SEGMENT)
            out[start:end] = _h264_segment(frames[start:end], params["h264_crf"])
            start = end
        frames = out
    return frames


# ---------------------------------------------------------------------------------------------
# The model


def degrade(clean: torch.Tensor, *, seed: int, strength: str = "medium", device=None, first_frame: int = 0,
            params: dict | None = None) -> Damage:
    """Damage a clean clip (T, C, H, W) in [0, 1] like old film. Same seed (and strength) ->
    identical output. ``params`` (from ``sample_params``) overrides the per-clip parameters;
    ``first_frame`` is the absolute number of ``clean[0]`` when a clip is processed in chunks.
    Masks: ``dust`` (blotches, dirt, hairs), ``scratch`` (line scratches), ``all`` (either)."""
    _check_frames(clean)
    if isinstance(first_frame, bool) or not isinstance(first_frame, int) or first_frame < 0:
        raise RestorationError(f"first_frame must be a non-negative integer, got {first_frame!r}")
    if params is None:
        params = sample_params(seed, strength)
    else:
        missing = set(PARAM_RANGES["medium"]) - set(params)
        if missing:
            raise RestorationError(f"params lack {', '.join(sorted(missing))}")
        params = {**params, "seed": int(seed)}
    device = torch.device(device) if device is not None else clean.device
    clean = clean.to(device=device, dtype=torch.float32)
    t, channels, h, w = clean.shape
    resolution = min(h, w) / REFERENCE_SIZE

    with torch.no_grad():
        frames = torch.empty_like(clean)
        dust = torch.zeros(t, 1, h, w, device=device)
        scratch = torch.zeros(t, 1, h, w, device=device)
        for start in range(0, t, FRAME_GROUP):  # whole-frame effects run on groups of frames
            numbers = list(range(first_frame + start, first_frame + min(t, start + FRAME_GROUP)))
            # A copy: with no blur, fade, weave, flicker or grain the steps below return their input,
            # and the defects are drawn in place.
            group = clean[start:start + len(numbers)].clone()
            if params["blur_sigma"] > 0:
                sigmas = [params["blur_sigma"] * resolution * (1 + 0.15 * _normal(_generator(params["seed"], _TAG["blur"], n))) for n in numbers]
                group = _gaussian_blur(group, [max(0.0, sigma) for sigma in sigmas])
            if channels == 3 and (params["fade_amount"] > 0 or params["fade_desaturation"] > 0):
                group = _fade_colour(group, params)
            group = _translate(group, [_weave_shift(params, n, resolution) for n in numbers])
            group = _flicker(group, params, numbers)
            group = _add_grain(group, params, numbers, resolution).clamp_(0, 1)
            for i, n in enumerate(numbers):  # defects drawn on the film, frame by frame
                frame, index = group[i], start + i
                _add_dust(frame, dust[index, 0], params, n, resolution)
                _add_hairs(frame, dust[index, 0], params, n, resolution)
                for event in _active_events(params, n):
                    render = _line_scratch if event.kind == "line" else _texture_scratch
                    render(frame, scratch[index, 0], event, params, n, resolution)
            frames[start:start + len(numbers)] = group
        damaged = _compress(frames.clamp(0, 1), params, first_frame).clamp(0, 1)

    dust_mask = (dust > MASK_THRESHOLD).float()
    scratch_mask = (scratch > MASK_THRESHOLD).float()
    masks = {"dust": dust_mask, "scratch": scratch_mask, "all": torch.maximum(dust_mask, scratch_mask)}
    return Damage(clean=clean, damaged=damaged, masks=masks, params=params)


# ---------------------------------------------------------------------------------------------
# CLI


def cli_degrade(args) -> int:
    """`python -m restoration degrade IN OUT --seed N --strength S [--masks MASKS.mkv]`.

    Reads IN in chunks, writes OUT with the input's size, frame count, fps and bit depth. The
    masks file holds (dust, scratch, all) as the (R, G, B) channels (use .mkv: lossless)."""
    from pathlib import Path

    from restoration import io

    info = io.probe(args.input)
    source = Path(args.input).resolve()
    outputs = [Path(args.output)] + ([Path(args.masks)] if args.masks else [])
    for output in outputs:
        if output.resolve() == source:
            raise MediaError(f"{output}: output would overwrite the input")
    if args.masks and Path(args.masks).resolve() == Path(args.output).resolve():
        raise MediaError(f"{args.masks}: the masks file must differ from the output")
    params = sample_params(args.seed, args.strength)
    chunk_size = 2 * H264_SEGMENT  # chunks start on segment boundaries, so chunking changes nothing
    writer = io.VideoWriter(args.output, fps=info.fps, bit_depth=info.bit_depth)
    mask_writer = io.VideoWriter(args.masks, fps=info.fps) if args.masks else None
    try:
        for first, chunk in io.iter_chunks(args.input, chunk_size):
            damage = degrade(chunk, seed=args.seed, params=params, first_frame=first)
            writer.write(damage.damaged)
            if mask_writer is not None:
                writer_masks = torch.cat([damage.masks["dust"], damage.masks["scratch"], damage.masks["all"]], dim=1)
                mask_writer.write(writer_masks)
        if mask_writer is not None:
            mask_writer.close()
        writer.close()
    except BaseException:
        writer.abort()
        if mask_writer is not None:
            mask_writer.abort()
            if not writer.path.exists():  # a masks file without its clip would mislead
                mask_writer.path.unlink(missing_ok=True)
        raise
    print(f"wrote {args.output}: {info.frame_count} frames, {info.width}x{info.height}, strength {args.strength}, seed {args.seed}")
    return 0
