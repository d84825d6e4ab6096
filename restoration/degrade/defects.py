"""The film defects, in the order they arise: optical blur, colour fading, gate weave, flicker,
grain, dust and hairs, line and texture scratches (compression, the last, is in ``compression``).

Each works on one frame (C, H, W) in place or on a whole group of frames, and takes the frame's
absolute number for its randomness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from restoration.degrade.randomness import STREAM_TAGS, gamma, keyed_generator, normal, poisson, smooth_signal, uniform
from restoration.luma import REC601_LUMA, luma

# Lasting events (scratches) are drawn per block of this many frames; they live at most
# SCRATCH_MAX_BLOCKS blocks, so a frame only looks back that far.
SCRATCH_BLOCK = 16
SCRATCH_MAX_BLOCKS = 3


# ---------------------------------------------------------------------------------------------
# Small image helpers


def gaussian_blur(images: torch.Tensor, sigma) -> torch.Tensor:
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


def smooth_noise(gen: torch.Generator, height: int, width: int, cells: int, device) -> torch.Tensor:
    """(height, width) smooth noise in about [-1, 1]: a coarse random grid upsampled bicubically."""
    coarse = torch.rand(1, 1, cells + 1, cells + 1, generator=gen) * 2 - 1
    return F.interpolate(coarse.to(device), size=(height, width), mode="bicubic", align_corners=True)[0, 0].clamp(-1, 1)


# ---------------------------------------------------------------------------------------------
# The defects


def fade_colour(frame: torch.Tensor, params: dict) -> torch.Tensor:
    amount, desaturation = params["fade_amount"], params["fade_desaturation"]
    # Rec. 601 luma throughout the damage model: changing it would change every seeded clip.
    grey = luma(frame, weights=REC601_LUMA)
    frame = grey + (frame - grey) * (1 - desaturation)
    cast = torch.tensor(params["fade_cast"], device=frame.device, dtype=frame.dtype).view(3, 1, 1)  # (.., 3, H, W)
    # Dyes lose density: contrast drops toward a lifted, tinted black, and the cast tints everything.
    faded = frame * cast * (1 - 0.3 * amount) + 0.12 * amount * cast
    return frame + amount * (faded - frame)


def weave_shift(params: dict, n: int, resolution: float) -> tuple[float, float]:
    """Gate weave of frame n in pixels (x, y): a smooth random walk plus a little per-frame jitter."""
    seed = params["seed"]
    amplitude = params["weave_px"] * resolution
    jitter = keyed_generator(seed, STREAM_TAGS["weave"], n)
    dx = amplitude * (0.8 * smooth_signal(seed, STREAM_TAGS["weave"], 0, n, 6.0) + 0.35 * normal(jitter))
    dy = amplitude * (0.8 * smooth_signal(seed, STREAM_TAGS["weave"], 1, n, 6.0) + 0.35 * normal(jitter))
    return dx, dy


def translate(frames: torch.Tensor, shifts: list[tuple[float, float]]) -> torch.Tensor:
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


def add_flicker(frames: torch.Tensor, params: dict, numbers: list[int]) -> torch.Tensor:
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
        gen = keyed_generator(seed, STREAM_TAGS["flicker"], n)
        gains.append(math.exp(params["flicker_global"] * (0.6 * smooth_signal(seed, STREAM_TAGS["flicker"], 0, n, 8.0) + 0.8 * normal(gen))))
        offsets.append(0.3 * params["flicker_global"] * normal(gen))
        tilts.append([params["flicker_spatial"] * smooth_signal(seed, STREAM_TAGS["flicker"], k, n, 3.0) for k in (1, 2, 3)])
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


def add_grain(frames: torch.Tensor, params: dict, numbers: list[int], resolution: float) -> torch.Tensor:
    """Film grain on (N, C, H, W): unit-variance noise, spatially correlated (filtered in the
    Fourier domain), scaled by brightness; colour channels share part of it (the dye layers
    are exposed together). Frame n's noise comes from (seed, n) alone."""
    if params["grain_std"] == 0:
        return frames
    _, channels, h, w = frames.shape
    layers = 1 + (channels if channels == 3 else 0)  # one shared field, plus one per colour channel
    whites, jitters = [], []
    for n in numbers:
        gen = keyed_generator(params["seed"], STREAM_TAGS["grain"], n)
        jitters.append(1 + 0.1 * normal(gen))
        whites.append(torch.randn(layers, h, w, generator=gen))
    white = torch.stack(whites).to(frames.device)
    size = round(max(0.4, params["grain_size_px"] * resolution), 2)
    grain = torch.fft.irfft2(torch.fft.rfft2(white) * _grain_spectrum(h, w, size).to(frames.device), s=(h, w))
    if channels == 3:
        rho = params["grain_colour_correlation"]
        grain = math.sqrt(rho) * grain[:, :1] + math.sqrt(1 - rho) * grain[:, 1:]
    strength = params["grain_std"] * torch.tensor(jitters, device=frames.device, dtype=frames.dtype).view(-1, 1, 1, 1)
    return frames + strength * _grain_amplitude(luma(frames, weights=REC601_LUMA)) * grain


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
    angle = uniform(gen, 0, math.pi)
    aspect = uniform(gen, 1.0, 2.2)
    u = xx * math.cos(angle) + yy * math.sin(angle)
    v = -xx * math.sin(angle) + yy * math.cos(angle)
    distance = torch.sqrt((u / math.sqrt(aspect)) ** 2 + (v * math.sqrt(aspect)) ** 2) / max(radius, 0.3)  # same area
    wobble = smooth_noise(gen, size, size, 4, device)
    distance = distance * (1 + 0.45 * wobble)
    softness = uniform(gen, 0.15, 0.5)
    return ((1 - distance) / softness + 0.5).clamp(0, 1)


