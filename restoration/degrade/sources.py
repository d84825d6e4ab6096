"""Clean sources: scikit-image's bundled photographs, and clean clips of them under synthetic
camera motion (``synthetic_clip``)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from restoration.degrade.parameters import REFERENCE_SIZE
from restoration.degrade.randomness import STREAM_TAGS, keyed_generator, smooth_signal, uniform
from restoration.errors import RestorationError

# Synthetic camera speed limits: pan (fraction of the output width) and zoom (scale) per frame.
MAX_PAN_PER_FRAME = 0.012
MAX_ZOOM_PER_FRAME = 0.004
MOTIONS = ("pan", "zoom", "shake", "mixed")

_SKIMAGE_PHOTOGRAPHS = (
    "astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "gravel", "moon", "page",
    "text", "coins", "hubble_deep_field", "immunohistochemistry", "clock",
)


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

    gen = keyed_generator(seed, STREAM_TAGS["motion"])
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
        change = min(uniform(gen, 0.1, 0.2), MAX_ZOOM_PER_FRAME * (frames - 1) / (math.pi / 2))
        start, end = (1.0, 1.0 - change) if uniform(gen) < 0.5 else (1.0 - change, 1.0)
        scale = start + (end - start) * ease
    max_angle = 0.0
    shake = torch.zeros(frames, 2, dtype=torch.float64)
    if motion in ("shake", "mixed"):
        max_angle = math.radians(0.6)
        amplitude = uniform(gen, 1.0, 3.0) * min(out_h, out_w) / REFERENCE_SIZE
        for axis in range(2):
            shake[:, axis] = torch.tensor([amplitude * smooth_signal(seed, STREAM_TAGS["motion"], axis, n, 5.0) for n in range(frames)])
        angle = torch.tensor([0.4 * max_angle * smooth_signal(seed, STREAM_TAGS["motion"], 2, n, 8.0) for n in range(frames)])
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
        heading = uniform(gen, 0, 2 * math.pi)
        travel = uniform(gen, 0.4, 0.9)
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
