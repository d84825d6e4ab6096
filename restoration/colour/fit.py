"""Learned grades: a CDL and a residual 3D LUT fitted to a colourist's graded reference stills.

A colourist grades a few frames of a shot in their own tool and hands over stills. Those come
from another transfer of the film: framed a few pixels differently, a few percent larger,
8-bit and compressed. So, for each (frame, still) pair:

1. **Registration** (``register_still``). The still is resized to the frame, then the scale
   (0.94..1.06, about the centre) and translation that best align it are found on luma
   gradient magnitudes, which a grade barely changes (it changes contrast, not where edges
   are): for each scale on a coarse grid, phase correlation gives the translation and a peak
   height; the best scale is refined on a finer grid, the translation to a sub-pixel. The
   alignment is scored by the normalised correlation of the gradient images over the
   overlap; a still whose aspect differs by more than 2 %, that overlaps too little or that
   correlates too weakly is refused: its colours would be compared with the wrong pixels.
2. **Colour pairs.** Both pictures are compared at a working size (about 256 pixels on the
   short side) after a 3x3 box blur: a grade is about colour, and this averages away grain,
   JPEG blocks and what is left of misregistration. Each pair is weighted down near strong
   edges, where a fraction of a pixel of misregistration, not the grade, sets the difference.
3. **CDL** (``fit_cdl``): the 10 ASC parameters (slope, offset, power per channel;
   saturation), by L-BFGS on a robust (Huber) distance in CIE Lab, so the fit minimises what
   the eye (and CIEDE2000) sees and ignores dust, scratches and the odd mismatched pixel.
   For speed (``CdlSettings``, ``FAST_CDL``): on at most 15,000 of the pairs, in float32, from
   the better of a straight-line start and identity; each held-out fold starts from the full
   fit's CDL for a few iterations, and its CDL + LUT variant reuses that fold's CDL.
4. **Residual LUT** (``fit_residual_lut``): what the CDL cannot express (cross-channel twists,
   S-curves) as a smooth correction of the CDL's output. The correction lives on a coarse
   9-point lattice, fitted to the scattered pairs by least squares with a smoothness
   (Laplacian) penalty and a small pull toward no correction where no pixel says otherwise
   (iteratively reweighted, Huber); it is then evaluated at 33 points for the final LUT.
5. **Does it generalise?** With two or more references, each is left out in turn, the grade
   is fitted on the others and scored on it (CIEDE2000 mean and 95th percentile). The LUT is
   kept only when it lowers that held-out error; a grade whose held-out error stays high, or
   with too few registered pixels, is refused (``RestorationError``) rather than returned.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from restoration.colour.cdl import IDENTITY_CDL, Cdl
from restoration.colour.grade import Grade, grade_apply
from restoration.colour.lut import DEFAULT_SIZE, Lut3d, identity_lut
from restoration.errors import RestorationError
from restoration.luma import REC709_LUMA, luma

__all__ = ["Registration", "register_still", "CdlSettings", "FAST_CDL", "PRECISE_CDL", "fit_cdl", "fit_residual_lut",
           "grade_fit", "delta_e_2000", "srgb_to_lab", "MAX_ASPECT_CHANGE", "MIN_REGISTRATION_SCORE", "MAX_HOLDOUT_DELTA_E"]

# Registration
MAX_ASPECT_CHANGE = 0.02  # a still whose aspect differs more is another framing, not a transfer
SCALE_RANGE = (0.94, 1.06)  # picture size of the still relative to the frame, after resizing
COARSE_SCALES = 25  # 0.5 % steps
FINE_STEP = 0.001
MAX_SHIFT_FRACTION = 0.08  # translations beyond 8 % of the width are not a transfer's framing
MIN_REGISTRATION_SCORE = 0.35  # gradient correlation; an unrelated picture scores about 0..0.15
MIN_OVERLAP = 0.6  # share of the frame the registered still must cover
WORK_SIDE = 256  # short side of the pictures registration and fitting work on
BORDER = 2  # work pixels near the still's edge left out (interpolation, JPEG edge blocks)

# Fitting
SAMPLES_PER_STILL = 12000
HUBER_LAB = 2.0  # Delta E (Lab) beyond which a pair counts linearly (dust, a scratch, a mismatch)
LATTICE = 9  # the residual LUT's coarse lattice (points a side)
SMOOTHNESS = 3.0  # Laplacian penalty, relative to the data term
RIDGE = 0.03  # pull toward "no correction" where the pairs are few
MIN_PIXELS = 2000  # registered, scored pixels needed in all
MAX_HOLDOUT_DELTA_E = 4.0  # held-out mean CIEDE2000 above this: the references do not agree on one grade
MAX_FIT_DELTA_E = 6.0  # fit mean above this: the grade cannot be expressed as CDL + smooth LUT


# ---------------------------------------------------------------------------------------------
# Colour differences


def srgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(..., 3) sRGB-encoded values in [0, 1] -> CIE Lab (D65), differentiable (torch)."""
    rgb = rgb.clamp(0.0, 1.0)
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055).clamp_min(1e-12) ** 2.4)
    matrix = rgb.new_tensor([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                             [0.0193339, 0.1191920, 0.9503041]])
    white = rgb.new_tensor([0.95047, 1.0, 1.08883])
    xyz = (linear @ matrix.T) / white
    delta = 6.0 / 29.0
    f = torch.where(xyz > delta**3, xyz.clamp_min(1e-12) ** (1.0 / 3.0), xyz / (3 * delta**2) + 4.0 / 29.0)
    fx, fy, fz = f.unbind(-1)
    return torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=-1)