def add_dust(frame: torch.Tensor, change: torch.Tensor, params: dict, n: int, resolution: float) -> None:
    gen = keyed_generator(params["seed"], STREAM_TAGS["dust"], n)
    count = poisson(gen, params["dust_per_frame"] * (0.6 + 0.8 * uniform(gen)))
    _, h, w = frame.shape
    for _ in range(count):
        # Many small specks and a few large blotches: radius ~ Gamma(shape 1.3).
        radius = min(gamma(gen, 1.3, params["dust_size_px"] * resolution / 1.3), 0.08 * min(h, w))
        radius = max(radius, 0.6)
        alpha = _blotch_alpha(gen, radius, frame.device) * uniform(gen, 0.75, 1.0)
        bright = uniform(gen) < params["bright_dust_fraction"]
        base = uniform(gen, 0.85, 1.0) if bright else uniform(gen, 0.0, 0.15)
        texture = 0.05 * smooth_noise(gen, *alpha.shape, 3, frame.device)
        top = int(uniform(gen, -alpha.shape[0] / 2, h - alpha.shape[0] / 2))
        left = int(uniform(gen, -alpha.shape[1] / 2, w - alpha.shape[1] / 2))
        _stamp(frame, change, alpha, (base + texture).clamp(0, 1), top, left)


