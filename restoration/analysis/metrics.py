"""Per-frame defect statistics, gathered in one streaming pass, and their per-shot summary.

Temporal statistics (dust, weave, flicker, motion, scratches) are measured on an
*analysis image*: the luma area-averaged by an integer factor so that it is at most
``ANALYSIS_HEIGHT`` lines tall (a 480x368 scan becomes 240x184). Statistics that need native
pixels (noise, blockiness) use a centre crop of at most ``CROP`` x ``CROP`` native pixels whose
corner sits on the 8x8 block grid. Only the last two analysis images are kept between chunks,
so memory does not grow with the clip.

Shot metrics (all floats; ``None`` where they do not apply):

=================  ==========================================================================
``noise``          grain/noise standard deviation in 8-bit code values (0-255): Immerkaer's 3x3
                   noise operator (mean absolute response over flat pixels, gradient below the
                   frame's mean) on native luma and on its 2x2 average; the larger of the two, so
                   grain wider than a pixel is seen too. Clean digital video ~0.5-1.5, grainy film 3-8.
``grain``          temporal grain estimate in 8-bit code values: robust std (median absolute value)
                   of f_t - (f_t-1 + f_t+1) / 2 on the analysis image, the neighbours motion-
                   compensated by the ops' dense flow and brightness-matched
                   (``ops.flow.align_neighbours``), over the pixels whose flow to both passes the
                   forward-backward check, divided by sqrt(1.5). Texture, weave, camera moves,
                   flicker and things moving on their own are not grain: clean photographs under
                   camera motion read 0.2-1.5, lightly grainy film 2.8 and up.
``dust``           dust/blotch density: fraction of analysis-image pixels that are temporal spikes
                   (brighter or darker by more than ``SPIKE_THRESHOLD`` than both aligned
                   neighbours, with a 3x3 tolerance; where the flow fails its check, a tolerance
                   of ``UNFOLLOWED_SEARCH`` pixels, so a thing moving on its own is not dust while
                   a blotch too large for the flow still is). Clean ~0, dusty film ~1e-3-1e-2.
``scratch``        mean number of vertical line scratches per frame: thin (1-3 px) columns that
                   stand out from their horizontal neighbourhood in all three horizontal bands.
``flicker``        robust std (1.4826 MAD) of the frame mean luma after removing its 9-frame moving
                   average, divided by the mean luma. Steady ~0.002, visible flicker > 0.01.
``weave``          gate weave in native pixels: RMS of the frame-to-frame global translation path
                   (phase correlation) minus its 9-frame moving average.
``blockiness``     mean luma step across 8x8 block boundaries divided by the step inside blocks,
                   minus 1 (0: no blocking; > 0.25: visible blocking).
``sharpness``      variance of the Laplacian of the analysis image divided by its variance
                   (scale-free; soft footage < 0.05, crisp > 0.2).
``motion``         mean absolute frame-to-frame difference of the gain-normalised analysis image,
                   8-bit code values.
``black_level``    median over frames of the 1st percentile of luma, in [0, 1].
``white_level``    median over frames of the 99th percentile of luma, in [0, 1].
``is_grey``        True when every frame has (near) equal R, G and B (or one channel).
``colour_cast``    colour only: length of the mean (Cb, Cr) offset from neutral, 8-bit units.
``saturation``     colour only: mean chroma magnitude sqrt(Cb^2 + Cr^2), 8-bit units (faded < 8).
``red_gain``,      colour only: grey-world channel gains (mean luma / channel mean) that would
``green_gain``,    neutralise the cast; 1.0 means balanced.
``blue_gain``
``frames``         number of frames in the shot (int).
=================  ==========================================================================
"""

from __future__ import annotations

import math
from array import array

import numpy as np
import torch
import torch.nn.functional as F

from restoration.luma import REC601_LUMA, luma
from restoration.ops._common import max_filter, min_filter