def delta_e_2000(rgb: np.ndarray | torch.Tensor, reference: np.ndarray | torch.Tensor) -> np.ndarray:
    """CIEDE2000 between (N, 3) sRGB-encoded colours in [0, 1] (colour-science's maths)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # colour-science's notice that matplotlib is absent
        import colour

    def lab(values) -> np.ndarray:
        values = values.detach().cpu().double().numpy() if isinstance(values, torch.Tensor) else values
        xyz = colour.sRGB_to_XYZ(np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0))
        return colour.XYZ_to_Lab(xyz)

    return np.asarray(colour.delta_E(lab(rgb), lab(reference), method="CIE 2000"))


def _summary(errors: np.ndarray) -> dict:
    return {"mean": round(float(errors.mean()), 3), "p95": round(float(np.percentile(errors, 95)), 3),
            "pixels": int(errors.size)}


# ---------------------------------------------------------------------------------------------
# Registration


@dataclass
class Registration:
    """A still aligned to its frame: ``aligned`` (C, H, W) at the frame's size, ``mask`` (1, H, W)
    True where the still covers the frame; ``scale`` and ``shift`` (x, y frame pixels) map frame
    point q to still point centre + scale (q - centre) + shift; ``score`` the gradient correlation."""

    aligned: torch.Tensor
    mask: torch.Tensor
    scale: float
    shift: tuple[float, float]
    score: float
    overlap: float
    theta: torch.Tensor = field(repr=False)

    def summary(self) -> dict:
        return {"scale": round(self.scale, 4), "shift_px": [round(v, 2) for v in self.shift],
                "score": round(self.score, 3), "overlap": round(self.overlap, 3)}


def _work_size(height: int, width: int) -> tuple[int, int]:
    factor = min(1.0, WORK_SIDE / min(height, width))
    return max(16, round(height * factor)), max(16, round(width * factor))


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    return F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False)


def _gradient_magnitude(grey: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) -> (N, 1, H, W): gradient magnitude after a light blur (grain, JPEG)."""
    kernel = grey.new_tensor([1.0, 2.0, 1.0]) / 4
    smooth = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), (kernel[:, None] * kernel[None, :])[None, None])
    padded = F.pad(smooth, (1, 1, 1, 1), mode="replicate")
    gx = (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) / 2
    gy = (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) / 2
    return (gx * gx + gy * gy).sqrt()


def _theta(scale: float, shift: tuple[float, float], size: tuple[int, int], dtype=torch.float64) -> torch.Tensor:
    height, width = size
    return torch.tensor([[[scale, 0.0, 2.0 * shift[0] / width], [0.0, scale, 2.0 * shift[1] / height]]], dtype=dtype)