def add_hairs(frame: torch.Tensor, change: torch.Tensor, params: dict, n: int, resolution: float) -> None:
    gen = keyed_generator(params["seed"], STREAM_TAGS["hair"], n)
    count = int(uniform(gen) < params["hair_probability"]) + int(uniform(gen) < params["hair_probability"] / 4)
    _, h, w = frame.shape
    for _ in range(count):
        length = uniform(gen, 25, 140) * resolution
        steps = max(8, int(length / 0.7))
        heading = uniform(gen, 0, 2 * math.pi)
        curl = uniform(gen, 0.5, 3.0) / length  # radians per pixel, drifting: curves and S shapes
        turn = torch.cumsum(torch.randn(steps, generator=gen) * 0.08 + curl * normal(gen) * 0.7, 0)
        angles = heading + turn
        step = length / steps
        points = torch.stack([torch.cumsum(torch.cos(angles) * step, 0), torch.cumsum(torch.sin(angles) * step, 0)], 1)
        width = uniform(gen, 0.6, 1.6) * max(resolution, 0.5)
        margin = math.ceil(width) + 2
        low = points.min(0).values - margin
        high = points.max(0).values + margin
        box_w, box_h = int(high[0] - low[0]) + 1, int(high[1] - low[1]) + 1
        ys, xs = torch.meshgrid(torch.arange(box_h, dtype=torch.float32), torch.arange(box_w, dtype=torch.float32), indexing="ij")
        pixels = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1) + low
        distance = torch.cdist(pixels, points).min(1).values.view(box_h, box_w)
        alpha = ((width / 2 + 0.6 - distance) / 1.2).clamp(0, 1) * uniform(gen, 0.7, 1.0)
        value = uniform(gen, 0.0, 0.2) if uniform(gen) < 0.85 else uniform(gen, 0.85, 1.0)
        top = int(uniform(gen, 0, h)) - box_h // 2
        left = int(uniform(gen, 0, w)) - box_w // 2
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
    for kind, rate_name, tag in (("line", "scratches_per_block", STREAM_TAGS["scratch"]), ("texture", "texture_scratches_per_block", STREAM_TAGS["texture"])):
        gen = keyed_generator(params["seed"], tag, block)
        for index in range(poisson(gen, params[rate_name])):
            long_lived = kind == "line"
            lifetime = int(uniform(gen, 4, SCRATCH_BLOCK * (SCRATCH_MAX_BLOCKS - 1))) if long_lived else int(uniform(gen, 2, 8))
            full_height = uniform(gen) < (0.6 if long_lived else 0.2)
            y0 = 0.0 if full_height else uniform(gen, 0.0, 0.6)
            y1 = 1.0 if full_height else min(1.0, y0 + uniform(gen, 0.25, 0.7))
            events.append(_ScratchEvent(
                key=(tag, block, index),
                kind=kind,
                start=block * SCRATCH_BLOCK + int(uniform(gen, 0, SCRATCH_BLOCK)),
                lifetime=lifetime,
                x=uniform(gen, 0.02, 0.98),
                drift_px=normal(gen) * 0.35,
                bright=uniform(gen) < 0.7,
                opacity=params["scratch_opacity"] * uniform(gen, 0.7, 1.3),
                width_px=uniform(gen, 0.6, 2.2) if long_lived else uniform(gen, 0.25, 0.6),
                y0=y0,
                y1=y1,
                slope=normal(gen) * 0.01,
            ))
    return events


def active_events(params: dict, n: int) -> list[_ScratchEvent]:
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
    depth = 0.75 + 0.25 * smooth_noise(gen, 1, h, 6, device)[0]
    breaks = (smooth_noise(gen, 1, h, 12, device)[0] > -0.8).float()
    return extent * depth * breaks


def line_scratch(frame, change, event: _ScratchEvent, params: dict, n: int, resolution: float) -> None:
    _, h, w = frame.shape
    shape_gen = keyed_generator(params["seed"], *event.key)  # same shape in every frame of its life
    frame_gen = keyed_generator(params["seed"], event.key[0], event.key[1], event.key[2], n)
    along = _vertical_extent(event, shape_gen, h, frame.device)
    wiggle = 0.6 * resolution * smooth_noise(shape_gen, 1, h, 5, frame.device)[0]
    rows = torch.arange(h, device=frame.device, dtype=torch.float32)
    centre = event.x * w + event.drift_px * resolution * (n - event.start) + 0.3 * normal(frame_gen) * resolution
    centre_by_row = centre + event.slope * (rows - h / 2) + wiggle
    width = max(event.width_px * resolution, 0.5)
    reach = abs(event.slope) * h / 2 + 0.6 * resolution + 3 * width + 2  # bounds the line's sway
    left, right = int(math.floor(centre - reach)), int(math.ceil(centre + reach))
    if right < 0 or left >= w:
        return
    columns = torch.arange(left, right + 1, device=frame.device, dtype=torch.float32)
    profile = torch.exp(-0.5 * ((columns.view(1, -1) - centre_by_row.view(-1, 1)) / width) ** 2)
    opacity = min(1.0, event.opacity * (1 + 0.15 * normal(frame_gen)))
    alpha = (profile * along.view(-1, 1) * opacity).clamp(0, 1)
    value = uniform(shape_gen, 0.85, 1.0) if event.bright else uniform(shape_gen, 0.0, 0.2)
    _stamp(frame, change, alpha, value, 0, left)