ANALYSIS_HEIGHT = 240
# Forward-backward confidence (ops.flow.consistency) above which a pixel's neighbours show its content.
FOLLOWED = 0.8
# Analysis-image pixels around an unfollowed spike searched for it in the neighbours (things move
# up to ~9 px per frame in 320-wide pictures).
UNFOLLOWED_SEARCH = 12
CROP = 256
SPIKE_THRESHOLD = 0.1  # in [0, 1] luma: well above grain on the analysis image
TREND_WINDOW = 9  # frames; flicker and weave are what is left after this moving average
SCRATCH_MIN_CONTRAST = 0.012  # column-mean contrast a scratch must have, [0, 1] luma
SCRATCH_ROBUST_Z = 5.0
MAX_SHIFT_FRACTION = 0.25  # phase-correlation peaks beyond this are not trusted

PER_FRAME_KEYS = (
    "mean", "noise", "blockiness", "sharpness", "black", "white", "grey", "cb", "cr", "chroma",
    "red", "green", "blue", "dx", "dy", "motion", "spikes", "grain", "scratches",
)


def _laplacian(x: torch.Tensor) -> torch.Tensor:
    """4-neighbour Laplacian of the interior pixels of (N, 1, h, w)."""
    centre = x[..., 1:-1, 1:-1]
    return x[..., :-2, 1:-1] + x[..., 2:, 1:-1] + x[..., 1:-1, :-2] + x[..., 1:-1, 2:] - 4 * centre


def analysis_factor(height: int) -> int:
    return max(1, math.ceil(height / ANALYSIS_HEIGHT))


def _noise_sigma(luma: torch.Tensor) -> torch.Tensor:
    """Immerkaer's estimate sigma = sqrt(pi/2) * mean|K * I| / 6, over flat pixels only.

    Pixels whose (smoothed) gradient is above the frame's mean (edges, texture) are left out,
    so picture detail does not pass for noise; no sorting, so it stays cheap.
    """
    x = luma[:, 0]
    # K = [1, -2, 1] outer [1, -2, 1]: two second differences (slicing beats conv2d on CPU here)
    second_x = x[:, :, :-2] - 2 * x[:, :, 1:-1] + x[:, :, 2:]
    response = (second_x[:, :-2] - 2 * second_x[:, 1:-1] + second_x[:, 2:]).abs()
    # the flat-pixel mask comes from a 3x3-smoothed image: grain barely moves its gradient, so
    # grainy areas are not mistaken for edges and left out (which would hide the grain)
    smooth = x[:, :, :-2] + x[:, :, 1:-1] + x[:, :, 2:]
    smooth = (smooth[:, :-2] + smooth[:, 1:-1] + smooth[:, 2:]) / 9.0
    gradient = (smooth[:, 1:-1, 2:] - smooth[:, 1:-1, :-2]).abs() + (smooth[:, 2:, 1:-1] - smooth[:, :-2, 1:-1]).abs()
    gradient = F.pad(gradient[:, None], (1, 1, 1, 1), mode="replicate")[:, 0]
    flat = (gradient <= gradient.mean((1, 2), keepdim=True)).float()
    mean_response = (response * flat).sum((1, 2)) / flat.sum((1, 2)).clamp_min(1.0)
    return math.sqrt(math.pi / 2) * mean_response / 6.0 * 255.0


def _blockiness(luma: torch.Tensor) -> torch.Tensor:
    gx = (luma[..., :, 1:] - luma[..., :, :-1]).abs().mean(2)[:, 0]  # (T, W-1): step between x and x+1
    gy = (luma[..., 1:, :] - luma[..., :-1, :]).abs().mean(3)[:, 0]  # (T, H-1)

    def ratio(g: torch.Tensor) -> torch.Tensor:
        boundary = (torch.arange(g.shape[1], device=g.device) % 8) == 7
        if boundary.sum() == 0 or (~boundary).sum() == 0:
            return torch.zeros(g.shape[0], device=g.device)
        return g[:, boundary].mean(1) / g[:, ~boundary].mean(1).clamp_min(1e-6)

    return 0.5 * (ratio(gx) + ratio(gy)) - 1.0


