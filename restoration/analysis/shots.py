"""Shot boundary detection: hard cuts and dissolves, robust to flicker, burns and blotches.

Every frame is reduced to a tiny luma thumbnail (24x32, area-averaged, so grain and dust
mostly vanish). Two thumbnails are compared by a *shift-tolerant normalised distance*:
each is mean-removed and scaled to unit energy (so global brightness and contrast flicker
cancel), and the smallest distance over shifts of up to ``SHIFT`` thumbnail pixels is kept
(so gate weave, camera shake and pans cost little). The distance is ``0.5 * |u - v|^2``,
i.e. ``1 - correlation``: 0 for the same picture, about 1 for unrelated pictures.

Hard cut at frame ``s`` (``s`` is the first frame of the new shot). Its strength is the
smallest distance between any of the two frames before (``s-2, s-1``) and any of the three
frames from ``s`` on (``s, s+1, s+2``). A one- or two-frame burn, flash or blotch differs
from its neighbours, but the frames either side of it still match each other (``s-1`` vs
``s+1`` or ``s+2``), so its strength stays low: damage is not a cut. A cut is reported when
the strength is above ``CUT_MIN_DISTANCE`` *and* ``CUT_LOCAL_RATIO`` times the median
strength around it (an adaptive threshold: a shaky or fast-moving shot raises the bar),
and it is the strongest within ``CUT_SUPPRESS`` frames. No boundary is reported after the
first frame or before the last one: a one-frame shot there cannot be told from damage.

Dissolve: at the middle frame ``m`` of a dissolve of length up to ``2k``, frame ``m`` is a
blend of frames ``m-k`` and ``m+k`` (after aligning them to ``m``), while neither of them
alone explains it, and those two differ like a cut. Half-widths ``DISSOLVE_HALF_WIDTHS``
are tried. **A dissolve is reported as one boundary at its middle frame**: the first frame
in which the incoming shot weighs at least as much as the outgoing one.

Memory is bounded: frames are reduced to thumbnails as they arrive, only the last few
thumbnails are kept, and per frame a handful of floats are stored until ``finish()``.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from restoration.luma import REC601_LUMA, luma

THUMB_SIZE = (24, 32)
SHIFT = 2  # thumbnail pixels, about 1/12 of the picture height
FLAT_STD = 0.01  # thumbnails with less contrast than this are treated as (nearly) blank
CUT_MIN_DISTANCE = 0.15
CUT_LOCAL_RATIO = 4.0
CUT_LOCAL_WINDOW = 12  # frames each side used for the local median
CUT_SUPPRESS = 2  # two cuts closer than this: keep the stronger
DISSOLVE_HALF_WIDTHS = (4, 8, 16)
DISSOLVE_MIN_DISTANCE = 0.3  # endpoints must differ at least this much
DISSOLVE_FIT_RATIO = 0.5  # blend residual must be below this fraction of either single-frame residual
DISSOLVE_WEIGHT_SUM = (0.7, 1.3)  # a dissolve's frame is a convex blend: weights sum to about 1
DISSOLVE_MAX_CONTRAST_DIP = 0.92  # blending two different pictures lowers contrast (std / mean)
CUT_LAGS = (1, 2, 3, 4)


def luma_thumbnails(frames: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) in [0, 1] -> (T, 24, 32) float32 CPU area-averaged luma thumbnails."""
    if frames.ndim != 4 or frames.shape[1] not in (1, 3):
        raise ValueError(f"expected frames (T, C, H, W) with C 1 or 3, got shape {tuple(frames.shape)}")
    # Rec. 601 luma: the cut thresholds were tuned on it.
    grey = luma(frames.float(), weights=REC601_LUMA)
    return F.adaptive_avg_pool2d(grey, THUMB_SIZE)[:, 0].cpu()


def _normalise(x: torch.Tensor) -> torch.Tensor:
    """Mean-removed, unit-energy vectors (..., D); nearly flat ones stay small (see FLAT_STD)."""
    x = x - x.mean(-1, keepdim=True)
    floor = FLAT_STD * x.shape[-1] ** 0.5
    return x / x.norm(dim=-1, keepdim=True).clamp_min(floor)