@lru_cache(maxsize=64)
def _scratch_plate(seed: int, key: tuple[int, int, int]) -> torch.Tensor:
    """A procedural scan of scratched film stock (256 x 128): a bundle of thin, nearly vertical,
    broken lines of different depth, plus a few specks. Values in [0, 1]."""
    gen = keyed_generator(seed, *key, 99)
    plate_h, plate_w = 256, 128
    y = torch.arange(plate_h, dtype=torch.float32).view(-1, 1)
    x = torch.arange(plate_w, dtype=torch.float32).view(1, -1)
    plate = torch.zeros(plate_h, plate_w)
    for _ in range(int(uniform(gen, 3, 12))):
        x0 = uniform(gen, 0, plate_w)
        slant = math.tan(math.radians(normal(gen) * 6))
        width = uniform(gen, 0.4, 1.8)
        depth = uniform(gen, 0.3, 1.0)
        breaks = (smooth_noise(gen, plate_h, 1, 10, "cpu") > uniform(gen, -1.0, 0.2)).float()
        line = torch.exp(-0.5 * ((x - (x0 + slant * (y - plate_h / 2))) / width) ** 2) * depth * breaks
        plate = torch.maximum(plate, line)
    specks = (torch.rand(plate_h, plate_w, generator=gen) > 0.998).float()
    plate = torch.maximum(plate, gaussian_blur(specks[None, None], 0.7)[0, 0] * 4)
    return plate.clamp(0, 1)


def texture_scratch(frame, change, event: _ScratchEvent, params: dict, n: int, resolution: float) -> None:
    """Crop and merge: crop the plate, resize it to a random size, blur it, give it local and
    global brightness and a transparency, then blend it in at a slowly drifting position."""
    _, h, w = frame.shape
    shape_gen = keyed_generator(params["seed"], *event.key)
    frame_gen = keyed_generator(params["seed"], event.key[0], event.key[1], event.key[2], n)
    plate = _scratch_plate(params["seed"], event.key)
    crop_h, crop_w = int(uniform(shape_gen, 64, 256)), int(uniform(shape_gen, 24, 128))
    top, left = int(uniform(shape_gen, 0, 256 - crop_h)), int(uniform(shape_gen, 0, 128 - crop_w))
    crop = plate[top:top + crop_h, left:left + crop_w]
    out_h = max(8, int(h * (event.y1 - event.y0)))
    out_w = max(4, int(min(w, crop_w * out_h / crop_h * uniform(shape_gen, 0.4, 1.2))))
    texture = F.interpolate(crop[None, None], size=(out_h, out_w), mode="bilinear", align_corners=False)
    texture = gaussian_blur(texture, uniform(shape_gen, 0.0, 1.2) * resolution)[0, 0].to(frame.device)
    local = 0.7 + 0.3 * smooth_noise(shape_gen, out_h, out_w, 3, frame.device)
    global_brightness = uniform(shape_gen, 0.6, 1.0) * (1 + 0.1 * normal(frame_gen))
    transparency = min(1.0, event.opacity * uniform(shape_gen, 0.8, 1.4))
    alpha = (texture * local * global_brightness * transparency).clamp(0, 1)
    value = 1.0 if event.bright else 0.03
    x = event.x * w + event.drift_px * resolution * (n - event.start) - out_w / 2
    _stamp(frame, change, alpha, value, int(event.y0 * h), int(round(x)))