def _centre_crop(frames: torch.Tensor) -> torch.Tensor:
    h, w = frames.shape[-2:]
    ch, cw = min(h, CROP), min(w, CROP)
    top, left = ((h - ch) // 2) // 8 * 8, ((w - cw) // 2) // 8 * 8
    return frames[..., top : top + ch, left : left + cw]


def _phase_correlation(reference: torch.Tensor, moved: torch.Tensor) -> torch.Tensor:
    """Translation (N, 2) as (dx, dy) in analysis pixels such that moved(x) ~ reference(x - d)."""
    n, h, w = reference.shape
    window = torch.hann_window(h, periodic=False)[:, None] * torch.hann_window(w, periodic=False)[None, :]
    a = torch.fft.rfft2((reference - reference.mean((1, 2), keepdim=True)) * window)
    b = torch.fft.rfft2((moved - moved.mean((1, 2), keepdim=True)) * window)
    cross = b * a.conj()
    surface = torch.fft.irfft2(cross / cross.abs().clamp_min(1e-9), s=(h, w))
    flat = surface.flatten(1).argmax(1)
    py, px = flat // w, flat % w

    def refine(peak: torch.Tensor, size: int, axis: int) -> torch.Tensor:
        idx = torch.arange(n)
        minus, plus = (peak - 1) % size, (peak + 1) % size
        if axis == 0:
            c, m, p = surface[idx, peak, px], surface[idx, minus, px], surface[idx, plus, px]
        else:
            c, m, p = surface[idx, py, peak], surface[idx, py, minus], surface[idx, py, plus]
        denominator = (m - 2 * c + p)
        offset = torch.where(denominator.abs() > 1e-9, 0.5 * (m - p) / denominator, torch.zeros_like(c))
        value = peak.float() + offset.clamp(-0.5, 0.5)
        return torch.where(value > size / 2, value - size, value)

    dy, dx = refine(py, h, 0), refine(px, w, 1)
    untrusted = (dx.abs() > MAX_SHIFT_FRACTION * w) | (dy.abs() > MAX_SHIFT_FRACTION * h)
    shift = torch.stack([dx, dy], 1)
    shift[untrusted] = float("nan")
    return shift


def _max3x3(x: torch.Tensor) -> torch.Tensor:
    """3x3 maximum filter (edge-replicated), separable: much faster than max_pool2d with stride 1."""
    x = F.pad(x, (1, 1, 1, 1), mode="replicate")
    rows = torch.maximum(torch.maximum(x[..., :-2, :], x[..., 1:-1, :]), x[..., 2:, :])
    return torch.maximum(torch.maximum(rows[..., :-2], rows[..., 1:-1]), rows[..., 2:])


def _spike_fraction(full: torch.Tensor, middle: torch.Tensor):
    """Fraction of pixels of each frame ``full[middle]`` (analysis images (N,1,h,w)) that spike
    against both neighbours, and the temporal grain estimate (8-bit units) from the same aligned
    neighbours.

    The neighbours are motion-compensated with the ops' dense flow and brightness-matched
    (``ops.flow.align_neighbours``): weave, camera moves and flicker are not grain. Only pixels
    whose flow to both neighbours passes the forward-backward check count: a thing moving on its
    own or an occlusion is neither dust nor grain."""
    from restoration.ops.flow import ChainedFlows, align_neighbours

    flows = ChainedFlows(full)
    flows.prepare(range(full.shape[0] - 1))
    centres = middle.tolist()
    aligned, confidence = align_neighbours(full, flows, centres * 2, (middle - 1).tolist() + (middle + 1).tolist())
    p, f = aligned.chunk(2)
    current = full[middle]
    followed = (confidence > FOLLOWED).view(2, len(centres), *confidence.shape[1:]).all(0)
    upper = torch.maximum(_max3x3(p), _max3x3(f))
    lower = torch.minimum(-_max3x3(-p), -_max3x3(-f))
    # Where the flow fails its check a spike may be a thing moving on its own (found again a few
    # pixels away in the neighbours) or a blotch too large for the flow to see past (found nowhere
    # near): there a spike must stand out of the neighbours' range over a wide window.
    wide = UNFOLLOWED_SEARCH
    upper = torch.where(followed, upper, torch.maximum(max_filter(p, wide), max_filter(f, wide)))
    lower = torch.where(followed, lower, torch.minimum(min_filter(p, wide), min_filter(f, wide)))
    spikes = (current > upper + SPIKE_THRESHOLD) | (current < lower - SPIKE_THRESHOLD)
    margin = 4  # the warp's border padding is not a real neighbour
    fraction = spikes[..., margin:-margin, margin:-margin].float().mean((1, 2, 3))
    # grain changes every frame, picture texture does not: r = f_t - (f_t-1 + f_t+1) / 2 has
    # std sigma * sqrt(1.5) for independent grain; the median keeps what is left of dust out of it
    residual = (current - 0.5 * (p + f))[..., margin:-margin, margin:-margin].flatten(1)
    kept = followed[..., margin:-margin, margin:-margin].flatten(1)
    grain = torch.stack([
        _median_abs(row[keep]) if int(keep.sum()) >= 64 else _median_abs(row) for row, keep in zip(residual, kept, strict=True)
    ]) / 0.6745 / math.sqrt(1.5) * 255.0
    return fraction, grain


def _median_abs(values: torch.Tensor) -> torch.Tensor:
    sample = values[:: max(1, values.numel() // 8192)].abs()
    return sample.kthvalue(max(1, sample.numel() // 2)).values


def _scratch_count(luma: torch.Tensor) -> torch.Tensor:
    """Vertical line scratches per frame in (N,1,h,w) analysis images."""
    n, _, h, w = luma.shape
    bands = torch.stack([luma[:, 0, i * h // 3 : (i + 1) * h // 3].mean(1) for i in range(3)], 1)  # N,3,w
    padded = F.pad(bands, (4, 4), mode="replicate")
    background = padded.unfold(-1, 9, 1).median(-1).values  # a median ignores a thin line
    high = bands - background
    scale = 1.4826 * high.abs().median(-1, keepdim=True).values + 1e-4
    strong = high.abs() > torch.maximum(SCRATCH_ROBUST_Z * scale, torch.full_like(scale, SCRATCH_MIN_CONTRAST))
    same_sign = (torch.sign(high) == torch.sign(high[:, :1])).all(1)
    line = strong.all(1) & same_sign
    # the gate's edges and black borders make thin columns too: leave 4 % of the width each side
    margin = max(4, w // 25)
    line[:, :margin] = False
    line[:, -margin:] = False
    starts = line[:, 1:] & ~line[:, :-1]
    return (starts.sum(1) + line[:, 0].long()).float()


class FrameStatistics:
    """Streaming per-frame statistics: ``feed`` chunks (T, C, H, W) in order, read ``values``."""

    def __init__(self) -> None:
        # compact float64 arrays: a feature film's worth of frames stays a few tens of MB
        self.values: dict[str, array] = {key: array("d") for key in PER_FRAME_KEYS}
        self.frame_count = 0
        self.factor: int | None = None
        self._carry = torch.zeros(0)  # last two analysis images
        self._carry_shift = torch.zeros(0, 2)  # their shifts relative to the frame before each

    def feed(self, frames: torch.Tensor) -> None:
        from restoration.analysis.shots import single_threaded

        with single_threaded():
            self._feed(frames)

    def _feed(self, frames: torch.Tensor) -> None:
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[1] not in (1, 3):
            raise ValueError(f"expected frames (T, C, H, W) with C 1 or 3, got shape {tuple(frames.shape)}")
        if frames.shape[0] == 0:
            return
        frames = frames.detach().float().cpu().contiguous()
        if self.factor is None:
            self.factor = analysis_factor(frames.shape[-2])
        t = frames.shape[0]
        # Rec. 601 luma: the metrics' thresholds (and the recommendations built on them) were tuned on it.
        grey = luma(frames, weights=REC601_LUMA)
        crop = _centre_crop(grey)
        small_rgb = F.avg_pool2d(frames, self.factor) if self.factor > 1 else frames
        small = luma(small_rgb, weights=REC601_LUMA)
        values = self.values

        # scanned grain is often a few pixels wide and escapes a 3x3 operator at native size;
        # the same estimate on the 2x2-averaged crop catches it (white noise reads half there)
        even = crop[..., : crop.shape[-2] // 2 * 2, : crop.shape[-1] // 2 * 2]
        coarse = F.avg_pool2d(even, 2) if min(even.shape[-2:]) >= 16 else even
        values["noise"].extend(torch.maximum(_noise_sigma(crop), _noise_sigma(coarse)).tolist())
        values["blockiness"].extend(_blockiness(crop).tolist())
        lap = _laplacian(small)
        values["sharpness"].extend((lap.flatten(1).var(1) / small.flatten(1).var(1).clamp_min(1e-6)).tolist())
        flat = small.flatten(1)
        values["mean"].extend(flat.mean(1).tolist())
        sample = flat[:, :: max(1, flat.shape[1] // 4096)]
        k = sample.shape[1]
        values["black"].extend(sample.kthvalue(max(1, round(0.01 * k)), 1).values.tolist())
        values["white"].extend(sample.kthvalue(max(1, round(0.99 * k)), 1).values.tolist())
        self._colour(small_rgb, small)

        # temporal: translation and motion against the previous frame, spikes once the next arrives
        full = torch.cat([self._carry, small]) if len(self._carry) else small
        carried = full.shape[0] - t
        shifts = torch.full((t, 2), float("nan"))
        if full.shape[0] > 1:
            new_index = torch.arange(max(carried, 1), full.shape[0])
            shifts[new_index - carried] = _phase_correlation(full[new_index - 1, 0], full[new_index, 0])
            gain = full[new_index].mean((1, 2, 3), keepdim=True) / full[new_index - 1].mean((1, 2, 3), keepdim=True).clamp_min(1e-4)
            motion = (full[new_index] - full[new_index - 1] * gain).abs().mean((1, 2, 3)) * 255.0
        else:
            new_index, motion = torch.arange(0), torch.zeros(0)
        motion_all = torch.full((t,), float("nan"))
        motion_all[new_index - carried] = motion
        values["dx"].extend((shifts[:, 0] * self.factor).tolist())
        values["dy"].extend((shifts[:, 1] * self.factor).tolist())
        values["motion"].extend(motion_all.tolist())
        all_shifts = torch.cat([self._carry_shift, shifts])

        base = self.frame_count - carried  # frame number of full[0]
        if not values["spikes"]:
            values["spikes"].append(float("nan"))  # frame 0 has no previous frame
            values["grain"].append(float("nan"))
            values["scratches"].append(float(_scratch_count(full[:1])[0]))
        middle = torch.arange(1, max(full.shape[0] - 1, 1))
        middle = middle[middle + base >= len(values["spikes"])]
        if len(middle):
            fractions, grain = _spike_fraction(full, middle)
            values["spikes"].extend(fractions.tolist())
            values["grain"].extend(grain.tolist())
            values["scratches"].extend(_scratch_count(full[middle]).tolist())

        self.frame_count += t
        self._carry = full[-2:].clone()
        self._carry_shift = all_shifts[-2:].clone()

    def _colour(self, rgb: torch.Tensor, luma: torch.Tensor) -> None:
        values = self.values
        t = rgb.shape[0]
        if rgb.shape[1] == 1:
            values["grey"].extend([1.0] * t)
            for key in ("cb", "cr", "chroma", "red", "green", "blue"):
                values[key].extend([float("nan")] * t)
            return
        r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
        spread = ((r - g).abs() + (g - b).abs()).mean((1, 2)) * 255.0
        values["grey"].extend((spread < 2.0).float().tolist())
        cb = 0.564 * (b - luma[:, 0]) * 255.0
        cr = 0.713 * (r - luma[:, 0]) * 255.0
        values["cb"].extend(cb.mean((1, 2)).tolist())
        values["cr"].extend(cr.mean((1, 2)).tolist())
        values["chroma"].extend(torch.sqrt(cb**2 + cr**2).mean((1, 2)).tolist())
        values["red"].extend(r.mean((1, 2)).tolist())
        values["green"].extend(g.mean((1, 2)).tolist())
        values["blue"].extend(b.mean((1, 2)).tolist())

    def finish(self) -> None:
        """Close the stream: the last frame has no following frame for the spike test."""
        while len(self.values["spikes"]) < self.frame_count:
            self.values["spikes"].append(float("nan"))
            self.values["grain"].append(float("nan"))
            last = self._carry[-1:] if len(self._carry) else None
            self.values["scratches"].append(float(_scratch_count(last)[0]) if last is not None else float("nan"))


def _moving_average(x: np.ndarray, window: int = TREND_WINDOW) -> np.ndarray:
    if len(x) == 0:
        return x
    half = min(window // 2, len(x) - 1)
    # odd reflection continues a straight line, so a steady pan or fade has no "jitter" at the ends
    padded = np.pad(x, half, mode="reflect", reflect_type="odd") if half > 0 else x
    kernel = np.ones(2 * half + 1) / (2 * half + 1)
    return np.convolve(padded, kernel, mode="valid")


def _finite_mean(x: np.ndarray, default: float = 0.0) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else default


def _finite_median(x: np.ndarray, default: float = 0.0) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else default


def shot_metrics(values, start: int, end: int) -> dict:
    """Summarise per-frame statistics for frames ``start..end`` (inclusive) of one shot."""
    v = {key: np.asarray(values[key][start : end + 1], dtype=np.float64) for key in PER_FRAME_KEYS}
    frames = end - start + 1
    # temporal statistics that look across the shot's first/last frame belong to another shot
    spikes = v["spikes"][1:-1] if frames > 2 else np.array([])
    moved = v["motion"][1:]
    dx, dy = v["dx"][1:], v["dy"][1:]

    mean = v["mean"]
    if frames >= 3 and mean.mean() > 1e-3:
        # robust spread (1.4826 MAD): one burnt frame is dust, not flicker
        residual = mean - _moving_average(mean)
        flicker = float(1.4826 * np.median(np.abs(residual - np.median(residual))) / mean.mean())
    else:
        flicker = 0.0

    weave = 0.0
    step = np.stack([dx, dy], 1) if len(dx) else np.zeros((0, 2))
    step = step[np.isfinite(step).all(1)]
    if len(step) >= 3:
        path = np.cumsum(step, 0)
        jitter = path - np.stack([_moving_average(path[:, 0]), _moving_average(path[:, 1])], 1)
        weave = float(np.sqrt((jitter**2).sum(1).mean()))

    is_grey = bool(np.all(v["grey"] > 0.5))
    metrics = {
        "frames": frames,
        "noise": _finite_median(v["noise"]),
        "grain": _finite_median(v["grain"][1:-1]) if frames > 2 else 0.0,
        "dust": _finite_mean(spikes),
        "scratch": _finite_mean(v["scratches"]),
        "flicker": flicker,
        "weave": weave,
        "blockiness": _finite_mean(v["blockiness"]),
        "sharpness": _finite_median(v["sharpness"]),
        "motion": _finite_mean(moved),
        "black_level": _finite_median(v["black"]),
        "white_level": _finite_median(v["white"]),
        "is_grey": is_grey,
        "colour_cast": None,
        "saturation": None,
        "red_gain": None,
        "green_gain": None,
        "blue_gain": None,
    }
    if not is_grey:
        metrics["colour_cast"] = float(math.hypot(_finite_mean(v["cb"]), _finite_mean(v["cr"])))
        metrics["saturation"] = _finite_mean(v["chroma"])
        red, green, blue = _finite_mean(v["red"]), _finite_mean(v["green"]), _finite_mean(v["blue"])
        grey_level = (red + green + blue) / 3
        metrics["red_gain"] = grey_level / max(red, 1e-4)
        metrics["green_gain"] = grey_level / max(green, 1e-4)
        metrics["blue_gain"] = grey_level / max(blue, 1e-4)
    return {key: (round(value, 6) if isinstance(value, float) else value) for key, value in metrics.items()}


def frame_statistics(frames: torch.Tensor) -> FrameStatistics:
    """Per-frame statistics of a whole tensor (T, C, H, W) at once (tests, small clips)."""
    stats = FrameStatistics()
    stats.feed(frames)
    stats.finish()
    return stats