def _warp(image: torch.Tensor, theta: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample image (1, C, h, w) at the frame grid mapped by theta; also the inside mask (1, 1, H, W)."""
    theta = theta.to(dtype=image.dtype, device=image.device)
    grid = F.affine_grid(theta, [1, image.shape[1], *size], align_corners=False)
    warped = F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)
    margin_x, margin_y = 2.0 * BORDER / size[1], 2.0 * BORDER / size[0]
    inside = ((grid[..., 0].abs() <= 1 - margin_x) & (grid[..., 1].abs() <= 1 - margin_y))[:, None]
    return warped, inside


def _hann(size: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    rows = torch.hann_window(size[0], periodic=False, dtype=like.dtype, device=like.device)
    columns = torch.hann_window(size[1], periodic=False, dtype=like.dtype, device=like.device)
    return rows[:, None] * columns[None, :]


def _normalised(image: torch.Tensor) -> torch.Tensor:
    return (image - image.mean()) / image.std().clamp_min(1e-8)


def _phase_correlation(fixed: torch.Tensor, moving: torch.Tensor, window: torch.Tensor, max_shift: tuple[int, int]
                       ) -> tuple[float, float, float]:
    """Sub-pixel (dx, dy) with moving(q + d) ~ fixed(q), and the peak's height."""
    spectrum = torch.fft.rfft2(_normalised(fixed) * window) * torch.fft.rfft2(_normalised(moving) * window).conj()
    surface = torch.fft.irfft2(spectrum / spectrum.abs().clamp_min(1e-12), s=fixed.shape[-2:])
    height, width = surface.shape[-2:]
    # Only shifts a transfer can have: mask the rest of the (circular) correlation surface.
    dy = torch.arange(height, device=surface.device)
    dx = torch.arange(width, device=surface.device)
    dy, dx = torch.minimum(dy, height - dy), torch.minimum(dx, width - dx)
    allowed = (dy[:, None] <= max_shift[1]) & (dx[None, :] <= max_shift[0])
    surface = torch.where(allowed, surface, surface.new_tensor(-math.inf))
    index = int(surface.argmax())
    row, column = divmod(index, width)
    peak = float(surface[row, column])

    def parabolic(minus: float, centre: float, plus: float) -> float:
        curvature = minus - 2 * centre + plus
        return 0.0 if not math.isfinite(curvature) or curvature >= 0 else 0.5 * (minus - plus) / curvature

    sub_y = parabolic(float(surface[row - 1, column]), peak, float(surface[(row + 1) % height, column]))
    sub_x = parabolic(float(surface[row, column - 1]), peak, float(surface[row, (column + 1) % width]))
    shift_y = (row if row <= height // 2 else row - height) + sub_y
    shift_x = (column if column <= width // 2 else column - width) + sub_x
    # The surface peaks at d where fixed(q) ~ moving(q - d).
    return -shift_x, -shift_y, peak


def _masked_correlation(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    a, b = a[mask], b[mask]
    if a.numel() < 16:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / ((a * a).sum().sqrt() * (b * b).sum().sqrt()).clamp_min(1e-12))


def _check_picture(image, what: str) -> torch.Tensor:
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[0] not in (1, 3):
        raise RestorationError(f"{what} must be a (C, H, W) tensor with C 1 or 3, got "
                               f"{tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__}")
    if image.shape[1] < 16 or image.shape[2] < 16:
        raise RestorationError(f"{what} is too small to register ({image.shape[2]}x{image.shape[1]})")
    return image.detach().to(torch.float64)


def register_still(frame: torch.Tensor, still: torch.Tensor) -> Registration:
    """Align a reference still (C, h, w) to a frame (C, H, W) by scale and translation.

    Raises RestorationError when the aspect differs by more than 2 %, or when the still cannot
    be registered (too little overlap or a gradient correlation below
    ``MIN_REGISTRATION_SCORE``: another picture, or one too damaged to compare)."""
    frame, still = _check_picture(frame, "frame"), _check_picture(still, "still")
    height, width = frame.shape[-2:]
    aspect_change = (still.shape[2] / still.shape[1]) / (width / height) - 1
    if abs(aspect_change) > MAX_ASPECT_CHANGE:
        raise RestorationError(f"still is {still.shape[2]}x{still.shape[1]}, the frame {width}x{height}: the aspect "
                               f"differs by {100 * aspect_change:+.1f} % (at most {100 * MAX_ASPECT_CHANGE:.0f} %)")
    work = _work_size(height, width)
    frame_work = _resize(frame[None], work)
    still_work = _resize(still[None], work)
    fixed = _gradient_magnitude(luma(frame_work, weights=REC709_LUMA))[0, 0]
    moving_image = _gradient_magnitude(luma(still_work, weights=REC709_LUMA))
    window = _hann(work, fixed)
    max_shift = (round(MAX_SHIFT_FRACTION * work[1]), round(MAX_SHIFT_FRACTION * work[1]))

    def candidate(scale: float) -> tuple[float, float, float, float]:
        warped, _ = _warp(moving_image, _theta(scale, (0.0, 0.0), work), work)
        dx, dy, peak = _phase_correlation(fixed, warped[0, 0], window, max_shift)
        return peak, scale, dx, dy

    coarse = [candidate(float(s)) for s in np.linspace(*SCALE_RANGE, COARSE_SCALES)]
    best = max(coarse)
    step = (SCALE_RANGE[1] - SCALE_RANGE[0]) / (COARSE_SCALES - 1)
    fine = [candidate(best[1] + float(k) * FINE_STEP) for k in np.arange(-step / FINE_STEP, step / FINE_STEP + 1)]
    _, scale, dx, dy = max([best, *fine])
    # warped(q + d) = still(c + s (q + d - c)): the still point of frame point q is shifted by s d.
    shift_work = (scale * dx, scale * dy)
    theta = _theta(scale, shift_work, work)
    aligned_gradient, inside = _warp(moving_image, theta, work)
    score = _masked_correlation(fixed, aligned_gradient[0, 0], inside[0, 0])
    overlap = float(inside.double().mean())
    if overlap < MIN_OVERLAP:
        raise RestorationError(f"still cannot be registered: it covers {100 * overlap:.0f} % of the frame "
                               f"(at least {100 * MIN_OVERLAP:.0f} % needed)")
    if score < MIN_REGISTRATION_SCORE:
        raise RestorationError(f"still cannot be registered: its edges correlate {score:.2f} with the frame's "
                               f"(at least {MIN_REGISTRATION_SCORE:.2f} needed); is it the right frame?")
    aligned, mask = _warp(still[None], theta, (height, width))
    shift = (shift_work[0] * width / work[1], shift_work[1] * height / work[0])
    return Registration(aligned=aligned[0].to(frame.dtype), mask=mask[0], scale=scale, shift=shift, score=score,
                        overlap=overlap, theta=theta)


# ---------------------------------------------------------------------------------------------
# Colour pairs


@dataclass
class _Pairs:
    """Colour pairs from one registered reference at the working size."""

    source: torch.Tensor  # (N, 3) the frame's colours (grey broadcast)
    target: torch.Tensor  # (N, 3) the still's colours
    weight: torch.Tensor  # (N,) edge down-weighting
    scored: torch.Tensor  # (N,) bool: away from strong edges, counted in the reported errors


def _box3(image: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(F.pad(image, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


def _pairs(frame: torch.Tensor, registration: Registration, samples: int, seed: int) -> _Pairs:
    frame = frame.detach().to(torch.float64)
    work = _work_size(*frame.shape[-2:])
    frame_work = _box3(_resize(frame[None], work))
    still = registration.aligned.to(torch.float64)[None]
    # Re-sample the still at the working size straight from the registration (no double resize).
    still_work = _box3(_resize(still, work))
    inside = _resize(registration.mask[None].to(torch.float64), work) > 0.999
    gradient = _gradient_magnitude(luma(frame_work, weights=REC709_LUMA))
    typical = gradient[inside].median().clamp_min(1e-4)
    weight = 1.0 / (1.0 + (gradient / (2 * typical)) ** 2)
    edge_limit = torch.quantile(gradient[inside], 0.75)
    scored = gradient <= edge_limit

    def flat(image: torch.Tensor) -> torch.Tensor:
        channels = image.shape[1]
        values = image[0].reshape(channels, -1).T
        return values.expand(-1, 3) if channels == 1 else values

    index = inside.reshape(-1).nonzero().squeeze(1)
    if index.numel() > samples:
        generator = torch.Generator().manual_seed(seed)
        index = index[torch.randperm(index.numel(), generator=generator)[:samples]].sort().values
    return _Pairs(source=flat(frame_work)[index], target=flat(still_work)[index],
                  weight=weight.reshape(-1)[index], scored=scored.reshape(-1)[index])


def _concat(pairs: list[_Pairs]) -> _Pairs:
    return _Pairs(*(torch.cat([getattr(p, name) for p in pairs]) for name in ("source", "target", "weight", "scored")))


# ---------------------------------------------------------------------------------------------
# CDL


def _cdl_model(source: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """Differentiable ASC CDL on (N, 3) pairs; params: log slope (3), offset (3), log power (3), log sat."""
    slope, offset, power, saturation = params[0:3].exp(), params[3:6], params[6:9].exp(), params[9].exp()
    # A floor above 0 keeps d(x^p)/dp = x^p log x finite; 1e-6 ** p is invisible.
    sop = (source * slope + offset).clamp(1e-6, 1.0) ** power
    grey = sop @ sop.new_tensor(REC709_LUMA)
    return (grey[:, None] + saturation * (sop - grey[:, None])).clamp(0.0, 1.0)


def _params_to_cdl(params: torch.Tensor) -> Cdl:
    values = params.detach().double().tolist()
    return Cdl(slope=tuple(math.exp(v) for v in values[0:3]), offset=tuple(values[3:6]),
               power=tuple(math.exp(v) for v in values[6:9]), saturation=math.exp(values[9]))


def _huber(distance: torch.Tensor, delta: float) -> torch.Tensor:
    return torch.where(distance <= delta, 0.5 * distance**2, delta * (distance - 0.5 * delta))


@dataclass(frozen=True)
class CdlSettings:
    """How hard ``fit_cdl`` works. ``max_pairs``: the pairs it fits on (an even stride through
    them, which are in random order, so every still and tone keeps its share); ``dtype`` of the
    loss; L-BFGS ``max_iter`` and ``tolerance_change``; ``holdout_max_iter``: iterations for a
    held-out fold, which starts from the full fit's CDL (the folds differ by one still, so it is
    close); ``both_starts``: optimise from the straight-line start and from identity and keep
    the better (else only from the start with the lower loss)."""

    max_pairs: int | None
    dtype: torch.dtype
    max_iter: int
    tolerance_change: float
    holdout_max_iter: int | None
    both_starts: bool


# Measured (docs/BENCHMARKS.md, "Colour"): the same held-out CIEDE2000 as PRECISE_CDL, at a
# fraction of its time. The full fit keeps 150 iterations: some grades (the bench's rocket)
# converge slowly along the slope/offset/power trade-off and stop short of it at 80.
FAST_CDL = CdlSettings(max_pairs=15000, dtype=torch.float32, max_iter=150, tolerance_change=1e-9,
                       holdout_max_iter=30, both_starts=False)
# The first version's settings (every pair, float64, to convergence, two starts), for comparison.
PRECISE_CDL = CdlSettings(max_pairs=None, dtype=torch.float64, max_iter=150, tolerance_change=1e-12,
                          holdout_max_iter=None, both_starts=True)


def _cdl_params(cdl: Cdl, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The inverse of ``_params_to_cdl``."""
    return torch.tensor([*map(math.log, cdl.slope), *cdl.offset, *map(math.log, cdl.power),
                         math.log(max(cdl.saturation, 1e-12))], dtype=dtype)


def fit_cdl(source: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None, *,
            settings: CdlSettings = FAST_CDL, start: Cdl | None = None) -> Cdl:
    """The ASC CDL taking ``source`` (N, 3) colours closest to ``target`` (N, 3): robust (Huber)
    distance in CIE Lab, L-BFGS over the 10 parameters, started from a per-channel straight-line
    fit (slope and offset) or from identity, whichever is closer (``settings.both_starts``: from
    both, keeping the better); given ``start`` (a nearby fit's CDL), from it, for at most
    ``settings.holdout_max_iter`` iterations."""
    dtype = settings.dtype
    weight = torch.ones(len(source)) if weight is None else weight
    if settings.max_pairs is not None and len(source) > settings.max_pairs:
        every = torch.linspace(0, len(source) - 1, settings.max_pairs).round().long()
        source, target, weight = source[every], target[every], weight[every]
    source, target = source.detach().to(dtype), target.detach().to(dtype)
    weight = weight.detach().to(dtype)
    weight = weight / weight.sum()
    target_lab = srgb_to_lab(target)

    def loss_of(params: torch.Tensor) -> torch.Tensor:
        distance = (srgb_to_lab(_cdl_model(source, params)) - target_lab).pow(2).sum(-1).add(1e-9).sqrt()
        return (weight * _huber(distance, HUBER_LAB)).sum()

    max_iter = settings.max_iter
    if start is not None:
        starts = [_cdl_params(start, dtype)]
        max_iter = settings.holdout_max_iter or max_iter
    else:
        # Straight-line start: per channel, target ~ a source + b (weighted least squares).
        mean_s, mean_t = (weight[:, None] * source).sum(0), (weight[:, None] * target).sum(0)
        covariance = (weight[:, None] * (source - mean_s) * (target - mean_t)).sum(0)
        variance = (weight[:, None] * (source - mean_s) ** 2).sum(0).clamp_min(1e-6)
        slope = (covariance / variance).clamp(0.2, 5.0)
        starts = [torch.cat([slope.log(), mean_t - slope * mean_s, torch.zeros(4, dtype=dtype)]),
                  torch.zeros(10, dtype=dtype)]
        if not settings.both_starts:
            with torch.no_grad():
                losses = [float(loss_of(candidate)) for candidate in starts]
            starts = [starts[int(np.nanargmin(losses))]] if any(map(math.isfinite, losses)) else starts[:1]
    best: tuple[float, torch.Tensor] | None = None
    for first in starts:
        params = first.clone().requires_grad_(True)
        optimiser = torch.optim.LBFGS([params], lr=1.0, max_iter=max_iter, tolerance_grad=1e-10,
                                      tolerance_change=settings.tolerance_change, history_size=20,
                                      line_search_fn="strong_wolfe")

        def closure(params=params, optimiser=optimiser) -> torch.Tensor:
            optimiser.zero_grad()
            loss = loss_of(params)
            loss.backward()
            return loss

        optimiser.step(closure)
        with torch.no_grad():
            loss = float(loss_of(params))
        params = params.detach().double()
        # Keep the parameters inside what a Cdl allows (and any real grade needs).
        params[0:3].clamp_(math.log(0.05), math.log(20.0))
        params[6:9].clamp_(math.log(0.05), math.log(20.0))
        params[9].clamp_(math.log(1e-3), math.log(10.0))
        if math.isfinite(loss) and (best is None or loss < best[0]):
            best = (loss, params)
    return IDENTITY_CDL if best is None else _params_to_cdl(best[1])


# ---------------------------------------------------------------------------------------------
# Residual LUT


def _trilinear_weights(points: np.ndarray, size: int):
    """Sparse (N, size^3) matrix of trilinear weights of points (N, 3) in [0, 1] on the lattice
    (node index r + size (g + size b) is the flat index of table[r, g, b] in C order over [b, g, r])."""
    from scipy import sparse

    scaled = np.clip(points, 0.0, 1.0) * (size - 1)
    low = np.minimum(np.floor(scaled).astype(np.int64), size - 2)
    fraction = scaled - low
    rows, columns, values = [], [], []
    for corner in np.ndindex(2, 2, 2):
        corner = np.array(corner)
        node = low + corner
        weight = np.prod(np.where(corner == 1, fraction, 1.0 - fraction), axis=1)
        rows.append(np.arange(len(points)))
        columns.append(node[:, 0] + size * (node[:, 1] + size * node[:, 2]))
        values.append(weight)
    return sparse.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
                             shape=(len(points), size**3))


def _laplacian(size: int):
    """Sparse second-difference operator along r, g and b on the lattice (one row per interior triple)."""
    from scipy import sparse

    blocks = []
    one_d = sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(size - 2, size))
    eye = sparse.identity(size)
    for axis in range(3):  # flat index r + size g + size^2 b: kron(b, g, r)
        factors = [eye, eye, eye]
        factors[2 - axis] = one_d
        blocks.append(sparse.kron(sparse.kron(factors[0], factors[1]), factors[2]))
    return sparse.vstack(blocks).tocsr()


def fit_residual_lut(graded: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None, *,
                     lattice: int = LATTICE, smoothness: float = SMOOTHNESS, ridge: float = RIDGE,
                     size: int = DEFAULT_SIZE) -> Lut3d:
    """A smooth LUT (``size`` points) taking ``graded`` (N, 3) colours (the CDL's output) toward
    ``target`` (N, 3): identity plus a correction fitted on a ``lattice``-point lattice by
    penalised, iteratively reweighted least squares, evaluated (trilinear) at ``size`` points."""
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    points = graded.detach().double().cpu().numpy()
    residual = (target.detach().double().cpu() - graded.detach().double().cpu()).numpy()
    base = np.ones(len(points)) if weight is None else weight.detach().double().cpu().numpy()
    base = base / base.mean()
    design = _trilinear_weights(points, lattice)
    laplacian = _laplacian(lattice)
    # The penalties are scaled by the data's size so their strength does not depend on N.
    scale = len(points) / lattice**3
    penalty = smoothness * scale * (laplacian.T @ laplacian) + ridge * scale * sparse.identity(lattice**3)
    robust = np.ones(len(points))
    correction = np.zeros((lattice**3, 3))
    for _ in range(4):  # IRLS: a few rounds of Huber weights on the RGB distance
        w = sparse.diags(base * robust)
        system = (design.T @ w @ design + penalty).tocsc()
        correction = np.stack([spsolve(system, design.T @ (base * robust * residual[:, c])) for c in range(3)], 1)
        distance = np.linalg.norm(design @ correction - residual, axis=1)
        delta = 0.02  # RGB units: about 2 Delta E
        robust = np.where(distance <= delta, 1.0, delta / np.maximum(distance, 1e-12))
    lattice_points = identity_lut(size).table.reshape(-1, 3)  # [r, g, b] order, like the table
    fine = _trilinear_weights(lattice_points, lattice) @ correction
    table = np.clip(lattice_points + fine, 0.0, 1.0).reshape(size, size, size, 3)
    return Lut3d(table, title="residual")


# ---------------------------------------------------------------------------------------------
# The whole fit


def _grade_on(pairs: _Pairs, grade: Grade) -> torch.Tensor:
    """The grade applied to the pairs' source colours (N, 3)."""
    out = grade_apply(pairs.source.T.reshape(1, 3, 1, -1), grade)
    return out.expand(-1, 3, -1, -1).reshape(3, -1).T


def _errors(pairs: _Pairs, grade: Grade) -> np.ndarray:
    scored = pairs.scored
    return delta_e_2000(_grade_on(pairs, grade)[scored], pairs.target[scored])


def _with_lut(pairs: _Pairs, cdl: Cdl) -> Grade:
    """The CDL and a residual LUT fitted to what it leaves."""
    graded = _cdl_model(pairs.source.to(torch.float64), _cdl_params(cdl))
    return Grade(cdl=cdl, lut=fit_residual_lut(graded, pairs.target, pairs.weight))


def grade_fit(pairs, *, holdout: bool = True, lut: bool = True, labels=None, progress=None,
              cdl_settings: CdlSettings = FAST_CDL) -> tuple[Grade, dict]:
    """Fit a grade to reference stills: ``pairs`` is a list of ``(frame (C, H, W), still (C, h, w))``,
    each still a colourist's graded version of its frame (from another transfer: it is registered
    first). Returns the grade and a report (plain numbers, JSON-ready) with CIEDE2000 errors:
    ``fit`` on the references, ``identity`` (no grade) and, with two or more references and
    ``holdout``, ``holdout`` (each left out in turn) for the CDL alone and CDL + LUT.

    ``labels`` name the pairs in messages (e.g. "frame 12"). ``progress(done, total)`` is called
    after each step (a registration, a held-out fit, the final fit); it may raise to stop the fit.
    ``cdl_settings``: how hard the CDL fits work (``PRECISE_CDL``: slower, for comparison).
    Raises RestorationError when a still cannot be registered, too few pixels registered, or the
    grade would not generalise.
    """
    started = time.perf_counter()
    pairs = list(pairs)
    if not pairs:
        raise RestorationError("grade fit: at least one (frame, still) reference is needed")
    labels = list(labels) if labels is not None else [f"reference {i + 1}" for i in range(len(pairs))]
    held_out_fits = len(pairs) * (2 if lut else 1) if holdout and len(pairs) >= 2 else 0
    steps = {"done": 0, "total": len(pairs) + held_out_fits + 1}

    def step() -> None:
        steps["done"] += 1
        if progress is not None:
            progress(steps["done"], steps["total"])

    registrations, samples = [], []
    for number, ((frame, still), label) in enumerate(zip(pairs, labels, strict=True)):
        try:
            registration = register_still(frame, still)
        except RestorationError as exc:
            raise RestorationError(f"{label}: {exc}") from None
        registrations.append(registration)
        samples.append(_pairs(frame, registration, SAMPLES_PER_STILL, seed=number))
        step()
    everything = _concat(samples)
    scored_pixels = int(everything.scored.sum())
    if scored_pixels < MIN_PIXELS:
        raise RestorationError(f"grade fit: only {scored_pixels} registered pixels to compare (at least {MIN_PIXELS} "
                               "needed); give larger or more stills")

    report: dict = {"references": len(pairs), "registration": [r.summary() for r in registrations]}
    use_lut = lut
    # The CDL on every reference first: the held-out folds start from it (see CdlSettings).
    cdl = fit_cdl(everything.source, everything.target, everything.weight, settings=cdl_settings)
    if holdout and len(pairs) >= 2:
        held: dict[str, list[np.ndarray]] = {"cdl": [], "cdl_lut": []}
        for left_out in range(len(pairs)):
            rest = _concat([p for i, p in enumerate(samples) if i != left_out])
            fold_cdl = fit_cdl(rest.source, rest.target, rest.weight, settings=cdl_settings,
                               start=cdl if cdl_settings.holdout_max_iter else None)
            held["cdl"].append(_errors(samples[left_out], Grade(cdl=fold_cdl)))
            step()
            if lut:  # the same CDL, and a LUT for what it leaves
                held["cdl_lut"].append(_errors(samples[left_out], _with_lut(rest, fold_cdl)))
                step()
        report["holdout"] = {name: _summary(np.concatenate(errors)) for name, errors in held.items() if errors}
        if lut:
            # The LUT has to earn its place on frames it did not see.
            use_lut = report["holdout"]["cdl_lut"]["mean"] < report["holdout"]["cdl"]["mean"]
        chosen = report["holdout"]["cdl_lut" if use_lut else "cdl"]
        if chosen["mean"] > MAX_HOLDOUT_DELTA_E:
            raise RestorationError(
                f"grade fit: held-out error is CIEDE2000 {chosen['mean']:.1f} (at most {MAX_HOLDOUT_DELTA_E:.1f}): "
                "the references do not agree on one grade for the shot; check the frame numbers or split the shot")
    else:
        report["holdout"] = None
    grade = _with_lut(everything, cdl) if use_lut else Grade(cdl=cdl)
    step()
    fit_errors = _errors(everything, grade)
    report["fit"] = _summary(fit_errors)
    report["identity"] = _summary(_errors(everything, Grade()))
    report["lut"] = grade.lut is not None
    report["cdl"] = grade.cdl.to_dict()
    report["seconds"] = round(time.perf_counter() - started, 2)
    if report["fit"]["mean"] > MAX_FIT_DELTA_E:
        raise RestorationError(f"grade fit: the grade matches its own references only to CIEDE2000 "
                               f"{report['fit']['mean']:.1f} (at most {MAX_FIT_DELTA_E:.1f}); the stills are "
                               "not a CDL + smooth LUT grade of these frames")
    return grade, report
