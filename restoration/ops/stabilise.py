"""Gate-weave stabilisation: remove the small random frame-to-frame shifts of film in the gate.

1. Each frame's translation relative to its neighbours t-R..t+R is measured by phase
   correlation (torch.fft) on a grey, mean-free, Tukey-windowed copy. The normalised cross-power
   spectrum is band-passed: the lowest frequencies are dropped (flicker and uneven exposure do
   not move the estimate) and a Gaussian low-pass turns the correlation peak into a small
   Gaussian (grain does not move it either), whose log-parabola fit gives the sub-pixel peak.
2. The camera's intended path near frame t is a weighted cubic fit (Gaussian weights,
   sigma = R/2) to those relative positions, so pans, eased starts and stops and slow moves are
   kept and the clip's ends need no padding.
3. The frame is moved onto that path by a sub-pixel bicubic shift with reflected edges, so no
   black borders appear. Frames whose correction is under ``MIN_CORRECTION_PX`` on both axes
   are passed through untouched (the shift would only soften them).

The correction at frame t depends only on frames t-R..t+R (``STABILISE_RADIUS`` is the largest R),
so windows with R frames of context reproduce the whole-clip result.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from restoration.errors import SpecError
from restoration.luma import REC601_LUMA, luma  # Rec. 601: the luma this op's thresholds were tuned on
from restoration.ops._common import check_frames
from restoration.ops.opspec import OpSpec, Param

__all__ = ["stabilise", "stabilisation_shifts", "reduction_factor", "reduced_grey", "shifts_of_reduced",
           "weave_correction", "weave_of_reduced", "apply_correction", "estimate_shift",
           "Stabilise", "STABILISE_RADIUS", "STABILISE_OP"]

STABILISE_RADIUS = 12  # the largest `radius` allowed; the op's declared temporal radius

_WORK_SIDE = 400  # shorter side at which shifts are measured (larger frames are averaged down)
_PEAK_SIGMA = 1.0  # pixels: width of the correlation peak after the Gaussian low-pass
_LOW_CUT = 3.0  # cycles per frame below which the spectrum is ignored (flicker, vignetting)
_TAPER = 0.25  # fraction of each side tapered by the Tukey window
_CHUNK = 4  # frames per step when making grey copies
_PATH_DEGREE = 3  # polynomial degree of the local camera-path fit
_PATH_SIGMA_FRACTION = 0.5  # Gaussian width of the fit's weights, as a fraction of the radius
MIN_CORRECTION_PX = 0.05  # frames whose correction is smaller on both axes are left alone
_PEAK_RATIO_NONE = 6.0  # peak/std of the correlation below which a pair is no match (full trust at 2x)


def _tukey(length: int, device, dtype) -> torch.Tensor:
    x = torch.linspace(0.0, 1.0, length, device=device, dtype=dtype)
    taper = _TAPER / 2
    window = torch.ones_like(x)
    rising = x < taper
    falling = x > 1 - taper
    window[rising] = 0.5 * (1 - torch.cos(math.pi * x[rising] / taper))
    window[falling] = 0.5 * (1 - torch.cos(math.pi * (1 - x[falling]) / taper))
    return window


def reduction_factor(frames: torch.Tensor) -> int:
    """How many pixels each way one pixel of the grey copy the shifts are measured on averages."""
    return max(1, min(frames.shape[-2:]) // _WORK_SIDE)


def reduced_grey(frames: torch.Tensor) -> torch.Tensor:
    """The reduced grey copy (T, h, w) the shifts are measured on, frame by frame: a streamed
    pipeline keeps a neighbour as this copy once its own output is made (``pipeline.runner``)."""
    factor = reduction_factor(frames)

    def reduced(chunk: torch.Tensor) -> torch.Tensor:
        grey = luma(chunk.float(), weights=REC601_LUMA)
        return F.avg_pool2d(grey, factor) if factor > 1 else grey

    # A few frames at a time: a full-size grey copy of a long 4K window would be gigabytes.
    return torch.cat([reduced(chunk) for chunk in frames.split(_CHUNK)])[:, 0]


def _prepare(images: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int], int]:
    """(N, C, H, W) -> whitened half spectra (N, h, w//2+1) of windowed grey images, (h, w), factor."""
    spectra, size = _spectra(reduced_grey(images))
    return spectra, size, reduction_factor(images)


def _spectra(grey: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    """(N, h, w) grey copies -> their whitened half spectra (N, h, w//2+1) once windowed, (h, w).

    Whitening each spectrum once (unit magnitude) makes every cross-power spectrum a plain
    product, so a frame compared with 2R neighbours costs one FFT, not 2R normalisations.
    """
    grey = grey - grey.mean(dim=(-2, -1), keepdim=True)
    h, w = grey.shape[-2:]
    window = _tukey(h, grey.device, grey.dtype)[:, None] * _tukey(w, grey.device, grey.dtype)[None, :]
    spectra = torch.fft.rfft2(grey * window)
    magnitude = spectra.abs()
    spectra = spectra / (magnitude + 1e-6 * magnitude.mean(dim=(-2, -1), keepdim=True) + 1e-20)
    return spectra, (h, w)


def _band_pass(h: int, w: int, device) -> torch.Tensor:
    """(h, w//2+1) weights: Gaussian low-pass (peak of width _PEAK_SIGMA) times a low-cut."""
    fy = torch.fft.fftfreq(h, device=device)[:, None]
    fx = torch.fft.rfftfreq(w, device=device)[None, :]
    radius2 = fx * fx + fy * fy
    low_pass = torch.exp(-2.0 * math.pi ** 2 * _PEAK_SIGMA ** 2 * radius2)
    cut = _LOW_CUT / min(h, w)
    high_pass = 1.0 - torch.exp(-radius2 / (2.0 * cut * cut))
    return low_pass * high_pass


def _subpixel(left: torch.Tensor, centre: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """Offset of a Gaussian peak from three samples (log-parabola), in [-0.5, 0.5]."""
    floor = 1e-6 * centre.abs().clamp_min(1e-12)
    log_l, log_c, log_r = (v.clamp_min(0).maximum(floor).log() for v in (left, centre, right))
    denominator = log_l - 2.0 * log_c + log_r
    offset = 0.5 * (log_l - log_r) / torch.where(denominator.abs() > 1e-12, denominator, -1e-12)
    return offset.clamp(-0.5, 0.5)


def _search_limit(max_shift: float, size: tuple[int, int]) -> tuple[int, int]:
    """Largest shift searched (x, y) in work pixels: a fraction of each side, within the surface."""
    h, w = size
    return (max(1, min(int(max_shift * w), (w - 1) // 2)), max(1, min(int(max_shift * h), (h - 1) // 2)))


def _search_indices(length: int, limit: int, device) -> torch.Tensor:
    """Indices of the correlation surface (with wrap-around) for shifts -limit..limit."""
    return torch.arange(-limit, limit + 1, device=device) % length


def _correlate(spectra: torch.Tensor, reference: torch.Tensor, size: tuple[int, int], band: torch.Tensor,
               limit: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift (N, 2) in work pixels, x then y, of each image relative to its reference, and the
    peak-to-surface ratio (N,) of the correlation: 30-200 for real matches, ~3-4 for no match."""
    h, w = size
    surface = torch.fft.irfft2(spectra * reference.conj() * band, s=(h, w))
    n = surface.shape[0]
    # Only shifts up to the limit are candidates (the rest of the surface is wrap-around).
    rows = _search_indices(h, limit[1], surface.device)
    cols = _search_indices(w, limit[0], surface.device)
    window = surface.index_select(1, rows).index_select(2, cols)
    peak = window.flatten(1).argmax(dim=1)
    py, px = rows[peak // cols.numel()], cols[peak % cols.numel()]
    index = torch.arange(n, device=surface.device)
    centre = surface[index, py, px]
    dx = _subpixel(surface[index, py, (px - 1) % w], centre, surface[index, py, (px + 1) % w])
    dy = _subpixel(surface[index, (py - 1) % h, px], centre, surface[index, (py + 1) % h, px])
    signed_x = torch.where(px > w // 2, px - w, px).to(surface.dtype) + dx
    signed_y = torch.where(py > h // 2, py - h, py).to(surface.dtype) + dy
    peak_ratio = centre / surface.flatten(1).std(dim=1).clamp_min(1e-12)
    return torch.stack((signed_x, signed_y), dim=1), peak_ratio


def estimate_shift(images: torch.Tensor, reference: torch.Tensor, *, max_shift: float = 0.15) -> torch.Tensor:
    """Global translation (N, 2) in pixels, x then y, such that ``images(p) ~ reference(p - shift)``.

    ``images`` and ``reference`` are (N, C, H, W) (or a single reference (1, C, H, W)).
    ``max_shift`` bounds the search, as a fraction of each side.
    """
    check_frames(images, "estimate_shift")
    check_frames(reference, "estimate_shift")
    if reference.shape[-2:] != images.shape[-2:] or reference.shape[0] not in (1, images.shape[0]):
        raise SpecError(f"estimate_shift: reference {tuple(reference.shape)} does not fit images {tuple(images.shape)}")
    spectra, (h, w), factor = _prepare(torch.cat((images, reference.to(images.dtype))))
    limit = _search_limit(max_shift, (h, w))
    shift, _ = _correlate(spectra[: images.shape[0]], spectra[images.shape[0]:], (h, w), _band_pass(h, w, spectra.device),
                       limit)
    return (shift * factor).to(images.dtype)


def _check_params(radius: int, strength: float, max_shift: float) -> None:
    if isinstance(radius, bool) or not isinstance(radius, int) or not 1 <= radius <= STABILISE_RADIUS:
        raise SpecError(f"stabilise: radius must be an integer in [1, {STABILISE_RADIUS}], got {radius!r}")
    if not 0.0 <= strength <= 1.0:
        raise SpecError(f"stabilise: strength must be in [0, 1], got {strength}")
    if not 0.0 < max_shift <= 0.5:
        raise SpecError(f"stabilise: max_shift must be in (0, 0.5], got {max_shift}")


def stabilisation_shifts(frames: torch.Tensor, *, radius: int = 10, max_shift: float = 0.15) -> torch.Tensor:
    """The shift (T, 2) in pixels, x then y, that moves each frame onto the smoothed camera path.

    Its size is the gate weave that :func:`stabilise` removes (useful as a metric).
    """
    check_frames(frames, "stabilise")
    return shifts_of_reduced(reduced_grey(frames), reduction_factor(frames), radius=radius,
                             max_shift=max_shift).to(frames.dtype)


def shifts_of_reduced(grey: torch.Tensor, factor: int, *, radius: int = 10, max_shift: float = 0.15) -> torch.Tensor:
    """:func:`stabilisation_shifts` (in float64) of the frames whose :func:`reduced_grey` is ``grey``,
    reduced by ``factor`` (their :func:`reduction_factor`)."""
    _check_params(radius, 1.0, max_shift)
    length = grey.shape[0]
    result = torch.zeros(length, 2, dtype=torch.float64, device=grey.device)
    if length == 1:
        return result
    spectra, (h, w) = _spectra(grey)
    band = _band_pass(h, w, spectra.device)
    limit = _search_limit(max_shift, (h, w))
    reach = min(radius, length - 1)

    # relative[t, j] = position of frame t + j - reach minus that of frame t; trust[t, j] in
    # [0, 1] says how sure that measurement is (0 where it is missing or failed).
    relative = torch.zeros(length, 2 * reach + 1, 2, dtype=torch.float64, device=grey.device)
    trust = torch.zeros(length, 2 * reach + 1, dtype=torch.float64, device=grey.device)
    trust[:, reach] = 1.0
    for offset in range(1, reach + 1):
        shift, peak_ratio = _correlate(spectra[offset:], spectra[:-offset], (h, w), band, limit)
        shift = shift.double() * factor
        # A weak peak is no match (a burnt or blank frame); a shift at the search limit is a
        # failed match too (a flash, a fast move). Either must not bend the neighbours' path.
        sure = ((peak_ratio.double() - _PEAK_RATIO_NONE) / _PEAK_RATIO_NONE).clamp(0.0, 1.0)
        inside = (shift[:, 0].abs() < (limit[0] - 1) * factor) & (shift[:, 1].abs() < (limit[1] - 1) * factor)
        sure = sure * inside
        relative[:-offset, reach + offset] = shift
        trust[:-offset, reach + offset] = sure
        # The correlation is antisymmetric, so the backward pair needs no second FFT.
        relative[offset:, reach - offset] = -shift
        trust[offset:, reach - offset] = sure

    # Weighted cubic fit through the relative positions; its value at t is the path. A straight
    # line takes the acceleration of an eased pan for weave and shifts whole frames by pixels
    # (measured: a clean panning clip fell to 26 dB); a cubic follows starts, stops and pans
    # and leaves the frame-to-frame jitter.
    offsets = torch.arange(-reach, reach + 1, dtype=torch.float64, device=grey.device)
    sigma = radius * _PATH_SIGMA_FRACTION
    weights = torch.exp(-0.5 * (offsets / sigma) ** 2)[None, :] * trust  # (T, 2R+1)
    design = torch.stack([offsets ** k for k in range(_PATH_DEGREE + 1)], dim=1)  # (2R+1, degree+1)
    normal = torch.einsum("tk,ki,kj->tij", weights, design, design)
    # A small ridge on the slope and curvature keeps the fit defined with few usable
    # neighbours (it then falls back towards a line or the weighted mean).
    ridge = torch.diag(torch.tensor([0.0] + [1e-6] * _PATH_DEGREE, dtype=torch.float64, device=grey.device))
    normal = normal + ridge * weights.sum(dim=1).clamp_min(1e-12)[:, None, None]
    right = torch.einsum("tk,ki,tka->tia", weights, design, relative)  # (T, 3, 2)
    result = torch.linalg.solve(normal, right)[:, 0, :]
    return result


_CUBIC_A = -0.75  # the cubic convolution kernel's parameter, as PyTorch's and most tools' bicubic


def _cubic_weights(fraction: float) -> tuple[float, float, float, float]:
    """Weights of the samples at -1, 0, +1, +2 for a point ``fraction`` (in [0, 1)) past sample 0."""
    a, t = _CUBIC_A, fraction
    near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1  # noqa: E731  |x| <= 1
    far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a  # noqa: E731  1 < |x| < 2
    return far(1 + t), near(t), near(1 - t), far(2 - t)


def _reflected(index: torch.Tensor, size: int) -> torch.Tensor:
    """Indices mirrored about the edges' outer sides (-1 -> 0, size -> size - 1), any distance out."""
    index = index.remainder(2 * size)
    return torch.where(index < size, index, 2 * size - 1 - index)


def _shift_axis(frame: torch.Tensor, shift: float, dim: int) -> torch.Tensor:
    """``frame`` moved by ``shift`` pixels along ``dim``: output p shows input p - shift."""
    size = frame.shape[dim]
    whole = math.floor(-shift)
    # The input pixels every output pixel reads (its four taps), gathered once with the edges mirrored.
    taps = frame.index_select(dim, _reflected(torch.arange(whole - 1, whole + size + 2, device=frame.device), size))
    out = torch.empty_like(frame)
    term = torch.empty_like(frame)
    # Separate multiplies and adds (no fused multiply-add): the same rounding at every position.
    for offset, weight in enumerate(_cubic_weights(-shift - whole)):
        tap = taps.narrow(dim, offset, size)
        if offset == 0:
            torch.mul(tap, weight, out=out)
        else:
            out.add_(torch.mul(tap, weight, out=term))
    return out


def _shift_frames(frames: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Move each frame's content by ``shifts`` (T, 2) pixels, bicubic, reflected edges.

    A separable 4-tap filter at a whole-pixel offset: every output pixel is made from the same
    input pixels by the same operations wherever the frame is cut, so a tile's pixels equal the
    whole frame's bit for bit (a sampling grid normalised by the tile's size rounded differently:
    1e-5, which the later ops' thresholds grew to 1.8 code values at a few pixels)."""
    dtype = torch.float32 if frames.dtype in (torch.float16, torch.bfloat16) else frames.dtype
    out = torch.empty_like(frames)
    for index, (shift_x, shift_y) in enumerate(shifts.to(torch.float64).tolist()):
        moved = _shift_axis(_shift_axis(frames[index].to(dtype), shift_x, -1), shift_y, -2)
        out[index] = moved.clamp_(0.0, 1.0)
    return out


def stabilise(frames: torch.Tensor, *, radius: int = 10, strength: float = 1.0,
              max_shift: float = 0.15) -> torch.Tensor:
    """Remove gate weave from (T, C, H, W) frames, keeping intentional camera moves.

    ``radius``: frames on each side that define the camera path (larger: steadier, but slower
    moves are treated as weave). ``strength`` in [0, 1]: fraction of the correction applied.
    ``max_shift``: the largest frame-to-frame translation searched, as a fraction of each side.
    """
    check_frames(frames, "stabilise")
    _check_params(radius, strength, max_shift)
    if strength == 0:
        return frames.clone()
    return apply_correction(frames, *weave_correction(frames, radius=radius, strength=strength, max_shift=max_shift))


def apply_correction(frames: torch.Tensor, shifts: torch.Tensor, moved: torch.Tensor) -> torch.Tensor:
    """``frames`` moved by their :func:`weave_correction` (the frames it leaves alone copied)."""
    out = frames.clone()
    if bool(moved.any()):
        out[moved] = _shift_frames(frames[moved], shifts[moved])
    return out


def weave_correction(frames: torch.Tensor, *, radius: int, strength: float, max_shift: float
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """The (T, 2) shifts that remove the weave, ``strength`` applied, and the (T,) mask of the
    frames they move (the whole-frame estimate that a tiled run shares between its tiles)."""
    check_frames(frames, "stabilise")
    return weave_of_reduced(reduced_grey(frames), reduction_factor(frames), frames.dtype, radius=radius,
                            strength=strength, max_shift=max_shift)


def weave_of_reduced(grey: torch.Tensor, factor: int, dtype: torch.dtype, *, radius: int, strength: float,
                     max_shift: float) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`weave_correction`, in ``dtype``, of the frames whose :func:`reduced_grey` is ``grey``."""
    shifts = shifts_of_reduced(grey, factor, radius=radius, max_shift=max_shift).to(dtype) * strength
    # Below MIN_CORRECTION_PX the estimate is within its own error and invisible, while the
    # resampling would soften the frame: such frames are passed through untouched.
    return shifts, shifts.abs().amax(dim=1) >= MIN_CORRECTION_PX


class Stabilise(torch.nn.Module):
    """Module form of :func:`stabilise`."""

    def __init__(self, *, radius: int = 10, strength: float = 1.0, max_shift: float = 0.15) -> None:
        super().__init__()
        self.radius = radius
        self.strength = strength
        self.max_shift = max_shift

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return stabilise(frames, radius=self.radius, strength=self.strength, max_shift=self.max_shift)


STABILISE_OP = OpSpec(
    name="stabilise",
    function=stabilise,
    module=Stabilise,
    params={
        "radius": Param(int, 10, minimum=1, maximum=STABILISE_RADIUS, help="frames each side that define the path"),
        "strength": Param(float, 1.0, minimum=0.0, maximum=1.0, help="fraction of the weave removed"),
        "max_shift": Param(float, 0.15, minimum=0.01, maximum=0.5, help="largest shift searched (fraction of a side)"),
    },
    temporal_radius=STABILISE_RADIUS,
    radius_param="radius",
    tileable=True,  # its whole-frame estimate is shared by the tiles (pipeline.tiling)
    moves_picture=True,  # a window's flows estimated before it do not hold after it
    description="gate-weave stabilisation: phase correlation, smoothed path, sub-pixel shift",
)