def _shifted_crops(b: torch.Tensor, shift: int) -> torch.Tensor:
    """All crops of b (N, h, w) shifted by -shift..shift in y and x: (S, N, D), S = (2*shift+1)^2."""
    n, h, w = b.shape
    windows = b.unfold(1, h - 2 * shift, 1).unfold(2, w - 2 * shift, 1)  # N, 2s+1, 2s+1, h', w'
    return windows.reshape(n, (2 * shift + 1) ** 2, -1).transpose(0, 1)


def _centre(a: torch.Tensor, shift: int) -> torch.Tensor:
    h, w = a.shape[-2:]
    return a[..., shift : h - shift, shift : w - shift].reshape(a.shape[0], -1)


def shift_tolerant_distance(a: torch.Tensor, b: torch.Tensor, shift: int = SHIFT) -> torch.Tensor:
    """Distance (N,) between thumbnails a, b (N, h, w): ``1 - correlation`` at the best shift of b."""
    if a.shape[0] == 0:
        return torch.zeros(0)
    centre = _normalise(_centre(a, shift))
    crops = _normalise(_shifted_crops(b, shift))
    return (0.5 * (crops - centre).pow(2).sum(-1)).amin(0)


def _blend_fit(mid: torch.Tensor, before: torch.Tensor, after: torch.Tensor, shift: int = SHIFT):
    """How well is ``mid`` a blend of ``before`` and ``after``, each aligned to it by a shift?

    Returns (weight_before, weight_after, residual_blend, residual_before, residual_after): the
    least-squares weights and residual energy fractions of mean-removed thumbnails.
    """
    m = _centre(mid, shift)
    m = m - m.mean(-1, keepdim=True)
    index = torch.arange(m.shape[0])

    def aligned(other: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        crops = _shifted_crops(other, shift)  # S, N, D
        crops = crops - crops.mean(-1, keepdim=True)
        corr = (crops * m).sum(-1) / (crops.norm(dim=-1) * m.norm(dim=-1)).clamp_min(1e-8)
        best = corr.argmax(0)
        return crops[best, index], 1.0 - corr.amax(0).clamp(-1, 1) ** 2

    p, residual_before = aligned(before)
    q, residual_after = aligned(after)
    design = torch.stack([p, q], -1).double()  # N, D, 2
    target = m.double()
    gram = design.transpose(1, 2) @ design + 1e-9 * torch.eye(2, dtype=torch.float64)
    weights = torch.linalg.solve(gram, design.transpose(1, 2) @ target[..., None])[..., 0]
    fitted = (design @ weights[..., None])[..., 0]
    residual = (fitted - target).pow(2).sum(-1) / target.pow(2).sum(-1).clamp_min(1e-12)
    return weights[:, 0].float(), weights[:, 1].float(), residual.float(), residual_before, residual_after


class ShotDetector:
    """Streaming shot boundary detector: ``feed`` chunks of frames, then ``finish()``.

    >>> detector = ShotDetector()
    >>> for chunk in chunks: detector.feed(chunk)        # doctest: +SKIP
    >>> starts = detector.finish()                        # [0, 44, 134, 299]
    """

    def __init__(self) -> None:
        self.frame_count = 0
        self._max_lag = max(max(CUT_LAGS), 2 * max(DISSOLVE_HALF_WIDTHS))
        self._tail = torch.zeros((0, *THUMB_SIZE))
        self._contrast = array("d")  # per frame: thumbnail std / mean (gain-flicker invariant)
        # distance between frame (i - lag) and frame i, stored at i
        self._lag_distance = {lag: array("d") for lag in CUT_LAGS}
        # per half-width k, stored at the middle frame m: endpoint distance, blend weights, residuals
        self._dissolve = {
            k: {key: array("d") for key in ("distance", "w_before", "w_after", "residual", "single")}
            for k in DISSOLVE_HALF_WIDTHS
        }

    def feed(self, frames: torch.Tensor) -> None:
        """Add the next frames, (T, C, H, W) in [0, 1] (or (C, H, W) for a single frame)."""
        if frames.ndim == 3:
            frames = frames[None]
        if frames.shape[0] == 0:
            return
        self.feed_thumbnails(luma_thumbnails(frames))

    def feed_thumbnails(self, thumbs: torch.Tensor) -> None:
        full = torch.cat([self._tail, thumbs])
        first_new = self._tail.shape[0]  # index in ``full`` of the first new frame
        base = self.frame_count - first_new  # global frame number of full[0]
        n = full.shape[0]
        flat = thumbs.flatten(1)
        self._contrast.extend((flat.std(1) / flat.mean(1).clamp_min(1e-3)).tolist())
        for lag in CUT_LAGS:
            later = torch.arange(min(max(first_new, lag), n), n)
            values = torch.full((n - first_new,), float("nan"))
            if len(later):
                values[later - first_new] = shift_tolerant_distance(full[later - lag], full[later])
            self._lag_distance[lag].extend(values.tolist())
        for k, store in self._dissolve.items():
            # the middle frame m is final once m + k has arrived
            mids = torch.arange(min(max(first_new - k, k), max(n - k, 0)), max(n - k, 0))
            mids = mids[mids + base >= len(store["distance"])]
            if len(mids) == 0:
                continue
            distance = shift_tolerant_distance(full[mids - k], full[mids + k])
            # the blend fit only matters where the endpoints differ enough for a transition
            w_before, w_after, residual, single = (torch.full((len(mids),), float("nan")) for _ in range(4))
            candidate = distance >= DISSOLVE_MIN_DISTANCE
            if candidate.any():
                c = mids[candidate]
                fit = _blend_fit(full[c], full[c - k], full[c + k])
                w_before[candidate], w_after[candidate], residual[candidate] = fit[0], fit[1], fit[2]
                single[candidate] = torch.minimum(fit[3], fit[4])
            # frames with m < k have no dissolve statistics: pad with NaN up to the first mid
            pad = int(mids[0]) + base - len(store["distance"])
            for key in store:
                store[key].extend([float("nan")] * pad)
            store["distance"].extend(distance.tolist())
            store["w_before"].extend(w_before.tolist())
            store["w_after"].extend(w_after.tolist())
            store["residual"].extend(residual.tolist())
            store["single"].extend(single.tolist())
        self.frame_count += thumbs.shape[0]
        self._tail = full[-self._max_lag :].clone()

    # -- decisions -----------------------------------------------------------------------

    def cut_strength(self) -> np.ndarray:
        """Per frame s: min distance between frames {s-2, s-1} and {s, s+1, s+2} (0 at s = 0)."""
        n = self.frame_count
        lag = {k: np.asarray(v, dtype=np.float64) for k, v in self._lag_distance.items()}
        strength = np.full(n, np.inf)
        for before in (1, 2):
            for after in (0, 1, 2):
                d = lag[before + after]
                idx = np.arange(n)
                later = idx + after
                valid = (later < n) & (idx - before >= 0)
                candidate = np.full(n, np.inf)
                candidate[valid] = d[later[valid]]
                strength = np.minimum(strength, candidate)
        strength[~np.isfinite(strength)] = 0.0
        return strength

    def hard_cuts(self) -> list[int]:
        strength = self.cut_strength()
        n = len(strength)
        cuts = []
        # a "shot" of one frame at either end of the clip is a damaged first or last frame (no
        # frame on its far side to show that the picture carries on), not a shot
        for s in range(2, n - 1):
            value = strength[s]
            if value < CUT_MIN_DISTANCE:
                continue
            lo, hi = max(0, s - CUT_LOCAL_WINDOW), min(n, s + CUT_LOCAL_WINDOW + 1)
            around = np.r_[strength[max(1, lo) : max(1, s - CUT_SUPPRESS)], strength[s + CUT_SUPPRESS + 1 : hi]]
            level = float(np.median(around)) if len(around) else 0.0
            if value < CUT_LOCAL_RATIO * level:
                continue
            near = strength[max(1, s - CUT_SUPPRESS) : s + CUT_SUPPRESS + 1]
            if value < near.max() or (value == near.max() and cuts and s - cuts[-1] <= CUT_SUPPRESS):
                continue
            cuts.append(s)
        return cuts

    def dissolves(self, hard_cuts: list[int]) -> list[int]:
        """Middle frames of dissolves, away from hard cuts."""
        found: list[tuple[int, float]] = []
        for k, store in self._dissolve.items():
            if not store["distance"]:
                continue
            distance = np.asarray(store["distance"])
            w_before = np.asarray(store["w_before"])
            w_after = np.asarray(store["w_after"])
            residual = np.asarray(store["residual"])
            single = np.asarray(store["single"])
            contrast = np.asarray(self._contrast)
            mids = np.arange(len(distance))
            ends_ok = (mids - k >= 0) & (mids + k < len(contrast))
            dip = np.full(len(distance), np.nan)
            dip[ends_ok] = contrast[mids[ends_ok]] / np.sqrt(
                contrast[mids[ends_ok] - k] * contrast[mids[ends_ok] + k]
            ).clip(1e-6)
            with np.errstate(invalid="ignore", divide="ignore"):
                share_after = w_after / (w_before + w_after)
                weight_sum = w_before + w_after
                is_blend = (
                    (distance >= DISSOLVE_MIN_DISTANCE)
                    & (weight_sum > DISSOLVE_WEIGHT_SUM[0])
                    & (weight_sum < DISSOLVE_WEIGHT_SUM[1])
                    & (dip < DISSOLVE_MAX_CONTRAST_DIP)
                    & (residual < DISSOLVE_FIT_RATIO * single)
                    & (w_before > 0)
                    & (w_after > 0)
                    & (share_after > 0.15)
                    & (share_after < 0.85)
                )
            is_blend = np.nan_to_num(is_blend, nan=False).astype(bool)
            m = 0
            while m < len(is_blend):
                if not is_blend[m]:
                    m += 1
                    continue
                run_end = m
                while run_end + 1 < len(is_blend) and is_blend[run_end + 1]:
                    run_end += 1
                run = np.arange(m, run_end + 1)
                # the middle: the first frame where the incoming shot weighs at least half. The
                # contrast-dip test may end the run early, so look on as long as the blend fits.
                look = np.arange(m, min(run_end + k, len(is_blend) - 1) + 1)
                with np.errstate(invalid="ignore"):
                    fits = np.nan_to_num(residual[look] < DISSOLVE_FIT_RATIO * single[look], nan=False).astype(bool)
                    crossing = look[(share_after[look] >= 0.5) & fits]
                middle = int(crossing[0]) if len(crossing) else int(np.ceil((m + run_end) / 2))
                if run_end - m + 1 >= 2:  # a single blend-like frame is too weak evidence
                    found.append((middle, float(distance[run].max())))
                m = run_end + 1
        found.sort(key=lambda item: -item[1])
        chosen: list[int] = []
        max_k = max(DISSOLVE_HALF_WIDTHS)
        for middle, _ in found:
            if any(abs(middle - c) <= max_k for c in hard_cuts) or any(abs(middle - c) <= max_k for c in chosen):
                continue
            chosen.append(middle)
        return sorted(chosen)

    def finish(self) -> list[int]:
        """First frame of each shot (always starting with 0 when any frame was fed)."""
        if self.frame_count == 0:
            return []
        cuts = self.hard_cuts()
        return sorted({0, *cuts, *self.dissolves(cuts)})


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch on one intra-op thread for the duration, then restore the caller's setting.

    Analysis works on thumbnails and small analysis images, where thread start-up costs more
    than it saves; on a busy machine, two spinning threads per op made it 30x slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _iter_frame_chunks(frames: Any) -> Iterable[torch.Tensor]:
    if isinstance(frames, torch.Tensor):
        if frames.ndim == 3:
            frames = frames[None]
        yield frames
        return
    for item in frames:
        if isinstance(item, tuple):  # (first_frame_number, chunk) from restoration.io.iter_chunks
            item = item[1]
        if not isinstance(item, torch.Tensor):
            raise TypeError(f"expected tensors of frames, got {type(item).__name__}")
        yield item if item.ndim == 4 else item[None]


def detect_shots(frames: Any) -> list[int]:
    """First frame of each shot in ``frames``.

    ``frames``: a tensor (T, C, H, W) in [0, 1], or an iterable of such chunks (or single
    (C, H, W) frames, or the ``(first_frame, chunk)`` pairs of ``restoration.io.iter_chunks``).
    A dissolve is reported at its middle frame. Returns ``[]`` for no frames.
    """
    detector = ShotDetector()
    with single_threaded():
        for chunk in _iter_frame_chunks(frames):
            detector.feed(chunk)
        return detector.finish()
